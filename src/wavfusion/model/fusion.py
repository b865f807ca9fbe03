"""Gated cross-modal attention (Eq 8-11) and the deep backbone layer that hosts it.

In each deep layer of the speech transformer the self-attention block is REPLACED by:
  Eq 8:  X^F1 = CM_{A-T}(X^a, X^t)       audio frames query the transcript
  Eq 9:  X^F2 = CM_{A-V}(X^a, X^v)       audio frames query the face frames
  Eq 10: P    = sigmoid(FC(X^F1 (+) X^F2))
  Eq 11: X^F  = P * X^F1 + (1 - P) * X^F2
The rest of the layer (residuals, layer norms, feed-forward) is the pretrained layer's own.

Choices the paper leaves open (documented in docs/model.md):
- text / visual features are projected to the audio width before the key/value projections;
- both cross-attentions start as copies of the layer's pretrained self-attention;
- a sample missing one modality uses the other alone (P forced to 1 or 0); a sample with
  neither keeps the layer's pretrained self-attention, so audio-only input is ordinary
  fine-tuning of the speech transformer.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention with separate query and key/value inputs.

    query: (batch, frames, width); keys_values: (batch, steps, width); key_mask: (batch, steps)
    -> (batch, frames, width). Rows whose keys are all masked must be handled by the caller.
    """

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by {heads} heads")
        self.heads = heads
        self.dropout = dropout
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)
        self.output = nn.Linear(width, width)

    @classmethod
    def from_pretrained_attention(cls, attention: nn.Module, heads: int, dropout: float):
        """Copy the q/k/v/out projections of a Hugging Face attention block (wav2vec2, Whisper;
        a missing bias, e.g. Whisper's k_proj, becomes zeros)."""
        width = attention.q_proj.in_features
        module = cls(width, heads, dropout)
        pairs = [
            (module.query, attention.q_proj),
            (module.key, attention.k_proj),
            (module.value, attention.v_proj),
            (module.output, attention.out_proj),
        ]
        with torch.no_grad():
            for ours, theirs in pairs:
                ours.weight.copy_(theirs.weight)
                if theirs.bias is None:
                    ours.bias.zero_()
                else:
                    ours.bias.copy_(theirs.bias)
        return module

    def _split_heads(self, values: torch.Tensor) -> torch.Tensor:
        batch, steps, width = values.shape
        return values.view(batch, steps, self.heads, width // self.heads).transpose(1, 2)

    def forward(
        self, query: torch.Tensor, keys_values: torch.Tensor, key_mask: torch.Tensor
    ) -> torch.Tensor:
        q = self._split_heads(self.query(query))
        k = self._split_heads(self.key(keys_values))
        v = self._split_heads(self.value(keys_values))
        attended = F.scaled_dot_product_attention(
            q, k, v, attn_mask=key_mask[:, None, None, :],
            dropout_p=self.dropout if self.training else 0.0,
        )
        batch, _, frames, _ = attended.shape
        return self.output(attended.transpose(1, 2).reshape(batch, frames, -1))


class CrossModalAttention(nn.Module):
    """CM_{A-m} of Eq 8 / Eq 9: audio queries, keys and values from modality m.

    audio: (batch, frames, width); context: (batch, steps, context_dim); context_mask: (batch,
    steps). Returns (batch, frames, width), exactly zero for samples without any context step.
    """

    def __init__(self, attention: MultiHeadAttention, context_dim: int) -> None:
        super().__init__()
        width = attention.query.in_features
        self.context_projection = nn.Linear(context_dim, width)
        self.attention = attention

    def forward(
        self, audio: torch.Tensor, context: torch.Tensor, context_mask: torch.Tensor
    ) -> torch.Tensor:
        present = context_mask.any(dim=1)
        keys_values = self.context_projection(context)
        if bool(present.all()):
            return self.attention(audio, keys_values, context_mask)
        key_mask = context_mask.clone()
        key_mask[~present, 0] = True  # one dummy key keeps the softmax finite; zeroed below
        attended = self.attention(audio, keys_values, key_mask)
        return attended.masked_fill(~present[:, None, None], 0.0)


def _on_rows(rows: torch.Tensor, compute, *tensors: torch.Tensor) -> torch.Tensor:
    """compute(*tensors) for the batch rows where `rows` (batch,) is True; the other rows are
    0. The whole batch goes through unindexed when every row is selected."""
    if bool(rows.all()):
        return compute(*tensors)
    index = rows.nonzero().squeeze(1)
    selected = compute(*(tensor.index_select(0, index) for tensor in tensors))
    output = selected.new_zeros((rows.shape[0], *selected.shape[1:]))
    return output.index_copy(0, index, selected)


def _zero_gradient_anchor(modules: list[nn.Module]) -> torch.Tensor | None:
    """0, depending on one element of every trainable parameter of `modules`: a branch that no
    row of the batch uses still gets a zero gradient rather than none. AdamW decays and moves
    (momentum) a parameter whose gradient is zero but skips one whose gradient is None, so
    this keeps training as it was when every branch ran on every row."""
    first = [p.reshape(-1)[0] for m in modules for p in m.parameters() if p.requires_grad]
    if not first or not torch.is_grad_enabled():
        return None
    return torch.stack(first).sum() * 0.0


class GatedCrossModalAttention(nn.Module):
    """Eq 8-11, a drop-in replacement for a deep layer's self-attention.

    Built from that layer's pretrained attention block; enabled auxiliary modalities are any
    of "text" and "visual" (Table 3 rows A+T, A+V, A+T+V; with neither, only the pretrained
    self-attention remains).
    """

    def __init__(
        self,
        pretrained_attention: nn.Module,
        heads: int,
        dropout: float,
        text_dim: int | None,
        visual_dim: int | None,
    ) -> None:
        super().__init__()
        self_attention = MultiHeadAttention.from_pretrained_attention(
            pretrained_attention, heads, dropout
        )
        width = self_attention.query.in_features

        def branch(context_dim: int | None) -> CrossModalAttention | None:
            if context_dim is None:
                return None
            return CrossModalAttention(copy.deepcopy(self_attention), context_dim)

        self.text_attention = branch(text_dim)  # Eq 8
        self.visual_attention = branch(visual_dim)  # Eq 9
        self.gate = nn.Linear(2 * width, width)  # FC of Eq 10
        self.self_attention = self_attention  # samples with neither text nor video

    def forward(
        self,
        audio: torch.Tensor,
        audio_mask: torch.Tensor,
        text: torch.Tensor | None,
        text_mask: torch.Tensor | None,
        visual: torch.Tensor | None,
        visual_mask: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns X^F (batch, frames, width) and the gate P (batch, frames, width); P is NaN
        for samples that have neither text nor video (no fusion happened there).

        Each part runs only on the rows that need it: a cross-attention on the samples that
        have its modality, the gate (Eq 10) on those that have both, the self-attention on
        those that have neither. A row's result is the same as when every part ran on every
        row and was then masked.
        """
        absent = torch.zeros(audio.shape[0], dtype=torch.bool, device=audio.device)
        has_text = text_mask.any(dim=1) if self._enabled(self.text_attention, text) else absent
        has_visual = (
            visual_mask.any(dim=1) if self._enabled(self.visual_attention, visual) else absent
        )
        unused: list[nn.Module] = []  # parts no row needs: they get zero gradients, as before

        def branch(attention, rows, context, context_mask):
            if not self._enabled(attention, context):
                return torch.zeros_like(audio)
            if not bool(rows.any()):
                unused.append(attention)
                return torch.zeros_like(audio)
            return _on_rows(rows, attention, audio, context, context_mask)

        text_fused = branch(self.text_attention, has_text, text, text_mask)  # Eq 8
        visual_fused = branch(self.visual_attention, has_visual, visual, visual_mask)  # Eq 9

        # A missing modality's branch contributes nothing: P = 1 without video, 0 without text.
        both = has_text & has_visual
        if bool(both.all()):
            gate = self._gate(text_fused, visual_fused)
        else:
            gate = has_text[:, None, None].to(audio.dtype).expand_as(audio).contiguous()
            if bool(both.any()):
                gate = gate.index_copy(
                    0, both.nonzero().squeeze(1), self._gate(text_fused[both], visual_fused[both])
                )
            else:
                unused.append(self.gate)
        fused = gate * text_fused + (1.0 - gate) * visual_fused  # Eq 11

        audio_only = ~(has_text | has_visual)
        if bool(audio_only.any()):
            own = _on_rows(audio_only, self.self_attention, audio, audio, audio_mask)
            fused = torch.where(audio_only[:, None, None], own, fused)
            gate = gate.masked_fill(audio_only[:, None, None], float("nan"))
        anchor = _zero_gradient_anchor(unused)
        return (fused if anchor is None else fused + anchor), gate

    def _gate(self, text_fused: torch.Tensor, visual_fused: torch.Tensor) -> torch.Tensor:
        """Eq 10: P = sigmoid(FC(X^F1 (+) X^F2))."""
        return torch.sigmoid(self.gate(torch.cat([text_fused, visual_fused], dim=-1)))

    @staticmethod
    def _enabled(attention: CrossModalAttention | None, context: torch.Tensor | None) -> bool:
        return attention is not None and context is not None


class FusionLayer(nn.Module):
    """A deep backbone layer with its self-attention replaced by GatedCrossModalAttention.

    `pre_norm` selects where the layer's two norms sit, as in the pretrained layer:
    post-norm (wav2vec2-base): h = LN1(h + Att(h)); h = LN2(h + FFN(h))
    pre-norm (wav2vec2-large-lv60, Whisper): h = h + Att(LN1(h)); h = h + FFN(LN2(h))
    """

    def __init__(
        self,
        fusion: GatedCrossModalAttention,
        attention_norm: nn.Module,
        feed_forward: nn.Module,
        feed_forward_norm: nn.Module,
        pre_norm: bool,
        dropout: float,
    ) -> None:
        super().__init__()
        self.fusion = fusion
        self.attention_norm = attention_norm
        self.feed_forward = feed_forward
        self.feed_forward_norm = feed_forward_norm
        self.pre_norm = pre_norm
        self.dropout = nn.Dropout(dropout)

    def forward(self, hidden: torch.Tensor, audio_mask: torch.Tensor, **contexts):
        """hidden: (batch, frames, width) -> (same, gate P of Eq 10)."""
        if self.pre_norm:
            fused, gate = self.fusion(self.attention_norm(hidden), audio_mask, **contexts)
            hidden = hidden + self.dropout(fused)
            hidden = hidden + self.feed_forward(self.feed_forward_norm(hidden))
        else:
            fused, gate = self.fusion(hidden, audio_mask, **contexts)
            hidden = self.attention_norm(hidden + self.dropout(fused))
            hidden = self.feed_forward_norm(hidden + self.feed_forward(hidden))
        return hidden, gate
