"""Frozen pretrained backbones that load offline (the bundled Whisper tiny.en, HF folders)."""

from wavfusion.backbones.errors import (
    BackboneError,
    BackboneFormatError,
    BackboneNotFoundError,
    BackboneSplitError,
)
from wavfusion.backbones.whisper_encode import WhisperEncoding, encode_variable_length
from wavfusion.backbones.whisper_encoder import bundled_whisper_folder, load_whisper_encoder
from wavfusion.backbones.whisper_features import WhisperFrontEnd, whisper_log_mel

__all__ = [
    "BackboneError",
    "BackboneFormatError",
    "BackboneNotFoundError",
    "BackboneSplitError",
    "WhisperEncoding",
    "WhisperFrontEnd",
    "bundled_whisper_folder",
    "encode_variable_length",
    "load_whisper_encoder",
    "whisper_log_mel",
]
