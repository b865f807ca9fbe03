"""Shaping a prediction for people and programs: gate summaries and JSON-safe values."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch only for the torch predictor's gates: the ONNX path has none
    import torch

GATE_DIGITS = 4


def gate_value(mean: float) -> float | None:
    """One layer's mean P as the result shows it: rounded, None where P does not apply
    (NaN: the clip had neither text nor video)."""
    return round(mean, GATE_DIGITS) if math.isfinite(mean) else None


def gate_means(gates: list[torch.Tensor], audio_mask: torch.Tensor | None) -> list[float | None]:
    """Mean of P (Eq 10) over one clip's valid audio frames and all channels, per deep layer.

    gates: one `(1, frames, width)` tensor per deep layer (NaN where P does not apply: the
    clip had neither text nor video); audio_mask: `(1, frames)`, True = a real frame.
    Returns one value in [0, 1] per layer (1 = text drove the fusion, 0 = video), None where
    P does not apply."""
    means: list[float | None] = []
    for gate in gates:
        frames = gate[0] if audio_mask is None else gate[0][audio_mask[0]]
        means.append(gate_value(float(frames.float().mean()) if frames.numel() else math.nan))
    return means


def gate_note(used: list[str], layers: int) -> str:
    """What the gate values of a prediction mean, in one sentence."""
    if layers == 0:
        return "no deep fusion layers (concat model): no gate"
    if "text" in used and "visual" in used:
        return "mean P (Eq 10) per deep layer: 1 = text drove the fusion, 0 = video"
    if "text" in used:
        return "no video: P is 1 by construction (text alone drives the fusion)"
    if "visual" in used:
        return "no text: P is 0 by construction (video alone drives the fusion)"
    return "neither text nor video: the deep layers used their self-attention, no gate"


def json_safe(value: Any) -> Any:
    """`value` with every NaN or infinite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


__all__ = ["gate_means", "gate_note", "gate_value", "json_safe"]
