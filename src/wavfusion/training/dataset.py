"""Manifest rows + feature cache -> padded batches with masks, for WavFusion.forward.

Audio comes from the cache (the frozen shallow prefix, Eq 7) when the cache holds it, or is
decoded raw every time (a trainable backbone, or the naive path a benchmark compares with).
Text and visual features always come from the cache: their extractors are frozen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from wavfusion.data.datasets.labels import EMOTIONS
from wavfusion.data.manifest import Manifest, ManifestRow


def label_names(rows: list[ManifestRow]) -> list[str]:
    """The classes of a manifest, in the shared emotion order (unknown names after, sorted)."""
    present = {row.label for row in rows if row.label}
    known = [name for name in EMOTIONS if name in present]
    return known + sorted(present - set(known))


@dataclass
class Example:
    id: str
    label: int
    audio: np.ndarray | None  # (samples,) float32 16 kHz, when audio is decoded raw
    audio_features: np.ndarray | None  # (frames, width) float16, from the cache
    text: np.ndarray | None  # (tokens, text_dim)
    visual: np.ndarray | None  # (frames, visual_dim)


class EmotionDataset(Dataset):
    """One Example per manifest row. `label_index`: name -> class id (-1 for unlabelled)."""

    def __init__(
        self,
        manifest: Manifest,
        rows: list[ManifestRow],
        label_index: dict[str, int],
        cache,
        raw_audio: bool,
        max_seconds: float | None = None,
    ) -> None:
        self.manifest = manifest
        self.rows = rows
        self.label_index = label_index
        self.cache = cache
        self.raw_audio = raw_audio
        self.max_seconds = max_seconds

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> Example:
        row = self.rows[index]
        cached = self.cache.get(row.id) if self.cache is not None else None
        audio = features = None
        if self.raw_audio:
            audio = self.manifest.load_audio(row, max_seconds=self.max_seconds)
        elif cached is not None:
            features = cached.audio
        return Example(
            id=row.id,
            label=self.label_index.get(row.label, -1),
            audio=audio,
            audio_features=features,
            text=None if cached is None else cached.text,
            visual=None if cached is None else cached.visual,
        )


def _pad(arrays: list[np.ndarray | None], width: int | None, dtype=None):
    """Stack ragged (length, ...) arrays into (batch, longest, ...) + a (batch, longest) mask;
    None entries become all-False rows. Returns (None, None) if every entry is None and
    `width` is None (the modality is absent from the whole batch)."""
    present = [a for a in arrays if a is not None]
    if not present and width is None:
        return None, None
    trailing = present[0].shape[1:] if present else (width,)
    longest = max([len(a) for a in present] + [1])
    dtype = dtype or (torch.from_numpy(np.empty(0, present[0].dtype)).dtype if present
                      else torch.float32)
    values = torch.zeros((len(arrays), longest, *trailing), dtype=dtype)
    mask = torch.zeros((len(arrays), longest), dtype=torch.bool)
    for row, array in enumerate(arrays):
        if array is not None and len(array):
            values[row, : len(array)] = torch.as_tensor(np.array(array))  # copy: caches are
            mask[row, : len(array)] = True  # read-only memory maps
    return values, mask


def collate(examples: list[Example]) -> dict:
    """Examples -> keyword arguments of WavFusion.forward (+ `ids`)."""
    batch: dict = {"ids": [e.id for e in examples],
                   "labels": torch.tensor([e.label for e in examples], dtype=torch.long)}
    for key, source in (("audio", "audio"), ("audio_features", "audio_features"),
                        ("text", "text"), ("visual", "visual")):
        values, mask = _pad([getattr(e, source) for e in examples], None)
        if values is not None:
            batch[key] = values
            batch[f"{key}_mask"] = mask
    if (batch["labels"] < 0).any():
        del batch["labels"]
    return batch
