"""Training recipes against the frozen-feature probe on unseen RAVDESS speakers.

Speaker-independent folds over actors 01-20 (../shared/data), one feature cache for all:
    A   train actors 1-14, val 15-16, test 17-20
    B   train actors 7-20, val 5-6,   test 1-4
    S   (small, the size of the corpora users bring) train 1-4, val 5-6, test 7-20
For each recipe, fold and seed: `train` (CPU minutes measured) and, once per fold, `probe`.
Every epoch the test WF1 is recorded too, next to val WF1 and val loss, so that one run also
shows what selecting the epoch by val WF1, by val loss or taking the last one would give
(measurement only: the recipe's own selection is what `train` returns).

    python benchmarks/generalisation.py --recipes default,old --folds A,B --seeds 0,1,2 \\
        [--manifest M --cache C] [--work DIR] [--record]

Results accumulate in WORK/results.jsonl (a rerun skips what is done); --record writes
docs/benchmarks/generalisation.json from it (default recipe vs probe per fold and seed).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import resource
import sys
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch

from wavfusion.data.manifest import read_manifest
from wavfusion.training import run as training_run
from wavfusion.training.averaging import WeightAverage
from wavfusion.training.module import predict
from wavfusion.training.probe import ProbeSettings, probe
from wavfusion.training.run import TrainSettings, train

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
FOLDS = {"A": ({*range(1, 15)}, {15, 16}), "B": ({*range(7, 21)}, {5, 6}),
         "S": ({1, 2, 3, 4}, {5, 6})}  # (train actors, val actors); the rest is test
# Every recipe names what it sets, against the defaults of the time it was measured, so that
# a default changed since does not change a recorded recipe.
OLD = {"epochs": 20, "learning_rate": 1e-4, "patience": 5, "backbone_lr_scale": 1.0,
       "warmup": 0.0, "schedule": "constant", "label_smoothing": 0.0,
       "select": "val_wf1"}  # before the recipe work
GROUPS = {"learning_rate": 1e-3, "backbone_lr_scale": 0.1, "warmup": 0.1, "schedule": "cosine",
          "patience": 0, "label_smoothing": 0.0, "select": "val_wf1"}  # two rates, cosine
COSINE = {**GROUPS, "epochs": 12}
# epochs by steps (epochs None): 12, or more to make min_steps (fold S: 15 steps an epoch)
STEPS600 = {**GROUPS, "epochs": None, "min_steps": 600}
RECIPES = {
    "default": {},  # TrainSettings' defaults as they are now (= "steps600-ls-last")
    "old": OLD,
    "old-groups": {**OLD, "learning_rate": 1e-3, "backbone_lr_scale": 0.1},
    "cosine": COSINE,
    "cosine-ema": {**COSINE, "ema": 0.99},
    "cosine-ls": {**COSINE, "label_smoothing": 0.1},
    "cosine-drop": {**COSINE, "dropout": 0.3},
    "cosine-3e-4": {**COSINE, "learning_rate": 3e-4, "backbone_lr_scale": 0.3},
    "cosine-e40": {**COSINE, "epochs": 40},
    "steps600": STEPS600,
    "steps1000": {**STEPS600, "min_steps": 1000},
    "e19-steps600": {**STEPS600, "epochs": 19},  # 1007 steps on 840 clips
    "steps600-mask": {**STEPS600, "time_mask": 0.1, "channel_mask": 0.1},
    # up to half of each clip's frames cut off its ends, as a long recording's segment is heard
    "steps600-crop": {**STEPS600, "crop": 0.5},
    "steps600-ls": {**STEPS600, "label_smoothing": 0.1},
    "steps600-ls-last": {**STEPS600, "label_smoothing": 0.1, "select": "last"},  # the default
    "steps600-ema": {**STEPS600, "ema": 0.995},
    "ls-last-ema": {**STEPS600, "label_smoothing": 0.1, "select": "last", "ema": 0.995},
    # two trainable deep layers of Whisper tiny's four (2 frozen): benchmarks/layer_probe.py
    "steps600-deep2": {**STEPS600, "deep_layers": 2},
    # the crop on the waveform: no audio cache, the frozen prefix hears the cropped clip
    "steps600-rawcrop": {**STEPS600, "crop": 0.5, "raw_audio": True},
    "ls-rawcrop": {**STEPS600, "label_smoothing": 0.1, "crop": 0.5, "raw_audio": True},
}


MODEL_KEYS = ("dropout", "deep_layers")  # recipe keys that are WavFusionConfig's


class TestCurve(L.Callback):
    """Test WF1 at every `every`-th validation and the last (measurement only), with the val
    metrics beside it; `cpu` counts its own CPU seconds, left out of a run's cost."""

    def __init__(self, every: int = 1) -> None:
        self.curve: list[dict] = []
        self.every = every
        self.cpu = 0.0

    def on_validation_end(self, trainer, module) -> None:
        last = trainer.current_epoch + 1 == trainer.max_epochs
        if trainer.sanity_checking or (trainer.current_epoch % self.every and not last):
            return
        started = cpu_seconds()
        # the test loader draws its seed from torch's generator: restored after, so that a run
        # with a curve trains exactly as one without
        state = torch.get_rng_state()
        try:
            self._measure(trainer, module)
        finally:
            torch.set_rng_state(state)
            self.cpu += cpu_seconds() - started

    def _measure(self, trainer, module) -> None:
        data = trainer.datamodule
        probabilities, truth, _ = predict(module.model, data.loader("test"))
        from wavfusion.training.metrics import classification_metrics

        names = module.model.config.labels
        test = classification_metrics(truth, probabilities.argmax(-1), names)["weighted_f1"]
        metrics = trainer.callback_metrics
        self.curve.append({"epoch": trainer.current_epoch, "test_wf1": test,
                           "val_wf1": float(metrics["val_wf1"]),
                           "val_loss": float(metrics["val_loss"])})


