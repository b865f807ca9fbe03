"""Eq 3 (LVC) on its own: padding must not leak into convolutions, codewords or statistics."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from wavfusion.model.encoders import VisualEncoder
from wavfusion.model.lvc import LearnableVisualCenter, MaskedBatchNorm1d, MaskedConvNorm


def _warmed_lvc() -> LearnableVisualCenter:
    torch.manual_seed(0)
    lvc = LearnableVisualCenter(in_dim=40, width=8, codewords=8).train()
    with torch.no_grad():
        for _ in range(3):
            lvc(torch.randn(4, 6, 40), torch.ones(4, 6, dtype=torch.bool))
    return lvc.eval()


def test_lvc_output_of_a_clip_does_not_depend_on_padding_frames():
    lvc = _warmed_lvc()
    features = torch.randn(2, 9, 40)
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 5:] = False
    features[1, 5:] = 3.0  # padding holding non-zero values
    with torch.no_grad():
        in_batch = lvc(features, mask)
        alone = lvc(features[1:2, :5], mask[1:2, :5])
    torch.testing.assert_close(in_batch[1, :5], alone[0], atol=1e-6, rtol=0)
    assert (in_batch[1, 5:] == 0).all()


def test_masked_batch_norm_statistics_use_valid_steps_only():
    norm = MaskedBatchNorm1d(3, momentum=1.0).train()
    values = torch.randn(2, 3, 5)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    values[1, :, 2:] = 100.0
    norm(values, mask)
    valid = torch.cat([values[0], values[1, :, :2]], dim=1)  # (channels, 7 valid steps)
    torch.testing.assert_close(norm.running_mean, valid.mean(dim=1))
    torch.testing.assert_close(norm.running_var, valid.var(dim=1, unbiased=True))


def test_without_lvc_the_visual_output_keeps_its_width():
    for use_lvc in (True, False):
        encoder = VisualEncoder(40, 64, heads=2, dropout=0.0, use_lvc=use_lvc, codewords=8)
        output = encoder(torch.randn(2, 6, 40), torch.ones(2, 6, dtype=torch.bool))
        assert output.shape == (2, 6, 64)
        assert (encoder.lvc is not None) == use_lvc


def _conv_norm(block: MaskedConvNorm, values: torch.Tensor) -> torch.Tensor:
    """Conv1d + eval-mode BN, unmasked, from the block's parameters."""
    values = F.conv1d(values, block.conv.weight, padding=block.conv.padding)
    norm = block.norm
    return F.batch_norm(values, norm.running_mean, norm.running_var, norm.weight, norm.bias,
                        training=False, eps=norm.eps)


def _published_lvc(lvc: LearnableVisualCenter, features: torch.Tensor) -> torch.Tensor:
    """CFPNet's LVCBlock in 1-D, written out from its description, for unpadded clips."""
    values = features.transpose(1, 2)  # (batch, channels, time)
    stem = lvc.stem
    hidden = F.relu(_conv_norm(stem.reduce, values))
    hidden = F.relu(_conv_norm(stem.temporal, hidden))
    hidden = _conv_norm(stem.expand, hidden)  # no activation before the residual add
    x = F.relu(hidden + _conv_norm(stem.shortcut, values))  # shortcut: 1x1 conv + BN
    projected = F.relu(_conv_norm(lvc.projection, x)).transpose(1, 2)  # (batch, time, C)
    codewords, scale = lvc.encoding.codewords, lvc.encoding.smoothing
    residuals = projected[:, :, None, :] - codewords[None, None]
    assignment = F.softmax(scale * residuals.pow(2).sum(-1), dim=2)
    encoded = (assignment[..., None] * residuals).sum(1)  # (batch, K, C)
    norm = lvc.codeword_norm
    encoded = F.batch_norm(encoded, norm.running_mean, norm.running_var, norm.weight, norm.bias,
                           training=False, eps=norm.eps)
    gamma = torch.sigmoid(lvc.channel_gate(F.relu(encoded).mean(1)))
    return F.relu(x + x * gamma[:, :, None]).transpose(1, 2)  # rescales the stem's output


def test_lvc_matches_the_published_block_on_unpadded_clips():
    lvc = _warmed_lvc()
    features = torch.randn(3, 7, 40)
    with torch.no_grad():
        ours = lvc(features, torch.ones(3, 7, dtype=torch.bool))
        published = _published_lvc(lvc, features)
    torch.testing.assert_close(ours, published, atol=1e-5, rtol=1e-5)


def test_lvc_rescales_the_stem_output_not_the_encoding_projection():
    lvc = _warmed_lvc()
    features = torch.randn(2, 6, 40)
    mask = torch.ones(2, 6, dtype=torch.bool)
    with torch.no_grad():
        stem = lvc.stem(features.transpose(1, 2), mask).transpose(1, 2)
        lvc.channel_gate.weight.zero_()
        lvc.channel_gate.bias.fill_(-50.0)  # gamma = 0: y = ReLU(x) = x, the stem's output
        torch.testing.assert_close(lvc(features, mask), stem)
        lvc.channel_gate.bias.fill_(50.0)  # gamma = 1: y = 2x
        torch.testing.assert_close(lvc(features, mask), 2 * stem)


def test_lvc_stem_is_a_quarter_width_bottleneck_with_a_normalised_shortcut():
    lvc = LearnableVisualCenter(in_dim=40, width=32, codewords=8)
    assert lvc.stem.reduce.conv.out_channels == 8
    assert lvc.stem.temporal.conv.kernel_size == (3,)
    assert not lvc.stem.expand.relu and not lvc.stem.shortcut.relu
    assert isinstance(lvc.stem.shortcut.norm, MaskedBatchNorm1d)
    assert lvc.stem.reduce.norm.eps == 1e-6 and lvc.projection.norm.eps == 1e-5


def test_lvc_trains_under_mixed_precision():
    """bf16 autocast: the masked BatchNorm keeps its statistics in float32."""
    lvc = LearnableVisualCenter(in_dim=40, width=8, codewords=8).train()
    mask = torch.ones(3, 6, dtype=torch.bool)
    mask[1, 4:] = False
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output = lvc(torch.randn(3, 6, 40), mask)
    output.float().sum().backward()
    assert lvc.stem.reduce.norm.running_mean.dtype == torch.float32
    assert torch.isfinite(lvc.stem.reduce.norm.running_mean).all()
