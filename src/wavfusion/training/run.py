"""`wavfusion train` / `evaluate`: one run = manifest + cache + settings -> a RUN folder.

RUN/ holds config.json + model.safetensors (the best validation weighted-F1 weights),
metrics.json (val and test), confusion.png, README.md (the model card, card.py), logs/ (CSV;
TensorBoard when installed), run.json (every setting), command.txt (the exact command line)
and, while training, last.ckpt (the state after the last finished epoch, checkpoint.py).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from wavfusion import WavFusion, WavFusionConfig
from wavfusion.data.datasets.labels import label_problem
from wavfusion.data.manifest import Manifest, ManifestRow, read_manifest
from wavfusion.features.settings import CacheSettings
from wavfusion.quiet import quiet_third_party
from wavfusion.training.augment import FeatureMasking
from wavfusion.training.averaging import WeightAverage
from wavfusion.training.card import write_model_card
from wavfusion.training.checkpoint import (
    EpochCheckpoint,
    checkpoint_path,
    fit_arguments,
    keep_earlier_log,
    remove_checkpoint,
)
from wavfusion.training.datamodule import EmotionDataModule
from wavfusion.training.dataset import label_names
from wavfusion.training.features import open_or_extract_cache, report_left_out, usable_rows
from wavfusion.training.feedback import EpochBar, EpochLines, baselines, warn_absent
from wavfusion.training.metrics import classification_metrics
from wavfusion.training.module import WavFusionModule, predict
from wavfusion.training.recipe import SELECTIONS, epochs_for
from wavfusion.training.reports import plot_confusion, write_json
from wavfusion.training.settings import TrainSettings


class BestWeights(L.Callback):
    """Keeps (in memory) the weights of the best validation epoch so far: highest val_wf1,
    lowest val_loss, or (select="last") the latest."""

    def __init__(self, select: str = "val_wf1") -> None:
        if select not in SELECTIONS:
            raise ValueError(f"unknown selection {select!r}; choose from {list(SELECTIONS)}")
        self.select = select
        self.best_score = -1.0
        self.best_epoch = -1
        self.best_loss = float("inf")
        self.state: dict[str, torch.Tensor] | None = None
        self.epochs_validated = 0

    def on_validation_end(self, trainer: L.Trainer, module: WavFusionModule) -> None:
        if trainer.sanity_checking:
            return
        self.epochs_validated += 1
        score = float(trainer.callback_metrics.get("val_wf1", -1.0))
        loss = float(trainer.callback_metrics.get("val_loss", float("inf")))
        better = {"val_wf1": score > self.best_score, "last": True,
                  "val_loss": self.state is None or loss < self.best_loss}[self.select]
        if better:
            self.best_score, self.best_epoch = score, trainer.current_epoch
            self.best_loss = loss
            # the frozen prefix never changes: only what trains (and buffers) is kept
            frozen = {name for name, p in module.model.named_parameters() if not p.requires_grad}
            self.state = {k: v.detach().cpu().clone() for k, v in module.model.state_dict().items()
                          if k not in frozen}

    def kept_line(self) -> str:
        """What was kept, in one line (printed at the end of a run)."""
        which = {"val_wf1": f"best val WF1 {self.best_score:.1f}",
                 "val_loss": f"lowest val loss {self.best_loss:.3f}, val WF1 "
                             f"{self.best_score:.1f}",
                 "last": f"the last; val WF1 {self.best_score:.1f}"}[self.select]
        return f"kept epoch {self.best_epoch + 1} of {self.epochs_validated} run ({which})"

    def state_dict(self) -> dict[str, Any]:  # part of last.ckpt (resume)
        return {"best_score": self.best_score, "best_epoch": self.best_epoch,
                "best_loss": self.best_loss,
                "epochs_validated": self.epochs_validated, "state": self.state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best_score = state_dict["best_score"]
        self.best_epoch = state_dict["best_epoch"]
        self.best_loss = state_dict["best_loss"]
        self.epochs_validated = state_dict["epochs_validated"]
        self.state = state_dict["state"]

    def restore(self, model: WavFusion) -> None:
        """Load the kept weights into `model` (whose frozen prefix is the one trained)."""
        model.load_state_dict({**model.state_dict(), **self.state})


def _class_weights(rows: list[ManifestRow], labels: list[str]) -> list[float]:
    counts = np.array([sum(r.label == name for r in rows) for name in labels], dtype=np.float64)
    weights = counts.sum() / np.maximum(counts, 1) / len(labels)
    return weights.tolist()


def train(settings: TrainSettings, manifest: Manifest | None = None,
          rows: list[ManifestRow] | None = None) -> dict[str, Any]:
    """Train, keep the best validation model, evaluate it on val and test; returns metrics.
    `rows` overrides the manifest's rows (cross-validation folds reassign `split`)."""
    quiet_third_party()
    finished = finished_run(settings)
    if finished is not None:  # --resume of a run that has finished: its numbers
        return finished
    manifest = manifest or read_manifest(settings.manifest)
    rows = [r for r in (rows if rows is not None else manifest.rows)
            if label_problem(r.label) is None]
    _require_splits(rows, settings.manifest, ("train", "val"))
    L.seed_everything(settings.seed, workers=True, verbose=False)
    labels = label_names(rows)
    config = dataclasses.replace(copy.deepcopy(settings.model), labels=labels,
                                 num_classes=len(labels))
    effective = warn_absent(rows, list(config.modalities))
    model = WavFusion(config)
    cache, raw_audio = open_or_extract_cache(
        manifest, model, settings.cache or settings.out / "cache", settings.raw_audio,
        progress=settings.progress, options=settings.extraction, rows=rows,
    )
    rows, left_out = usable_rows(manifest, rows, cache)
    report_left_out(left_out, settings.out)
    _require_splits(rows, settings.manifest, ("train", "val"))
    data = EmotionDataModule(manifest, rows, labels, cache, raw_audio, settings.batch_size,
                             settings.num_workers)
    module = WavFusionModule(
        model.config, settings.learning_rate, settings.weight_decay,
        _class_weights(rows, labels) if settings.class_weighting else None, model=model,
        backbone_lr_scale=settings.backbone_lr_scale, warmup=settings.warmup,
        schedule=settings.schedule, label_smoothing=settings.label_smoothing,
        masking=FeatureMasking(settings.time_mask, settings.channel_mask,
                               crop=settings.crop),
    )
    best = BestWeights(settings.select)
    bar = [EpochBar()] if settings.progress else []
    # Log every 5 batches, or once per epoch when an epoch is shorter (Lightning warns then).
    log_every = max(1, min(5, -(-len(data.datasets["train"]) // settings.batch_size)))
    resume_from = fit_arguments(settings.out, settings.resume)
    if resume_from:
        keep_earlier_log(settings.out)
    trainer = L.Trainer(
        max_epochs=epochs_for(settings.epochs, settings.min_steps, len(data.datasets["train"]),
                              settings.batch_size, settings.accumulate),
        accelerator=settings.accelerator, devices=settings.devices,
        strategy=_strategy(settings.strategy), precision=settings.precision,
        accumulate_grad_batches=settings.accumulate, enable_checkpointing=False,
        callbacks=[*_callbacks(settings, best, [EpochLines(), *bar]),
                   EpochCheckpoint(settings.out)],
        logger=_loggers(settings.out), enable_progress_bar=settings.progress,
        enable_model_summary=False, log_every_n_steps=log_every, num_sanity_val_steps=0,
        deterministic="warn",
    )
    _fit_keeping_best_on_interrupt(trainer, module, data, best, resume_from)
    if not trainer.is_global_zero:
        return {}
    if best.state is not None:
        best.restore(model)
        print(best.kept_line())
    model.save_pretrained(settings.out)
    results = {"best_epoch": best.best_epoch, "epochs_run": best.epochs_validated,
               "interrupted": trainer.interrupted}
    train_rows = [row for row in rows if row.split == "train"]
    results.update(evaluate_splits(model, data, labels, settings.out, train_rows=train_rows))
    _write_run_record(settings, model.config, raw_audio, cache.settings, effective, results)
    baseline = _probe_baseline(settings, manifest, rows, cache.folder)
    if baseline is not None:
        results["probe"] = baseline
    write_model_card(settings, model.config, cache.settings, rows, results)
    if not trainer.interrupted:  # an interrupted run keeps last.ckpt: --resume continues it
        remove_checkpoint(settings.out)
    return results


def finished_run(settings: TrainSettings) -> dict[str, Any] | None:
    """With settings.resume: the results of a run in settings.out that finished (run.json
    records them and no last.ckpt is left), else None."""
    if not settings.resume or checkpoint_path(settings.out).is_file():
        return None
    try:
        record = json.loads((settings.out / "run.json").read_text(encoding="utf-8"))
        metrics = json.loads((settings.out / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    result = record.get("result")
    if not result or result.get("interrupted"):
        return None
    return {**result, **metrics}


def _probe_baseline(settings: TrainSettings, manifest: Manifest, rows: list[ManifestRow],
                    cache_folder: Path) -> dict[str, Any] | None:
    """The probe's scores on this cache and these splits: run now (settings.probe, into
    RUN/probe), else the record an earlier `wavfusion probe` left in the cache, else None."""
    from wavfusion.training.probe import ProbeSettings, probe, recorded_probe

    if settings.probe:
        probe(ProbeSettings(manifest=settings.manifest, out=settings.out / "probe",
                            cache=cache_folder, progress=settings.progress,
                            model=settings.model), manifest=manifest, rows=rows)
    record = recorded_probe(cache_folder, rows)
    return None if record is None else {"run": record["run"], **record["scores"]}


def _callbacks(settings: TrainSettings, best: BestWeights,
               others: list[L.Callback] = ()) -> list[L.Callback]:
    """Selection, `others`, early stopping on the selected metric (none for "last" or
    patience 0), then weight averaging: it swaps the average in for validation and must run
    after the callbacks that read the weights at the end of validation."""
    callbacks: list[L.Callback] = [best, *others]
    mode = SELECTIONS[settings.select]
    if mode is not None and settings.patience > 0:
        callbacks.append(L.pytorch.callbacks.EarlyStopping(settings.select, mode=mode,
                                                           patience=settings.patience))
    if settings.ema:
        callbacks.append(WeightAverage(settings.ema))
    return callbacks


def _fit_keeping_best_on_interrupt(trainer: L.Trainer, module, data, best: BestWeights,
                                   arguments: dict[str, Any]) -> None:
    """trainer.fit (`arguments`: the checkpoint to resume from, if any); on Ctrl-C (Lightning
    then exits) the best epoch so far is kept, saved and evaluated like a finished run,
    instead of hours of training being lost."""
    try:
        trainer.fit(module, datamodule=data, **arguments)
    except SystemExit:
        if not trainer.interrupted or best.state is None:
            raise
        print(f"interrupted: keeping the best epoch so far (epoch {best.best_epoch}, "
              f"val WF1 {best.best_score:.2f})", file=sys.stderr)


def evaluate_splits(model: WavFusion, data: EmotionDataModule, labels: list[str],
                    out: Path, splits=("val", "test"), train_rows: list[ManifestRow] = ()
                    ) -> dict[str, Any]:
    """metrics.json (+ confusion.png of the last split evaluated) for each non-empty split,
    with the chance and majority-class baselines (the majority of `train_rows`)."""
    results: dict[str, Any] = {}
    for split in splits:
        if len(data.datasets[split]) == 0:
            continue
        probabilities, truth, _ = predict(model, data.loader(split))
        known = truth >= 0
        results[split] = classification_metrics(truth[known],
                                                probabilities[known].argmax(-1), labels)
        results[split]["baselines"] = baselines(list(train_rows), data.datasets[split].rows,
                                                labels)
        plot_confusion(results[split]["confusion_matrix"], labels, out / "confusion.png",
                       f"{split}: WF1 {results[split]['weighted_f1']:.1f}")
    write_json(out / "metrics.json", results)
    return results


def evaluate(model_folder: Path, manifest_path: Path, split: str, cache: Path | None,
             out: Path | None, batch_size: int = 16, progress: bool = True,
             device: str = "cpu") -> dict[str, Any]:
    """`wavfusion evaluate`: a saved RUN on any manifest split -> metrics.json of that shape."""
    quiet_third_party()
    model = WavFusion.from_pretrained(model_folder).to(device)
    manifest = read_manifest(manifest_path)
    rows = [r for r in manifest.rows if label_problem(r.label) is None and r.split == split]
    if not rows:
        raise ValueError(f"{manifest_path}: no labelled rows with split={split!r}")
    labels = model.config.labels
    unknown = sorted({r.label for r in rows} - set(labels))
    if unknown:
        raise ValueError(f"{manifest_path}: labels {unknown} unknown to the model ({labels})")
    out = out or model_folder / f"evaluate-{split}"
    cache_folder, raw_audio = open_or_extract_cache(
        manifest, model, cache or out / "cache", False, progress=progress, rows=rows)
    rows, left_out = usable_rows(manifest, rows, cache_folder)
    report_left_out(left_out, out)
    _require_splits(rows, manifest_path, (split,))
    data = EmotionDataModule(manifest, rows, labels, cache_folder, raw_audio, batch_size)
    train_rows = [row for row in manifest.rows if row.split == "train" and row.label in labels]
    return evaluate_splits(model, data, labels, out, splits=(split,), train_rows=train_rows)


def _require_splits(rows: list[ManifestRow], manifest: Path, splits: tuple[str, ...]) -> None:
    for split in splits:
        if not any(r.split == split for r in rows):
            raise ValueError(f"{manifest}: no usable labelled rows with split={split!r}")


def _strategy(name: str) -> str:
    """DDP must look for unused parameters: a deep layer's audio-only self-attention runs only
    for batches holding a sample with neither text nor video, so ranks can differ in which
    parameters get gradients (plain DDP then waits forever for the missing ones)."""
    return "ddp_find_unused_parameters_true" if name == "ddp" else name


def _loggers(out: Path) -> list:
    loggers: list = [L.pytorch.loggers.CSVLogger(out, name="logs", version="")]
    try:
        import tensorboard  # noqa: F401

        loggers.append(L.pytorch.loggers.TensorBoardLogger(out, name="logs", version=""))
    except ImportError:
        pass
    return loggers


def _write_run_record(settings: TrainSettings, config: WavFusionConfig, raw_audio: bool,
                      features: CacheSettings, effective_modalities: list[str],
                      results: dict[str, Any]) -> None:
    """run.json: every setting (`model`: the config as trained, labels filled in), plus
    `features`, the CacheSettings of the frozen features the model was trained on (encoder
    names and fingerprints, frame sampling, ...): what `wavfusion predict` needs to encode a
    new clip exactly as training did."""
    record = dataclasses.asdict(dataclasses.replace(settings, model=config))
    record["raw_audio"] = raw_audio
    record["effective_modalities"] = effective_modalities  # enabled and present in some row
    record["features"] = features.to_dict()
    record["result"] = {k: results[k] for k in ("best_epoch", "epochs_run", "interrupted")}
    write_json(settings.out / "run.json", {k: str(v) if isinstance(v, Path) else v
                                           for k, v in record.items()})
    command = " ".join(shlex.quote(part) for part in ["wavfusion", *sys.argv[1:]])
    (settings.out / "command.txt").write_text(command + "\n", encoding="utf-8")
