"""Resumable training: RUN/last.ckpt, the state at the end of the last finished epoch.

At every epoch end (after validation and early stopping have looked at it) Lightning's own
checkpoint is written to a temporary name in the run folder and renamed onto `last.ckpt`, so
a run killed at any moment (SIGKILL, the OOM killer, a lost node) leaves either the previous
epoch's checkpoint or this one, never a torn file. It holds the model, the optimiser, the
loops (epoch, step), early stopping, the best weights so far (`BestWeights`) and the random
number generators (torch, numpy, Python), so that `wavfusion train --resume RUN` continues
to the numbers an uninterrupted run reaches with the same seed (deterministic CPU runs).

It is read back with `torch.load(weights_only=True)`: tensors and plain containers only,
nothing that runs code. A run that finishes deletes it (the model is then
model.safetensors + config.json); an interrupted one keeps it.
"""

from __future__ import annotations

import inspect
import os
import random
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

CHECKPOINT_NAME = "last.ckpt"


def checkpoint_path(out: Path) -> Path:
    return Path(out) / CHECKPOINT_NAME


def rng_state() -> dict[str, Any]:
    """torch, numpy and Python generator states, as tensors and plain values only."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(),
            "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)),
                      "position": int(position), "has_gauss": int(has_gauss),
                      "gauss": float(gauss)},
            "python": _tuples_to_lists(random.getstate())}


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    saved = state["numpy"]
    np.random.set_state((saved["kind"], saved["keys"].numpy().astype(np.uint32),
                         saved["position"], saved["has_gauss"], saved["gauss"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def _tuples_to_lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_tuples_to_lists(item) for item in value]
    return value


class EpochCheckpoint(L.Callback):
    """Writes RUN/last.ckpt atomically at every training epoch end; its own state is the
    random number generators' (restored when the checkpoint is loaded)."""

    def __init__(self, out: Path) -> None:
        self.path = checkpoint_path(out)

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        trainer.save_checkpoint(temporary)  # every rank calls it; rank 0 writes
        if trainer.is_global_zero:
            with open(temporary, "rb") as stream:  # on disk before the rename
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        trainer.strategy.barrier("last.ckpt")

    def state_dict(self) -> dict[str, Any]:
        return {"rng": rng_state()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        set_rng_state(state_dict["rng"])


def fit_arguments(out: Path, resume: bool) -> dict[str, Any]:
    """`trainer.fit` keyword arguments: ckpt_path (and weights_only where this Lightning
    takes it) when resuming from an existing checkpoint, else nothing."""
    path = checkpoint_path(out)
    if not (resume and path.is_file()):
        return {}
    arguments: dict[str, Any] = {"ckpt_path": str(path)}
    if "weights_only" in inspect.signature(L.Trainer.fit).parameters:
        arguments["weights_only"] = True
    return arguments


def keep_earlier_log(out: Path) -> Path | None:
    """Before a resumed fit: move logs/metrics.csv (the epochs run before the interruption)
    to logs/metrics-before-resume-N.csv, since Lightning's CSV logger starts a new file.
    Returns the new name, or None when there was no log."""
    log = Path(out) / "logs" / "metrics.csv"
    if not log.is_file():
        return None
    number = 1
    while (kept := log.with_name(f"metrics-before-resume-{number}.csv")).exists():
        number += 1
    os.replace(log, kept)
    return kept


def remove_checkpoint(out: Path) -> None:
    """A finished run needs no checkpoint (its model is model.safetensors)."""
    checkpoint_path(out).unlink(missing_ok=True)
    checkpoint_path(out).with_name(f".{CHECKPOINT_NAME}.tmp").unlink(missing_ok=True)
