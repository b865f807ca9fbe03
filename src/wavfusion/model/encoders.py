"""Auxiliary-modality encoders: text (Eq 6) and visual A-GRU-LVC (Eq 2-4).

Both start from frozen features computed outside the model (Eq 1: image backbone per frame,
Eq 5: text transformer per token), so the model itself does no I/O.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from wavfusion.model.lvc import LearnableVisualCenter
from wavfusion.model.masking import zero_padding


class RecurrentSelfAttention(nn.Module):
    """SA(GRU(x)): a bidirectional GRU, then multi-head self-attention with a residual and
    LayerNorm. (batch, time, in_dim) -> (batch, time, width); padded steps come out as 0.

    The GRU runs on packed sequences, so padding never reaches the backward direction. A sample
    with no valid step (missing modality) yields zeros.
    """

    def __init__(self, in_dim: int, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        if width % 2:
            raise ValueError(f"width must be even (two GRU directions), got {width}")
        self.gru = nn.GRU(in_dim, width // 2, batch_first=True, bidirectional=True)
        self.attention = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(width)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        lengths = mask.sum(dim=1)
        present = lengths > 0
        packed = pack_padded_sequence(
            features, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
        )
        recurrent, _ = self.gru(packed)
        recurrent, _ = pad_packed_sequence(
            recurrent, batch_first=True, total_length=features.shape[1]
        )
        # Absent samples get one dummy key so the softmax stays finite; their rows are zeroed.
        key_mask = mask.clone()
        key_mask[~present, 0] = True
        attended, _ = self.attention(
            recurrent, recurrent, recurrent, key_padding_mask=~key_mask, need_weights=False
        )
        output = self.norm(recurrent + self.dropout(attended))
        return zero_padding(output, mask)


class TextEncoder(nn.Module):
    """Eq 6: X^t = SA(GRU(e^t)). (batch, tokens, text_dim) -> (batch, tokens, text_hidden)."""

    def __init__(self, text_dim: int, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.encoder = RecurrentSelfAttention(text_dim, width, heads, dropout)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.encoder(features, mask)


class VisualEncoder(nn.Module):
    """A-GRU-LVC, Eq 2-4: X^v = SA(GRU(e^v)) (+) LVC(e^v), concatenated on the feature axis.

    (batch, frames, visual_dim) -> (batch, frames, width). Without LVC (Table 4), the GRU + SA
    branch alone takes the full width.
    """

    def __init__(
        self, visual_dim: int, width: int, heads: int, dropout: float, use_lvc: bool, codewords: int
    ) -> None:
        super().__init__()
        recurrent_width = width // 2 if use_lvc else width
        self.recurrent = RecurrentSelfAttention(visual_dim, recurrent_width, heads, dropout)  # Eq 2
        self.lvc = (
            LearnableVisualCenter(visual_dim, width - recurrent_width, codewords)  # Eq 3
            if use_lvc
            else None
        )

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        recurrent = self.recurrent(features, mask)
        if self.lvc is None:
            return recurrent
        return torch.cat([recurrent, self.lvc(features, mask)], dim=-1)  # Eq 4
