"""`wavfusion ablate`: the paper's ablations (Tables 3-6) on any manifest, over seeds.

Each table varies one setting of the base configuration (the model and training options
given on the command line); everything else stays as given:

    3  modalities: A, T, V, A+T, A+V, A+T+V          WavFusionConfig.modalities
    4  visual encoder without / with LVC             use_lvc
    5  lambda of Eq 15: 0, 0.01, 0.1, 1, 10           margin_weight
    6  shallow/deep split: D/0 (concat) ... D-k/k     shallow_layers / deep_layers
       (D = the backbone's depth, k = min(4, D - 1): wav2vec2-base 12/0 ... 8/4 as in the
       paper; the bundled Whisper tiny.en 4/0 ... 1/3)

A run is one (configuration, seed): rows of different tables that are the same configuration
(the full model is a row of all four tables) share one run, as in the paper. Each finished
run is stored under DIR/runs/<table>-<setting>-seed<k>/ (named after the first row that needs
it) with `ablation-run.json` written last; a rerun skips it when its settings are unchanged.
A failed run is reported and the others still run. Caches: see ablation_cache.py.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wavfusion.config import MODALITIES, WavFusionConfig
from wavfusion.data.manifest import Manifest, read_manifest
from wavfusion.features.audio import backbone_depth
from wavfusion.training.ablation_cache import (
    cache_folders,
    extract_base_cache,
    resolved_split,
    shallow_depth,
)
from wavfusion.training.ablation_report import report
from wavfusion.training.reports import write_json, write_text
from wavfusion.training.run import TrainSettings, train

TABLES = (3, 4, 5, 6)
LETTERS = {"audio": "A", "text": "T", "visual": "V"}
TABLE3_MODALITIES = (("audio",), ("text",), ("visual",), ("audio", "text"), ("audio", "visual"),
                     MODALITIES)
TABLE5_LAMBDAS = (0.0, 0.01, 0.1, 1.0, 10.0)
TABLE6_MAX_DEEP = 4  # the paper's deepest split: 8/4 of wav2vec2-base's 12 layers
RUNS_FOLDER = "runs"
RUN_RECORD = "ablation-run.json"  # written last: its presence marks a finished run
MODEL_WEIGHTS = "model.safetensors"


@dataclass(frozen=True)
class Setting:
    """One row of one table: its name as the paper's table writes it, and what it changes
    in the base WavFusionConfig."""

    table: int
    position: int  # row number in the table (the paper's order)
    name: str  # "A+T", "without LVC", "0.01", "9/3"
    changes: tuple[tuple[str, Any], ...]

    @property
    def slug(self) -> str:
        """Folder-safe name: `table6-9-3`."""
        return f"table{self.table}-" + re.sub(r"[^A-Za-z0-9.+]+", "-", self.name).strip("-")

    def apply(self, base: WavFusionConfig) -> WavFusionConfig:
        return dataclasses.replace(base, **dict(self.changes))


@dataclass
class PlannedRun:
    """One training: a configuration and a seed, standing for one or more table rows."""

    name: str  # folder under DIR/runs
    config: WavFusionConfig
    seed: int
    rows: list[Setting] = field(default_factory=list)

    @property
    def title(self) -> str:
        return ", ".join(f"table {row.table} {row.name}" for row in self.rows) + \
            f", seed {self.seed}"


def table_settings(table: int, base: WavFusionConfig) -> list[Setting]:
    """The rows of `table` (3, 4, 5 or 6) for the base configuration, in the paper's order."""
    if table == 3:
        rows = [("+".join(LETTERS[m] for m in chosen), {"modalities": chosen})
                for chosen in TABLE3_MODALITIES]
    elif table == 4:
        rows = [("without LVC", {"use_lvc": False}), ("with LVC", {"use_lvc": True})]
    elif table == 5:
        rows = [(f"{value:g}", {"margin_weight": value}) for value in TABLE5_LAMBDAS]
    elif table == 6:
        depth = backbone_depth(base.audio_backbone)
        rows = [(f"{depth - deep}/{deep}" + (" (concat)" if deep == 0 else ""),
                 {"shallow_layers": depth - deep, "deep_layers": deep})
                for deep in range(min(TABLE6_MAX_DEEP, depth - 1) + 1)]
    else:
        raise ValueError(f"no ablation table {table}; choose from {TABLES}")
    return [Setting(table, position, name, tuple(changes.items()))
            for position, (name, changes) in enumerate(rows)]


def resolved(config: WavFusionConfig) -> WavFusionConfig:
    """`config` with its split written out (so that 3/1 given as deep_layers=1, as
    shallow_layers=3 or, on a 4-layer backbone, as neither is one configuration)."""
    shallow, deep = resolved_split(config)
    return dataclasses.replace(config, shallow_layers=shallow, deep_layers=deep)


def plan_runs(base: WavFusionConfig, tables: list[int], seeds: list[int]) -> list[PlannedRun]:
    """Every (configuration, seed) the tables need, seed by seed (all tables of the first
    seed come first); rows with the same configuration share one run."""
    base = resolved(base)
    rows = [setting for table in tables for setting in table_settings(table, base)]
    runs: dict[tuple[str, int], PlannedRun] = {}
    for seed in seeds:
        for setting in rows:
            config = resolved(setting.apply(base))
            key = (json.dumps(config.to_dict(), sort_keys=True), seed)
            if key not in runs:
                runs[key] = PlannedRun(f"{setting.slug}-seed{seed}", config, seed)
            runs[key].rows.append(setting)
    return list(runs.values())