def fold_rows(manifest, fold: str):
    train_actors, val_actors = FOLDS[fold]
    rows = copy.deepcopy(manifest.rows)
    for row in rows:
        actor = int(row.speaker.split("_")[-1])
        row.split = ("train" if actor in train_actors else "val" if actor in val_actors
                     else "test")
    return rows


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_one(manifest, cache: Path, work: Path, recipe: str, fold: str, seed: int,
            curve_every: int = 1) -> dict:
    changes = dict(RECIPES[recipe])
    model_changes = {k: changes.pop(k) for k in list(changes) if k in MODEL_KEYS}
    if "deep_layers" in model_changes:  # another prefix: its own cache beside the given one
        cache = cache.parent / f"{cache.name}-deep{model_changes['deep_layers']}"
    base = TrainSettings(manifest=manifest.path, out=work / "runs" / f"{recipe}-{fold}-{seed}",
                         cache=cache, seed=seed, progress=False)
    settings = dataclasses.replace(base, **changes,
                                   model=dataclasses.replace(base.model, **model_changes))
    curve = TestCurve(curve_every)
    original = training_run._callbacks

    def with_curve(*args):
        callbacks = original(*args)
        averaging = [c for c in callbacks if isinstance(c, WeightAverage)]
        return [c for c in callbacks if c not in averaging] + [curve] + averaging

    training_run._callbacks = with_curve
    start_cpu, start = cpu_seconds(), time.perf_counter()
    try:
        results = train(settings, manifest=manifest, rows=fold_rows(manifest, fold))
    finally:
        training_run._callbacks = original
    return {"recipe": recipe, "fold": fold, "seed": seed, "settings": RECIPES[recipe],
            "test_wf1": results["test"]["weighted_f1"], "val_wf1": results["val"]["weighted_f1"],
            "best_epoch": results["best_epoch"], "epochs_run": results["epochs_run"],
            "cpu_min": (cpu_seconds() - start_cpu - curve.cpu) / 60,
            "curve_cpu_min": curve.cpu / 60,
            "wall_min": (time.perf_counter() - start) / 60, "curve": curve.curve}


def run_probe(manifest, cache: Path, work: Path, fold: str) -> dict:
    start_cpu = cpu_seconds()
    results = probe(ProbeSettings(manifest=manifest.path, out=work / "runs" / f"probe-{fold}",
                                  cache=cache, progress=False),
                    manifest=manifest, rows=fold_rows(manifest, fold))
    return {"recipe": "probe", "fold": fold, "seed": 0, "C": results["C"],
            "test_wf1": results["test"]["weighted_f1"], "val_wf1": results["val"]["weighted_f1"],
            "cpu_min": (cpu_seconds() - start_cpu) / 60}


