"""Examples -> padded tensors + masks: the keyword arguments of `WavFusion.forward`.

Torch only (no Lightning), so that training and prediction batch examples the same way and
`wavfusion.inference` needs nothing of the `train` extra.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

MODEL_INPUTS = ("audio", "audio_mask", "audio_features", "audio_features_mask", "text",
                "text_mask", "visual", "visual_mask", "labels")


@dataclass
class Example:
    """One utterance as the model takes it; a modality it lacks is None."""

    id: str
    label: int
    audio: np.ndarray | None  # (samples,) float32 16 kHz, when audio is decoded raw
    audio_features: np.ndarray | None  # (frames, width) float16, from the cache
    text: np.ndarray | None  # (tokens, text_dim)
    visual: np.ndarray | None  # (frames, visual_dim)


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


def model_inputs(batch: dict) -> dict:
    """The entries of a `collate` batch that `WavFusion.forward` takes (drops `ids`)."""
    return {key: value for key, value in batch.items() if key in MODEL_INPUTS}
