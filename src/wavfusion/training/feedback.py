"""What a training run tells its user while it runs: one line per epoch, the epoch kept,
a bar that counts epochs from 1, and the baselines a score should be read against."""

from __future__ import annotations

import time
from collections import Counter

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar

from wavfusion.data.manifest import ManifestRow

MODALITY_COLUMNS = {"text": "a transcript", "visual": "a video"}


class EpochBar(TQDMProgressBar):
    """Lightning's bar, with `Epoch 3/20` (counted from 1) instead of `Epoch 2`."""

    def on_train_epoch_start(self, trainer: L.Trainer, *args) -> None:
        super().on_train_epoch_start(trainer, *args)
        self.train_progress_bar.set_description(
            f"Epoch {trainer.current_epoch + 1}/{trainer.max_epochs}")


class EpochLines(L.Callback):
    """Prints `epoch 3/20  train loss 1.234  val WF1 56.7  4.2 s` after each validation,
    with or without the bar (rank zero only)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.started = time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = trainer.callback_metrics
        loss = metrics.get("train_loss_epoch", metrics.get("train_loss"))
        parts = [f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}"]
        if loss is not None:
            parts.append(f"train loss {float(loss):.3f}")
        if "val_wf1" in metrics:
            parts.append(f"val WF1 {float(metrics['val_wf1']):.1f}")
        parts.append(f"{time.perf_counter() - self.started:.1f} s")
        print("  ".join(parts), flush=True)


def absent_modalities(rows: list[ManifestRow], modalities: list[str]) -> list[str]:
    """The enabled modalities that no row has (audio is always there)."""
    has = {"text": any(row.text for row in rows), "visual": any(row.video for row in rows)}
    return [name for name in modalities if name in has and not has[name]]


def warn_absent(rows: list[ManifestRow], modalities: list[str]) -> list[str]:
    """Print a warning per enabled modality that no row has; returns the effective ones."""
    absent = absent_modalities(rows, modalities)
    for name in absent:
        print(f"warning: modality {name!r} is enabled but no row has {MODALITY_COLUMNS[name]}: "
              "the model learns nothing from it (--modalities sets which are used)")
    return [name for name in modalities if name not in absent]


def baselines(train_rows: list[ManifestRow], scored_rows: list[ManifestRow],
              labels: list[str]) -> dict[str, float]:
    """Chance level (100 / classes) and the accuracy and weighted F1 of always answering the
    training set's commonest class, on `scored_rows`, in percent."""
    if not scored_rows or not train_rows:
        return {}
    majority = Counter(row.label for row in train_rows).most_common(1)[0][0]
    share = sum(row.label == majority for row in scored_rows) / len(scored_rows)
    # that class: precision = share, recall = 1; every other class scores 0
    return {"chance": 100.0 / len(labels), "majority_class": majority,
            "majority_accuracy": 100.0 * share,
            "majority_weighted_f1": 100.0 * share * 2 * share / (1 + share) if share else 0.0}