def load(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def summary(entries: list[dict]) -> str:
    lines = ["| recipe | fold | seeds | test WF1 per seed | mean ± std | CPU min/run |",
             "|---|---|---|---|---|---|"]
    keys = sorted({(e["recipe"], e["fold"]) for e in entries})
    for recipe, fold in keys:
        found = sorted((e for e in entries if (e["recipe"], e["fold"]) == (recipe, fold)),
                       key=lambda e: e["seed"])
        values = [e["test_wf1"] for e in found]
        lines.append(f"| {recipe} | {fold} | {','.join(str(e['seed']) for e in found)} | "
                     f"{', '.join(f'{v:.1f}' for v in values)} | {np.mean(values):.1f} ± "
                     f"{np.std(values):.1f} | {np.mean([e['cpu_min'] for e in found]):.1f} |")
    return "\n".join(lines)


def last_epoch_runs(entries: list[dict], source: str, target: str) -> list[dict]:
    """Runs of `target` (= `source` with select "last") read from `source`'s runs where
    `target` has none of its own: the test curve restores torch's generator and always scores
    the last epoch, so its last point is what select "last" keeps. Marked `read_from`."""
    if RECIPES[target] != {**RECIPES[source], "select": "last"}:
        raise SystemExit(f"{target} is not {source} with select 'last'")
    done = {(e["fold"], e["seed"]) for e in entries if e["recipe"] == target}
    return [{**e, "recipe": target, "settings": RECIPES[target], "read_from": source,
             "test_wf1": e["curve"][-1]["test_wf1"], "best_epoch": e["curve"][-1]["epoch"]}
            for e in entries if e["recipe"] == source and (e["fold"], e["seed"]) not in done
            and e["curve"] and e["curve"][-1]["epoch"] + 1 == e["epochs_run"]]


def record_table(entries: list[dict], command: str, default: str = "default") -> None:
    """`default`: the recipe that the training defaults are (its rows are the table's)."""
    from results import record

    probes = {e["fold"]: e for e in entries if e["recipe"] == "probe"}
    rows = []
    for entry in sorted((e for e in entries if e["recipe"] == default),
                        key=lambda e: (e["fold"], e["seed"])):
        baseline = probes.get(entry["fold"])
        rows.append([entry["fold"], entry["seed"], round(entry["test_wf1"], 2),
                     round(baseline["test_wf1"], 2) if baseline else "",
                     round(entry["test_wf1"] - baseline["test_wf1"], 2) if baseline else "",
                     round(entry["cpu_min"], 1),
                     f"last epoch of the {entry['read_from']} run" if "read_from" in entry
                     else "own run"])
    record("generalisation", "Default `train` vs `probe`, unseen RAVDESS actors (test WF1)",
           command, ["fold", "seed", "train WF1", "probe WF1", "train - probe", "CPU min",
                     "run"],
           rows, notes="Folds: A train actors 1-14, val 15-16, test 17-20; B train 7-20, "
           "val 5-6, test 1-4; S train 1-4, val 5-6, test 7-20. Every recipe measured: "
           "WORK/results.jsonl and the closing note of the recipe work.\n\n" + summary(entries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(
        "WAVFUSION_DATA", DEFAULT_DATA)))
    parser.add_argument("--manifest", type=Path, help="RAVDESS manifest (default: prepared "
                        "into WORK from --data)")
    parser.add_argument("--cache", type=Path, help="feature cache (default: WORK/cache)")
    parser.add_argument("--work", type=Path, default=Path("generalisation-work"))
    parser.add_argument("--recipes", default="default")
    parser.add_argument("--folds", default="A,B")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--curve-every", type=int, default=1, help="test WF1 every N epochs "
                        "(and the last); its CPU time is left out of a run's cost")
    parser.add_argument("--last-of", default="", help="SOURCE:TARGET,...: also report "
                        "TARGET (SOURCE with select 'last') from SOURCE's runs' last epoch")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--as-default", default="default", help="the recipe whose runs "
                        "--record reports as the default (one with the same settings)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    manifest_path = args.manifest
    if manifest_path is None:
        from wavfusion.data.datasets.ravdess import prepare_ravdess
        from wavfusion.data.manifest import write_manifest

        manifest_path = args.work / "ravdess.csv"
        result = prepare_ravdess(args.data / "ravdess-speech-16k", manifest_path)
        write_manifest(manifest_path, result.rows)
    manifest = read_manifest(manifest_path)
    cache = args.cache or args.work / "cache"
    path = args.work / "results.jsonl"
    for fold in args.folds.split(","):
        done = {(e["recipe"], e["fold"], e["seed"]) for e in load(path)}
        if ("probe", fold, 0) not in done:
            entry = run_probe(manifest, cache, args.work, fold)
            with path.open("a") as stream:
                stream.write(json.dumps(entry) + "\n")
        for recipe in args.recipes.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                if (recipe, fold, seed) in {(e["recipe"], e["fold"], e["seed"])
                                            for e in load(path)}:
                    continue
                entry = run_one(manifest, cache, args.work, recipe, fold, seed, args.curve_every)
                with path.open("a") as stream:
                    stream.write(json.dumps(entry) + "\n")
                print(f"{recipe} fold {fold} seed {seed}: test WF1 {entry['test_wf1']:.2f} "
                      f"(epoch {entry['best_epoch']}), {entry['cpu_min']:.1f} CPU min",
                      flush=True)
    entries = load(path)
    for pair in filter(None, args.last_of.split(",")):
        entries += last_epoch_runs(entries, *pair.split(":"))
    print(summary(entries))
    if args.record:
        record_table(entries, "python benchmarks/generalisation.py " + " ".join(sys.argv[1:]),
                     args.as_default)


if __name__ == "__main__":
    main()
