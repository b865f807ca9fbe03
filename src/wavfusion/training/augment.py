"""SpecAugment-style masking of the cached prefix features, during training only.

The frozen prefix's output (batch, frames, width) is what the deep layers read. Per clip,
`time` of its real frames are zeroed in spans of `span` frames at random places, and one band
of `channels` of the width at a random place. Validation, test and prediction never mask.
The model (Eq 1-15) is unchanged: this only changes what it sees while it learns.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class FeatureMasking:
    """Fractions masked per clip (0: off) and the time span's length in frames."""

    time: float = 0.0
    channels: float = 0.0
    span: int = 10  # 0.2 s of Whisper's 50 frames per second

    @property
    def active(self) -> bool:
        return self.time > 0 or self.channels > 0


def mask_features(features: torch.Tensor, mask: torch.Tensor, masking: FeatureMasking,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """A masked copy of `features` (batch, frames, width); `mask` (batch, frames) marks the
    real frames (padding is never chosen, and a clip's span count follows its own length)."""
    batch, frames, width = features.shape
    keep = torch.ones(batch, frames, width, dtype=torch.bool, device=features.device)
    lengths = mask.sum(dim=1).tolist()
    if masking.time > 0:
        for row, length in enumerate(lengths):
            spans = round(masking.time * length / masking.span)
            if spans == 0 or length <= masking.span:
                continue
            starts = torch.randint(0, length - masking.span + 1, (spans,), generator=generator)
            for start in starts.tolist():
                keep[row, start : start + masking.span] = False
    if masking.channels > 0:
        band = round(masking.channels * width)
        if 0 < band < width:
            starts = torch.randint(0, width - band + 1, (batch,), generator=generator)
            channel = torch.arange(width, device=features.device)
            inside = (channel[None] >= starts[:, None]) & (channel[None] < starts[:, None] + band)
            keep &= ~inside[:, None, :]
    return features * keep.to(features.dtype)


__all__ = ["FeatureMasking", "mask_features"]
