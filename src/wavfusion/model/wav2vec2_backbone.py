"""The wav2vec 2.0 family (the paper's backbone), built from transformers' Wav2Vec2 classes.

Sources: an embedded configuration (random weights: `embedded-small`, `wav2vec2-base-random`),
a local Hugging Face folder, or a hub id already in the local cache. Nothing is downloaded, and
only safetensors weights are read (a folder with only a pickled `pytorch_model.bin` is refused).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import Wav2Vec2Config, Wav2Vec2Model
from transformers.masking_utils import create_bidirectional_mask
from transformers.models.wav2vec2.modeling_wav2vec2 import Wav2Vec2EncoderLayerStableLayerNorm

from wavfusion.backbones.errors import BackboneFormatError, BackboneNotFoundError
from wavfusion.model.speech_backbone import LayerParts, SpeechBackbone

# Configurations that need no download. `embedded-small` is sized to train from scratch on a
# laptop CPU; its feature encoder uses layer norm (not wav2vec2-base's group norm over time), so
# a clip's features do not depend on the padding of its batch.
EMBEDDED_WAV2VEC2: dict[str, dict[str, Any]] = {
    "embedded-small": {
        "hidden_size": 256,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "intermediate_size": 1024,
        "conv_dim": (256, 256, 256, 256, 256, 256, 256),
        "feat_extract_norm": "layer",
        "conv_bias": True,
        "num_conv_pos_embeddings": 64,
        "num_conv_pos_embedding_groups": 8,
        "do_stable_layer_norm": False,
    },
    "wav2vec2-base-random": {},  # transformers' Wav2Vec2Config defaults are wav2vec2-base
}


def resolve_wav2vec2(
    source: str, pretrained: bool, saved_config: dict[str, Any] | None
) -> tuple[Wav2Vec2Model, bool]:
    """Build the HF model for `source`. Returns (model, whether pretrained weights were read).

    saved_config: the HF config stored in a saved WavFusion; the model is built from it with
    random weights (the WavFusion checkpoint then supplies every weight).
    """
    if saved_config is not None:
        return Wav2Vec2Model(Wav2Vec2Config(**saved_config)), False
    if source in EMBEDDED_WAV2VEC2:
        return Wav2Vec2Model(Wav2Vec2Config(**EMBEDDED_WAV2VEC2[source])), False
    folder = Path(source)
    if folder.is_dir() and pretrained:
        has_safetensors = any(folder.glob("*.safetensors"))
        if not has_safetensors and any(folder.glob("*.bin")):
            raise BackboneFormatError(
                folder, "only pickled weights (*.bin) found; wavfusion reads safetensors only. "
                "Convert with `model.save_pretrained(folder, safe_serialization=True)`."
            )
    try:
        if pretrained:
            model = Wav2Vec2Model.from_pretrained(
                source, local_files_only=True, use_safetensors=True
            )
            return model, True
        return Wav2Vec2Model(Wav2Vec2Config.from_pretrained(source, local_files_only=True)), False
    except OSError as error:
        raise _not_found(source, error) from error


def wav2vec2_depth(source: str) -> int:
    """The number of transformer layers of `source`, from its config alone (not built)."""
    if source in EMBEDDED_WAV2VEC2:
        return Wav2Vec2Config(**EMBEDDED_WAV2VEC2[source]).num_hidden_layers
    try:
        return Wav2Vec2Config.from_pretrained(source, local_files_only=True).num_hidden_layers
    except OSError as error:
        raise _not_found(source, error) from error


def _not_found(source: str, error: OSError) -> BackboneNotFoundError:
    return BackboneNotFoundError(
        f"audio backbone {source!r}: not an embedded name ({', '.join(EMBEDDED_WAV2VEC2)}), "
        f"not a readable folder, and not in the local Hugging Face cache (nothing is "
        f"downloaded at run time): {error}")


class Wav2Vec2Backbone(SpeechBackbone):
    """wav2vec2 feature encoder + projection + positional conv (the front-end) and its layers.

    Mirrors Wav2Vec2Model.forward step by step, so that the shallow output equals
    `Wav2Vec2Model(...).hidden_states[shallow_layers]` exactly.
    """

    def __init__(self, model: Wav2Vec2Model, shallow_layers: int, fusion_factory) -> None:
        super().__init__()
        config = model.config
        self.hf_config = config
        self.width = config.hidden_size
        self.heads = config.num_attention_heads
        self.attention_dropout = config.attention_dropout
        self.expects_normalized_audio = True
        self.feature_extractor = model.feature_extractor
        self.feature_projection = model.feature_projection
        self.position_embedding = model.encoder.pos_conv_embed
        self.stable_layer_norm = bool(config.do_stable_layer_norm)
        # Post-norm encoders normalise before the first layer, pre-norm ones after the last.
        self.input_norm = nn.Identity() if self.stable_layer_norm else model.encoder.layer_norm
        self.dropout = nn.Dropout(config.hidden_dropout)
        final_norm = model.encoder.layer_norm if self.stable_layer_norm else None
        self.split_layers(
            list(model.encoder.layers), shallow_layers, final_norm, fusion_factory,
            config.hidden_dropout,
        )

    @staticmethod
    def depth(model: Wav2Vec2Model) -> int:
        return model.config.num_hidden_layers

    def output_frames(self, sample_counts: torch.Tensor) -> torch.Tensor:
        frames = sample_counts
        for kernel, stride in zip(self.hf_config.conv_kernel, self.hf_config.conv_stride):
            frames = torch.div(frames - kernel, stride, rounding_mode="floor") + 1
        return frames.clamp(min=0)

    def frontend(self, audio: torch.Tensor, audio_mask: torch.Tensor):
        features = self.feature_extractor(audio).transpose(1, 2)
        frames = self.output_frames(audio_mask.sum(dim=1))
        frame_mask = torch.arange(features.shape[1], device=audio.device)[None] < frames[:, None]
        hidden, _ = self.feature_projection(features)
        hidden = hidden.masked_fill(~frame_mask.unsqueeze(-1), 0.0)
        hidden = hidden + self.position_embedding(hidden)
        hidden = self.dropout(self.input_norm(hidden))
        return hidden, frame_mask

    def run_layer(self, layer: nn.Module, hidden: torch.Tensor, frame_mask: torch.Tensor):
        mask = create_bidirectional_mask(
            config=self.hf_config, inputs_embeds=hidden, attention_mask=frame_mask
        )
        return layer(hidden, attention_mask=mask)

    def layer_parts(self, layer: nn.Module) -> LayerParts:
        return LayerParts(
            attention=layer.attention,
            attention_norm=layer.layer_norm,
            feed_forward=layer.feed_forward,
            feed_forward_norm=layer.final_layer_norm,
            pre_norm=isinstance(layer, Wav2Vec2EncoderLayerStableLayerNorm),
        )
