"""Eq 3: the 1-D learnable visual centre (LVC), after CFPNet's LVC block (Quan et al. 2023).

The block, on a (batch, time, channels) sequence of per-frame image features, as CFPNet's
LVCBlock with its 2-D convolutions made 1-D (the paper: "one-dimensional convolution instead of
two-dimensional convolution"):
  stem, a bottleneck block: 1x1 (to width/4) -> BN -> ReLU -> k3 -> BN -> ReLU -> 1x1 -> BN,
        plus a 1x1 conv + BN shortcut, then ReLU                                   =  x
  encoding path on x: 1x1 conv + BN + ReLU, codewords
        a_ik = softmax_k(s_k * ||x_i - d_k||^2),  e_k = sum_i a_ik (x_i - d_k),
        BN over the K codewords -> ReLU -> mean over k                             =  e
  gamma = sigmoid(Linear(e)),   y = ReLU(x + x * gamma)  (channel-wise, broadcast over time)
The rescale acts on the stem's output x; the 1x1 conv belongs to the encoding path only.

Two departures, argued in docs/model.md: the stem maps the extractor's width to the LVC's
share of X^v (CFPNet's keeps its input width), and everything is masked: padded frames never
enter a convolution, a sum or a batch statistic, so a clip's output does not depend on what
else is in its batch (beyond the running BN statistics).
"""

from __future__ import annotations

import torch
from torch import nn

STEM_EXPANSION = 4  # the stem's bottleneck is width / 4, as CFPNet's ConvBlock
STEM_NORM_EPS = 1e-6  # CFPNet's ConvBlock BatchNorm epsilon (the encoding path keeps 1e-5)


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm over (batch, channels, time) whose training statistics use valid steps only."""

    def forward(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """values: (batch, channels, time); mask: (batch, time) bool."""
        if not self.training:
            return super().forward(values)
        # Statistics in float32, as BatchNorm keeps them, also under autocast (bf16 / fp16).
        dtype, values = values.dtype, values.float()
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
        return (normalized * self.weight[None, :, None] + self.bias[None, :, None]).to(dtype)


class MaskedConvNorm(nn.Module):
    """Conv1d -> masked BN (-> ReLU), with padded steps zeroed before the convolution."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        relu: bool = True,
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False
        )
        self.norm = MaskedBatchNorm1d(out_channels, eps=eps)
        self.relu = relu

    def forward(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """values: (batch, channels, time); mask: (batch, time)."""
        values = self.norm(self.conv(values * mask.unsqueeze(1)), mask)
        return torch.relu(values) if self.relu else values


class BottleneckConvBlock(nn.Module):
    """CFPNet's LVC stem in 1-D: 1x1 -> k3 -> 1x1 (each conv + BN, ReLU after the first two)
    plus a 1x1 conv + BN shortcut, summed, then ReLU. (batch, in, time) -> (batch, out, time)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        middle = max(out_channels // STEM_EXPANSION, 1)
        self.reduce = MaskedConvNorm(in_channels, middle, 1, eps=STEM_NORM_EPS)
        self.temporal = MaskedConvNorm(middle, middle, 3, eps=STEM_NORM_EPS)
        # no ReLU before the residual add: the sum is rectified once
        self.expand = MaskedConvNorm(middle, out_channels, 1, relu=False, eps=STEM_NORM_EPS)
        self.shortcut = MaskedConvNorm(in_channels, out_channels, 1, relu=False, eps=STEM_NORM_EPS)

    def forward(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.expand(self.temporal(self.reduce(values, mask), mask), mask)
        return torch.relu(hidden + self.shortcut(values, mask))


class CodewordEncoding(nn.Module):
    """e_k = sum_i a_ik (x_i - d_k) with a_ik = softmax_k(s_k ||x_i - d_k||^2) (Eq 3 inner part).

    Smoothing factors s_k start negative (uniform in [-1, 0)), so the softmax favours the
    nearest codewords; codewords start uniform in +-1/sqrt(K * channels), as in CFPNet.
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
        self.stem = BottleneckConvBlock(in_dim, width)
        self.projection = MaskedConvNorm(width, width, 1)
        self.encoding = CodewordEncoding(width, codewords)
        self.codeword_norm = MaskedBatchNorm1d(codewords)
        self.channel_gate = nn.Linear(width, width)

    def centre(self, stem: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The encoding path: stem output (batch, width, time) -> e, (batch, width)."""
        projected = self.projection(stem, mask).transpose(1, 2)
        encoded = self.encoding(projected, mask)  # (batch, K, width)
        # BN over the K codewords, statistics from samples that have frames at all.
        has_frames = mask.any(dim=1, keepdim=True).expand(-1, encoded.shape[-1])
        return torch.relu(self.codeword_norm(encoded, has_frames)).mean(dim=1)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        stem = self.stem(features.transpose(1, 2), mask)  # (batch, width, time)
        gamma = torch.sigmoid(self.channel_gate(self.centre(stem, mask))).unsqueeze(1)
        x = stem.transpose(1, 2)
        output = torch.relu(x + x * gamma)  # the stem's output, rescaled channel-wise
        return output * mask.unsqueeze(-1)
