"""Eq 3: the 1-D learnable visual centre (LVC), after CFPNet (Quan et al. 2023).

The block, on a (batch, time, channels) sequence of per-frame image features:
  residual conv block (1x1 -> k3 -> 1x1, BN + ReLU)  ->  1x1 conv + BN + ReLU  =  x
  codeword encoding: a_ik = softmax_k(s_k * ||x_i - d_k||^2),  e_k = sum_i a_ik (x_i - d_k)
  BN over the K codewords -> ReLU -> mean over k  =  e   (one vector per sample)
  gamma = sigmoid(Linear(e)),   y = ReLU(x + x * gamma)  (channel-wise, broadcast over time)

Everything is masked: padded frames never enter a convolution, a sum or a batch statistic, so a
clip's output does not depend on what else is in its batch (beyond the running BN statistics).
"""

from __future__ import annotations

import torch
from torch import nn


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm over (batch, channels, time) whose training statistics use valid steps only."""

    def forward(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """values: (batch, channels, time); mask: (batch, time) bool."""
        if not self.training:
            return super().forward(values)
        weights = mask.unsqueeze(1).to(values.dtype)  # (batch, 1, time)
        count = weights.sum().clamp(min=1.0)
        mean = (values * weights).sum(dim=(0, 2)) / count
        variance = (((values - mean[None, :, None]) ** 2) * weights).sum(dim=(0, 2)) / count
        if self.track_running_stats and count > 1:
            with torch.no_grad():
                unbiased = variance * count / (count - 1)
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(unbiased, self.momentum)
                self.num_batches_tracked += 1
        normalized = (values - mean[None, :, None]) / torch.sqrt(variance[None, :, None] + self.eps)
        return normalized * self.weight[None, :, None] + self.bias[None, :, None]


class MaskedConvNormReLU(nn.Module):
    """Conv1d -> masked BN -> ReLU, with padded steps zeroed before the convolution."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False
        )
        self.norm = MaskedBatchNorm1d(out_channels)

    def forward(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """values: (batch, channels, time); mask: (batch, time)."""
        values = values * mask.unsqueeze(1)
        return torch.relu(self.norm(self.conv(values), mask))


class ResidualConvBlock(nn.Module):
    """1x1 -> k3 -> 1x1 convolutions with a (projected) residual, CFPNet's LVC stem."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        middle = max(out_channels // 2, 1)
        self.reduce = MaskedConvNormReLU(in_channels, middle, 1)
        self.temporal = MaskedConvNormReLU(middle, middle, 3)
        self.expand = MaskedConvNormReLU(middle, out_channels, 1)
        self.shortcut = nn.Conv1d(in_channels, out_channels, 1, bias=False)

    def forward(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.expand(self.temporal(self.reduce(values, mask), mask), mask)
        return torch.relu(hidden + self.shortcut(values * mask.unsqueeze(1)))


class CodewordEncoding(nn.Module):
    """e_k = sum_i a_ik (x_i - d_k) with a_ik = softmax_k(s_k ||x_i - d_k||^2) (Eq 3 inner part).

    Smoothing factors s_k start negative (uniform in [-1, 0)), so the softmax favours the
    nearest codewords, as in the Context Encoding layer CFPNet builds on.
    """

    def __init__(self, channels: int, codewords: int) -> None:
        super().__init__()
        bound = 1.0 / (codewords * channels) ** 0.5
        self.codewords = nn.Parameter(torch.empty(codewords, channels).uniform_(-bound, bound))
        self.smoothing = nn.Parameter(torch.empty(codewords).uniform_(-1.0, 0.0))

    def forward(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """values: (batch, time, channels); mask: (batch, time) -> (batch, codewords, channels)."""
        residuals = values.unsqueeze(2) - self.codewords[None, None]  # (batch, time, K, channels)
        distances = residuals.pow(2).sum(dim=-1)  # (batch, time, K)
        assignment = torch.softmax(self.smoothing * distances, dim=-1)
        assignment = assignment * mask.unsqueeze(-1).to(values.dtype)
        return torch.einsum("btk,btkc->bkc", assignment, residuals)


class LearnableVisualCenter(nn.Module):
    """Eq 3: X^{v2} = LVC(e^v). (batch, time, in_dim) -> (batch, time, width)."""

    def __init__(self, in_dim: int, width: int, codewords: int) -> None:
        super().__init__()
        self.stem = ResidualConvBlock(in_dim, width)
        self.projection = MaskedConvNormReLU(width, width, 1)
        self.encoding = CodewordEncoding(width, codewords)
        self.codeword_norm = MaskedBatchNorm1d(codewords)
        self.channel_gate = nn.Linear(width, width)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        channels_first = features.transpose(1, 2)
        x = self.projection(self.stem(channels_first, mask), mask).transpose(1, 2)
        encoded = self.encoding(x, mask)  # (batch, K, width)
        # BN over the K codewords, statistics from samples that have frames at all.
        has_frames = mask.any(dim=1, keepdim=True).expand(-1, encoded.shape[-1])
        encoded = torch.relu(self.codeword_norm(encoded, has_frames))
        centre = encoded.mean(dim=1)  # (batch, width)
        gamma = torch.sigmoid(self.channel_gate(centre)).unsqueeze(1)
        output = torch.relu(x + x * gamma)
        return output * mask.unsqueeze(-1)
