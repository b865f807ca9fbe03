"""Masks and masked reductions shared by every block. True in a mask means "real data"."""

from __future__ import annotations

import torch


def lengths_to_mask(lengths: torch.Tensor, max_length: int | None = None) -> torch.Tensor:
    """(batch,) lengths -> (batch, max_length) bool mask, True on the first `length` steps."""
    max_length = int(lengths.max()) if max_length is None else max_length
    steps = torch.arange(max_length, device=lengths.device)
    return steps[None, :] < lengths[:, None]


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over time of (batch, time, width) where mask (batch, time) is True.

    A sample with no valid step gives a zero vector (a missing modality contributes nothing).
    """
    weights = mask.to(values.dtype).unsqueeze(-1)
    total = (values * weights).sum(dim=1)
    count = weights.sum(dim=1).clamp(min=1.0)
    return total / count


def zero_padding(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Set padded steps of (batch, time, width) to exactly 0 (also if they held NaN/inf)."""
    return values.masked_fill(~mask.unsqueeze(-1), 0.0)
