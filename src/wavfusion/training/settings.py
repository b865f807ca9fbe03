"""TrainSettings: every setting of a run besides the model's own WavFusionConfig.

The defaults written here are the only ones: `wavfusion train` / `cv` / `ablate` and their
config files read them (config_cli.py), and so does the Python API. Kept apart from run.py so
that the command line can show them without loading torch or Lightning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wavfusion.config import WavFusionConfig
from wavfusion.features.settings import ExtractionOptions


@dataclass
class TrainSettings:
    """Everything a run needs besides the model's own WavFusionConfig."""

    manifest: Path
    out: Path
    cache: Path | None = None  # default: RUN/cache, extracted on first use
    dataset: str | None = None  # for the model card (README.md): iemocap, meld, ravdess, ...
    epochs: int | None = None  # None: 12, or more to make min_steps steps (recipe.epochs_for)
    min_steps: int = 600  # optimiser steps at least, when `epochs` is None
    batch_size: int = 16
    learning_rate: float = 1e-3  # of the new modules; see backbone_lr_scale
    weight_decay: float = 0.01
    patience: int = 0  # early stopping on `select`'s metric (0: none, the schedule runs out)
    backbone_lr_scale: float = 0.1  # LR multiplier of the pretrained deep-layer weights
    warmup: float = 0.1  # fraction of the steps with a linear learning-rate warm-up
    schedule: str = "cosine"  # after warm-up: constant, cosine or linear decay to 0
    label_smoothing: float = 0.1  # of the training cross-entropy
    time_mask: float = 0.0  # share of each clip's prefix frames zeroed in training (augment.py)
    channel_mask: float = 0.0  # share of the prefix features' width zeroed, one band per clip
    crop: float = 0.0  # at most this share of each clip's prefix frames cut off its ends
    ema: float = 0.0  # EMA decay per step of the weights validated and kept (0: off)
    select: str = "last"  # the epoch kept: best val_wf1, lowest val_loss, or last
    seed: int = 0
    class_weighting: bool = False  # inverse-frequency weights in the cross-entropy
    accumulate: int = 1
    precision: str = "32-true"
    accelerator: str = "cpu"  # Lightning's; the command line's --device sets it
    devices: int | list[int] = 1  # Lightning's: a count, or the GPU indices to use
    strategy: str = "auto"
    num_workers: int = 0
    raw_audio: bool = False  # decode and run the frozen prefix every step (no audio cache)
    progress: bool = True
    probe: bool = False  # also run `wavfusion probe` on the same cache and splits (RUN/probe)
    resume: bool = False  # continue from out/last.ckpt when it is there (checkpoint.py)
    model: WavFusionConfig = field(default_factory=WavFusionConfig)
    extraction: ExtractionOptions = field(default_factory=ExtractionOptions)
    """The frozen text and image encoders (and frame sampling) of the feature cache."""
