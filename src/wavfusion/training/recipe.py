"""How WavFusion is trained (the paper leaves it open): parameter groups, the learning-rate
schedule and weight averaging. The model and its losses (Eq 1-15) are not changed here.

- parameter groups: the deep layers' pretrained weights (attention, feed-forward, norms of
  the backbone's own layers, including the cross-attentions initialised from its
  self-attention) learn at `learning_rate * backbone_lr_scale`; what is new (classifier,
  text/visual encoders, shared encoder, context projections, gates) at `learning_rate`;
- schedule: linear warm-up over the first `warmup` fraction of the steps, then constant,
  cosine or linear decay to zero at the last step of `epochs`;
- weight averaging (averaging.py): an exponential moving average of the trainable weights
  (per step), used for every validation and for the saved model, instead of the raw
  weights of one epoch;
- selection: the epoch kept, by val weighted F1, val loss, or the last one;
- length: `epochs` when given; by default DEFAULT_EPOCHS, or more when those would make
  fewer than `min_steps` optimiser steps, so that a small corpus trains as many steps as a
  large one (`epochs_for`);
- augmentation: SpecAugment-style masking of the cached prefix features (augment.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line reads the constants here without loading torch
    from torch import nn

SCHEDULES = ("constant", "cosine", "linear")
DEFAULT_EPOCHS = 12  # when none are given (636 steps on 840 clips in batches of 16)
SELECTIONS = {"val_wf1": "max", "val_loss": "min", "last": None}
"""How the kept epoch is chosen (and what early stopping watches): best val weighted F1,
lowest val loss, or simply the last epoch run."""
NEW_IN_BACKBONE = ("context_projection", "fusion.gate")
"""Parameters inside the backbone's deep layers that WavFusion adds (no pretrained value)."""


def parameter_groups(model: nn.Module, learning_rate: float, backbone_lr_scale: float,
                     weight_decay: float) -> list[dict]:
    """AdamW groups over the trainable parameters: pretrained deep-layer weights, new ones."""
    pretrained, new = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        inherited = name.startswith("backbone.") and not any(part in name
                                                             for part in NEW_IN_BACKBONE)
        (pretrained if inherited else new).append(parameter)
    groups = [{"params": new, "lr": learning_rate, "name": "new"},
              {"params": pretrained, "lr": learning_rate * backbone_lr_scale,
               "name": "pretrained"}]
    return [dict(group, weight_decay=weight_decay) for group in groups if group["params"]]


def epochs_for(epochs: int | None, min_steps: int, train_clips: int, batch_size: int,
               accumulate: int = 1) -> int:
    """`epochs` when given; else DEFAULT_EPOCHS, raised until the run makes at least
    `min_steps` optimiser steps (the cosine schedule spans them all)."""
    if epochs is not None:
        return epochs
    steps_per_epoch = max(1, math.ceil(math.ceil(train_clips / batch_size) / accumulate))
    return max(DEFAULT_EPOCHS, math.ceil(min_steps / steps_per_epoch))


def epochs_text(settings) -> str:
    """How long a run of these TrainSettings trains, in words."""
    if settings.epochs is not None:
        return f"{settings.epochs} epochs"
    return f"{DEFAULT_EPOCHS} epochs or at least {settings.min_steps} steps"


def schedule_factor(step: int, total_steps: int, warmup: float, schedule: str) -> float:
    """Multiplier of the learning rate at optimiser step `step` (0-based) of `total_steps`."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose from {SCHEDULES}")
    warmup_steps = round(warmup * total_steps)
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(1.0, progress)
    if schedule == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))
