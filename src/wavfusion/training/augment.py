"""Augmentation of the cached prefix features, during training only.

The frozen prefix's output (batch, frames, width) is what the deep layers read. Per clip:
- crop: up to `crop` of its real frames are cut off, a random share of them at the start and
  the rest at the end, and what is left moves to the front (the clip's mask shrinks with it).
  The model then hears a clip with less of the silence around its speech, as a segment of a
  long recording is heard (inference/segments.py). Without an audio cache (`raw_audio`) the
  waveform itself is cropped, so the frozen prefix hears the cropped clip;
- SpecAugment-style masking: `time` of its real frames are zeroed in spans of `span` frames
  at random places, and one band of `channels` of the width at a random place.
Validation, test and prediction never augment. The model (Eq 1-15) is unchanged: this only
changes what it sees while it learns.
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
    crop: float = 0.0  # at most this share of a clip's frames cut off its two ends

    @property
    def active(self) -> bool:
        return self.time > 0 or self.channels > 0 or self.crop > 0


def augment_batch(batch: dict, masking: FeatureMasking,
                  generator: torch.Generator | None = None) -> dict:
    """A training batch as the model sees it: the cached prefix features cropped, then
    masked; raw audio (a run without an audio cache) cropped only."""
    if "audio_features" in batch:
        features, mask = batch["audio_features"], batch["audio_features_mask"]
        if masking.crop > 0:
            features, mask = crop_features(features, mask, masking.crop, generator)
        if masking.time > 0 or masking.channels > 0:
            features = mask_features(features, mask, masking, generator)
        return {**batch, "audio_features": features, "audio_features_mask": mask}
    if "audio" in batch and masking.crop > 0:
        audio, mask = crop_features(batch["audio"], batch["audio_mask"], masking.crop, generator)
        return {**batch, "audio": audio, "audio_mask": mask}
    return batch


def crop_features(features: torch.Tensor, mask: torch.Tensor, share: float,
                  generator: torch.Generator | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per clip, a uniform share in [0, `share`] of its real frames (`mask`'s True, at the
    front) cut off, split at random between its start and end; the rest moved to the front.
    `features`: (batch, frames, ...), e.g. prefix features (batch, frames, width) or raw audio
    (batch, samples). Returns the cropped copy and its mask; a clip keeps at least one frame."""
    batch, frames = features.shape[:2]
    lengths = mask.sum(dim=1).cpu()  # the draws are made on the CPU, like mask_features'
    cut = (torch.rand(batch, generator=generator) * share * lengths).floor().long()
    cut = torch.minimum(cut, (lengths - 1).clamp(min=0))
    before = (torch.rand(batch, generator=generator) * (cut + 1)).floor().long()
    before, kept = before.to(features.device), (lengths - cut).to(features.device)
    position = torch.arange(frames, device=features.device)
    source = (position[None] + before[:, None]).clamp(max=frames - 1)
    trailing = (1,) * (features.dim() - 2)
    cropped = features.gather(1, source.view(batch, frames, *trailing).expand_as(features))
    inside = position[None] < kept[:, None]
    return cropped * inside.view(batch, frames, *trailing).to(features.dtype), inside


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


__all__ = ["FeatureMasking", "augment_batch", "crop_features", "mask_features"]
