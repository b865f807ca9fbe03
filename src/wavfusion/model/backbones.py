"""Which speech transformer a WavFusionConfig names, and building it split and frozen."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from torch import nn

from wavfusion.backbones.errors import BackboneFormatError, BackboneSplitError
from wavfusion.config import WavFusionConfig, split_layers
from wavfusion.model.fusion import GatedCrossModalAttention
from wavfusion.model.speech_backbone import SpeechBackbone
from wavfusion.model.wav2vec2_backbone import (
    EMBEDDED_WAV2VEC2,
    Wav2Vec2Backbone,
    resolve_wav2vec2,
    wav2vec2_depth,
)
from wavfusion.model.whisper_backbone import (
    BUNDLED_NAME,
    WhisperBackbone,
    resolve_whisper,
    whisper_depth,
)

FAMILIES = {
    "wav2vec2": (resolve_wav2vec2, Wav2Vec2Backbone),
    "whisper": (resolve_whisper, WhisperBackbone),
}
DEPTHS = {"wav2vec2": wav2vec2_depth, "whisper": whisper_depth}


@lru_cache(maxsize=8)
def backbone_depth(source: str) -> int:
    """Number of transformer layers of the audio backbone `source`, read from its config
    (nothing is built; cached per source: planning the ablations asks once per row and seed)."""
    return DEPTHS[backbone_family(source, None)](source)


def backbone_family(source: str, saved_config: dict | None) -> str:
    """"whisper" or "wav2vec2", from a saved config, an embedded name, or a folder's files."""
    if saved_config is not None:
        return "whisper" if saved_config.get("model_type") == "whisper" else "wav2vec2"
    if source == BUNDLED_NAME:
        return "whisper"
    if source in EMBEDDED_WAV2VEC2:
        return "wav2vec2"
    folder = Path(source).expanduser()
    if folder.is_dir():
        config = folder / "config.json"
        model_type = None
        if config.is_file():
            try:
                model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
            except (OSError, json.JSONDecodeError, AttributeError) as error:
                raise BackboneFormatError(config, f"unreadable backbone config: {error}") from error
        if model_type == "whisper" or (model_type is None and (folder / "model.bin").is_file()):
            return "whisper"
        return "wav2vec2"
    return "whisper" if "whisper" in source.lower() else "wav2vec2"


def build_backbone(config: WavFusionConfig, load_weights: bool) -> SpeechBackbone:
    """Resolve config.audio_backbone, split it, freeze the prefix; fills the resolved
    settings (shallow_layers, deep_layers, freeze_shallow, audio_backbone_config) back into
    `config`."""
    saved = config.audio_backbone_config
    resolve, backbone_class = FAMILIES[backbone_family(config.audio_backbone, saved)]
    model, pretrained = resolve(
        config.audio_backbone, config.pretrained_backbone and load_weights, saved
    )
    depth = backbone_class.depth(model)
    try:
        shallow, deep = split_layers(config, depth)
    except ValueError as error:
        raise BackboneSplitError(str(error)) from error

    def fusion_factory(attention: nn.Module, heads: int, dropout: float):
        return GatedCrossModalAttention(
            attention, heads=heads, dropout=dropout,
            text_dim=config.text_hidden if "text" in config.modalities else None,
            visual_dim=config.visual_hidden if "visual" in config.modalities else None,
        )

    backbone = backbone_class(model, shallow, fusion_factory)
    config.shallow_layers, config.deep_layers = shallow, deep
    config.audio_backbone_config = backbone.config_dict()
    if config.freeze_shallow is None:
        config.freeze_shallow = pretrained
    if config.freeze_shallow:
        backbone.freeze_shallow()
    return backbone