def run_identity(run: PlannedRun, settings: TrainSettings) -> dict[str, Any]:
    """What makes a stored run reusable: its model, seed and every training setting that
    changes its numbers."""
    values = {name: getattr(settings, name) for name in (
        "epochs", "min_steps", "batch_size", "learning_rate", "weight_decay", "patience",
        "backbone_lr_scale", "warmup", "schedule", "label_smoothing", "time_mask",
        "channel_mask", "crop", "ema", "select",
        "class_weighting", "accumulate", "precision", "raw_audio")}
    return {"manifest": str(settings.manifest), "seed": run.seed,
            "model": run.config.to_dict(), **values}


def run_ablations(settings: TrainSettings, tables: list[int], seeds: list[int], out: Path,
                  manifest: Manifest | None = None, *, keep_models: bool = False,
                  announce: Callable[[str], None] = print) -> dict[str, Any]:
    """Train every run of `tables` for each seed (skipping runs finished before), then write
    DIR/ablation.md and DIR/ablation.json; returns the JSON document (`tables`: per table the
    rows {setting, acc_mean, acc_std, wf1_mean, wf1_std, n}; `markdown`: ablation.md).

    `settings` is the base setup (manifest, cache, epochs, batch size, learning rate, model);
    its `out` and `seed` are replaced per run. The feature cache (settings.cache, default
    DIR/cache) is extracted once; Table 6 adds one audio-only derived cache per other split.
    `keep_models`: keep each run's model.safetensors (default: deleted once evaluated; the
    tables need only the metrics). `announce`: receives one line per run (progress)."""
    unknown = sorted(set(tables) - set(TABLES))
    if unknown or not tables or not seeds:
        raise ValueError(f"tables must be a non-empty subset of {TABLES} (got {tables}) and "
                         f"seeds non-empty (got {seeds})")
    tables = sorted(set(tables))
    out = Path(out)
    manifest = manifest or read_manifest(settings.manifest)
    plan = plan_runs(settings.model, tables, seeds)
    announce(f"ablate: tables {', '.join(map(str, tables))}; seeds {seeds}; {len(plan)} runs "
             f"({sum(len(run.rows) for run in plan)} table rows)")
    base_cache = extract_base_cache(manifest, resolved(settings.model),
                                    settings.cache or out / "cache", settings.progress,
                                    settings.extraction)
    caches = cache_folders(base_cache, manifest, [run.config for run in plan], out, announce)
    results: dict[str, dict[str, Any]] = {}
    failed: list[dict[str, str]] = []
    for number, run in enumerate(plan, 1):
        started = time.perf_counter()
        prefix = f"[{number}/{len(plan)}] {run.title}:"
        try:
            results[run.name], reused = run_once(
                run, settings, manifest, out, caches[shallow_depth(run.config)], keep_models)
        except Exception as error:  # noqa: BLE001 - reported (line, JSON, exit status)
            failed.append({"run": run.name, "error": f"{type(error).__name__}: {error}",
                           "traceback": traceback.format_exc()})
            announce(f"{prefix} FAILED after {time.perf_counter() - started:.1f} s "
                     f"({failed[-1]['error']})")
            continue
        announce(f"{prefix} {result_line(results[run.name])}"
                 + (" (finished before, skipped)" if reused else ""))
    document = report(plan, results, failed, tables, seeds, settings, manifest)
    document["caches"] = {str(depth): str(folder) for depth, folder in caches.items()}
    write_text(out / "ablation.md", document["markdown"])
    write_json(out / "ablation.json", document)
    if failed:
        announce(f"{len(failed)} of {len(plan)} runs failed: "
                 + "; ".join(f"{item['run']}: {item['error']}" for item in failed))
    return document


def run_once(run: PlannedRun, settings: TrainSettings, manifest: Manifest, out: Path,
              cache: Path, keep_models: bool) -> tuple[dict[str, Any], bool]:
    """Train `run` (or read it back when finished before): returns (record, reused)."""
    folder = out / RUNS_FOLDER / run.name
    identity = run_identity(run, settings)
    record_path = folder / RUN_RECORD
    if record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if record.get("identity") == identity:
            return record, True
    started, cpu_started = time.perf_counter(), time.process_time()
    run_settings = dataclasses.replace(settings, out=folder, cache=cache, seed=run.seed,
                                       model=run.config, progress=False)
    metrics = train(run_settings, manifest=manifest)
    if metrics.get("interrupted"):  # Ctrl-C: a partial run is not a finished one
        raise KeyboardInterrupt(f"{run.name} interrupted")
    if not keep_models:
        (folder / MODEL_WEIGHTS).unlink(missing_ok=True)
    record = {"identity": identity, "rows": [[row.table, row.name] for row in run.rows],
              "seconds": round(time.perf_counter() - started, 2),
              "cpu_seconds": round(time.process_time() - cpu_started, 2), **metrics}
    write_json(record_path, record)
    return record, False


def result_line(record: dict[str, Any]) -> str:
    split = "test" if "test" in record else "val"
    metrics = record[split]
    return (f"{record['seconds']:.1f} s ({record['cpu_seconds']:.1f} s CPU), {split} "
            f"ACC {metrics['accuracy']:.2f} WF1 {metrics['weighted_f1']:.2f}")
