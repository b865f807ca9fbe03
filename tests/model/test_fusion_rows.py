"""The gated cross-modal layer runs each part only on the rows that need it (Eq 8-11).

The reference below is the layer as it was before: every part on every row, then masked.
Both must give the same X^F, P and parameter gradients, whatever the batch's mix of samples
with text, video, both or neither.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from wavfusion.model.fusion import GatedCrossModalAttention

WIDTH, TEXT_DIM, VISUAL_DIM, FRAMES = 16, 12, 10, 9


def _every_row_reference(layer: GatedCrossModalAttention, audio, audio_mask, text, text_mask,
                         visual, visual_mask):
    """Every part on the whole batch, then masked: what the layer computes, written plainly."""
    no_context = torch.zeros_like(audio)
    absent = torch.zeros(audio.shape[0], dtype=torch.bool)
    has_text, has_visual = absent, absent
    text_fused, visual_fused = no_context, no_context
    for name, context, mask in (("text", text, text_mask), ("visual", visual, visual_mask)):
        branch = getattr(layer, f"{name}_attention")
        if branch is None or context is None:
            continue
        present = mask.any(dim=1)
        key_mask = mask.clone()
        key_mask[~present, 0] = True
        attended = branch.attention(audio, branch.context_projection(context), key_mask)
        attended = attended.masked_fill(~present[:, None, None], 0.0)
        if name == "text":
            has_text, text_fused = present, attended
        else:
            has_visual, visual_fused = present, attended
    gate = torch.sigmoid(layer.gate(torch.cat([text_fused, visual_fused], dim=-1)))
    gate = torch.where((has_text & ~has_visual)[:, None, None], torch.ones_like(gate), gate)
    gate = torch.where((~has_text & has_visual)[:, None, None], torch.zeros_like(gate), gate)
    fused = gate * text_fused + (1.0 - gate) * visual_fused
    audio_only = ~(has_text | has_visual)
    if audio_only.any():
        own = layer.self_attention(audio, audio, audio_mask)
        fused = torch.where(audio_only[:, None, None], own, fused)
        gate = gate.masked_fill(audio_only[:, None, None], float("nan"))
    return fused, gate


class _Attention(nn.Module):
    """Stands in for a pretrained attention block (the q/k/v/out projections are copied)."""

    def __init__(self) -> None:
        super().__init__()
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            setattr(self, name, nn.Linear(WIDTH, WIDTH))


# (has text, has video) per sample
MIXES = {
    "all-both": [(1, 1)] * 4,
    "mixed": [(1, 1), (0, 1), (1, 0), (0, 0)],
    "no-text-at-all": [(0, 1), (0, 1), (0, 0)],
    "no-video-at-all": [(1, 0), (1, 0), (1, 1)],
    "text-only-rows": [(1, 0)] * 3,
    "audio-only": [(0, 0)] * 3,
}


def _inputs(mix, seed=0):
    generator = torch.Generator().manual_seed(seed)
    batch = len(mix)
    audio = torch.randn(batch, FRAMES, WIDTH, generator=generator)
    audio_mask = torch.ones(batch, FRAMES, dtype=torch.bool)
    audio_mask[0, 6:] = False
    text = torch.randn(batch, 5, TEXT_DIM, generator=generator)
    visual = torch.randn(batch, 4, VISUAL_DIM, generator=generator)
    text_mask = torch.tensor([[bool(t)] * 5 for t, _ in mix])
    visual_mask = torch.tensor([[bool(v)] * 4 for _, v in mix])
    text_mask[:, 3:] &= torch.arange(batch)[:, None] % 2 == 0  # ragged lengths
    return audio, audio_mask, text, text_mask, visual, visual_mask


def _run(layer, forward, inputs):
    layer.zero_grad(set_to_none=True)
    fused, gate = forward(*inputs)
    (fused * torch.linspace(-1, 1, fused.numel()).view_as(fused)).sum().backward()
    grads = {name: p.grad for name, p in layer.named_parameters()}
    return fused.detach(), gate.detach(), grads


@pytest.mark.parametrize("mix", MIXES, ids=list(MIXES))
@pytest.mark.parametrize("modalities", [("text", "visual"), ("text",)])
def test_rows_only_layer_equals_every_row_reference(mix, modalities):
    torch.manual_seed(0)
    layer = GatedCrossModalAttention(
        _Attention(), heads=2, dropout=0.1, text_dim=TEXT_DIM,
        visual_dim=VISUAL_DIM if "visual" in modalities else None,
    ).eval()  # no dropout, so both see the same function
    inputs = _inputs(MIXES[mix])
    fused, gate, grads = _run(layer, layer, inputs)
    ref_fused, ref_gate, ref_grads = _run(
        layer, lambda *x: _every_row_reference(layer, *x), inputs
    )
    torch.testing.assert_close(fused, ref_fused, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(gate, ref_gate, atol=1e-6, rtol=1e-5, equal_nan=True)
    for name, reference in ref_grads.items():
        if reference is None:
            assert grads[name] is None, name
        else:
            assert grads[name] is not None, name  # a zero gradient stays a zero gradient
            torch.testing.assert_close(grads[name], reference, atol=1e-6, rtol=1e-5)


def test_absent_rows_are_not_computed():
    """The text branch sees only the samples that have text, the fallback only audio-only ones."""
    torch.manual_seed(0)
    layer = GatedCrossModalAttention(_Attention(), 2, 0.0, TEXT_DIM, VISUAL_DIM).eval()
    seen = {}
    for name in ("text_attention", "visual_attention", "gate", "self_attention"):
        getattr(layer, name).register_forward_hook(
            lambda module, args, out, name=name: seen.__setitem__(name, args[0].shape[0])
        )
    layer(*_inputs(MIXES["mixed"]))  # rows: both, video only, text only, neither
    assert seen == {"text_attention": 2, "visual_attention": 2, "gate": 1, "self_attention": 1}


@pytest.mark.parametrize("mix", MIXES, ids=list(MIXES))
def test_every_mix_runs_under_mixed_precision(mix):
    """bf16 autocast (Lightning's `--precision bf16-mixed`): float32 audio, bf16 projections."""
    torch.manual_seed(0)
    layer = GatedCrossModalAttention(_Attention(), 2, 0.0, TEXT_DIM, VISUAL_DIM).train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fused, _ = layer(*_inputs(MIXES[mix]))
    fused.float().sum().backward()
    assert torch.isfinite(fused).all()
