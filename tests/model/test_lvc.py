"""Eq 3 (LVC) on its own: padding must not leak into convolutions, codewords or statistics."""

from __future__ import annotations

import torch

from wavfusion.model.encoders import VisualEncoder
from wavfusion.model.lvc import LearnableVisualCenter, MaskedBatchNorm1d


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
