"""The audio backbone as the paper uses it: a pretrained speech transformer split in two.

  Eq 7: X^a = F_ST(S^a)  front-end + the first `shallow_layers` layers, frozen ("shallow")
  deep layers            the remaining layers, trainable, each with its self-attention
                         replaced by gated cross-modal attention (Eq 8-11, fusion.py)

A family (wav2vec2, Whisper) subclasses `SpeechBackbone` and supplies only what differs: the
front-end, how to call one of its pretrained layers, and how to take a layer apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from wavfusion.backbones.errors import BackboneSplitError
from wavfusion.model.fusion import FusionLayer, GatedCrossModalAttention


@dataclass
class LayerParts:
    """What a FusionLayer keeps from a pretrained layer (the attention is replaced)."""

    attention: nn.Module
    attention_norm: nn.Module
    feed_forward: nn.Module
    feed_forward_norm: nn.Module
    pre_norm: bool


class SpeechBackbone(nn.Module):
    """Front-end + shallow layers (Eq 7) + deep fusion layers, built from a list of layers."""

    width: int
    heads: int
    attention_dropout: float
    expects_normalized_audio: bool
    """True when the front-end wants zero-mean unit-variance audio (wav2vec2); Whisper's
    log-mel front-end wants the waveform's own level."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen = False

    # --- what a family provides ---------------------------------------------------------
    def frontend(self, audio: torch.Tensor, audio_mask: torch.Tensor):
        """(batch, samples) waveform + mask -> (batch, frames, width) input of layer 0 and
        its (batch, frames) frame mask."""
        raise NotImplementedError

    def run_layer(self, layer: nn.Module, hidden: torch.Tensor, frame_mask: torch.Tensor):
        """Apply one pretrained layer of this family to (batch, frames, width)."""
        raise NotImplementedError

    def output_frames(self, sample_counts: torch.Tensor) -> torch.Tensor:
        """Number of frames the front-end makes from `sample_counts` samples (batch,)."""
        raise NotImplementedError

    # --- shared machinery ---------------------------------------------------------------
    def split_layers(
        self,
        layers: list[nn.Module],
        shallow_layers: int,
        final_norm: nn.Module | None,
        fusion_factory,
        dropout: float,
    ) -> None:
        """Keep layers[:shallow] as they are and rebuild layers[shallow:] as FusionLayers.

        fusion_factory(pretrained_attention, heads, attention_dropout)
            -> GatedCrossModalAttention.
        """
        if not 0 <= shallow_layers <= len(layers):
            raise BackboneSplitError(
                f"shallow_layers={shallow_layers} but the backbone has {len(layers)} layers"
            )
        self.shallow_layers = nn.ModuleList(layers[:shallow_layers])
        deep = []
        for layer in layers[shallow_layers:]:
            parts = self.layer_parts(layer)
            fusion: GatedCrossModalAttention = fusion_factory(
                parts.attention, self.heads, self.attention_dropout
            )
            deep.append(
                FusionLayer(
                    fusion,
                    parts.attention_norm,
                    parts.feed_forward,
                    parts.feed_forward_norm,
                    parts.pre_norm,
                    dropout,
                )
            )
        self.deep_layers = nn.ModuleList(deep)
        self.final_norm = final_norm if final_norm is not None else nn.Identity()

    def layer_parts(self, layer: nn.Module) -> LayerParts:
        raise NotImplementedError

    def config_dict(self) -> dict:
        """The family's HF config (`self.hf_config`), JSON-ready, with its `model_type`: saved
        with a WavFusion so that it rebuilds without the original weights folder."""
        values = self.hf_config.to_dict()
        for key in ("transformers_version", "_name_or_path", "architectures"):
            values.pop(key, None)
        return values

    def freeze_shallow(self) -> None:
        """Freeze the front-end and shallow layers (requires_grad off, always in eval mode)."""
        self.frozen = True
        for module in self.frozen_modules():
            module.requires_grad_(False)
        self.train(self.training)

    def frozen_modules(self) -> list[nn.Module]:
        """The modules of Eq 7 (front-end + shallow layers)."""
        deep = set(self.deep_layers.modules()) | set(self.final_norm.modules())
        return [module for module in self.children() if module not in deep]

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            for module in self.frozen_modules():
                module.eval()
        return self

    def shallow_forward(self, audio: torch.Tensor, audio_mask: torch.Tensor):
        """Eq 7: (batch, samples) -> X^a (batch, frames, width) and its frame mask.

        This is what the feature cache stores. With no deep layers it is the whole
        backbone's output (including a final norm, where the family has one).
        """
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            hidden, frame_mask = self.frontend(audio, audio_mask)
            return self.shallow_layers_forward(hidden, frame_mask), frame_mask

    def shallow_layers_forward(self, hidden: torch.Tensor, frame_mask: torch.Tensor):
        """The shallow layers of Eq 7 on the front-end's output `hidden` (batch, frames,
        width) -> X^a (batch, frames, width); with no deep layers, the final norm too."""
        for layer in self.shallow_layers:
            hidden = self.run_layer(layer, hidden, frame_mask)
        if len(self.deep_layers) == 0:
            hidden = self.final_norm(hidden)
        return hidden

    def deep_forward(self, hidden: torch.Tensor, frame_mask: torch.Tensor, **contexts):
        """Deep fusion layers over X^a. Returns X^F (batch, frames, width) and one gate P
        (batch, frames, width) per deep layer."""
        gates = []
        for layer in self.deep_layers:
            hidden, gate = layer(hidden, frame_mask, **contexts)
            gates.append(gate)
        if len(self.deep_layers):
            hidden = self.final_norm(hidden)
        return hidden, gates


def normalize_waveform(audio: torch.Tensor, audio_mask: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance per utterance over its valid samples; padding stays 0.

    Matches the normalisation of Hugging Face's Wav2Vec2FeatureExtractor (eps 1e-7).
    """
    weights = audio_mask.to(audio.dtype)
    count = weights.sum(dim=1, keepdim=True).clamp(min=1.0)
    mean = (audio * weights).sum(dim=1, keepdim=True) / count
    variance = (((audio - mean) * weights) ** 2).sum(dim=1, keepdim=True) / count
    return ((audio - mean) / torch.sqrt(variance + 1e-7)) * weights
