"""Frozen pretrained backbones that load offline (the bundled Whisper tiny.en, HF folders).

The names below are imported on first use: `wavfusion.backbones.log_mel` (numpy only) must
be importable without torch, for the ONNX fast path of `wavfusion predict`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wavfusion.backbones.errors import (
        BackboneError,
        BackboneFormatError,
        BackboneNotFoundError,
        BackboneSplitError,
    )
    from wavfusion.backbones.whisper_encode import WhisperEncoding, encode_variable_length
    from wavfusion.backbones.whisper_encoder import bundled_whisper_folder, load_whisper_encoder
    from wavfusion.backbones.whisper_features import WhisperFrontEnd, whisper_log_mel

_HOMES = {
    "BackboneError": "errors",
    "BackboneFormatError": "errors",
    "BackboneNotFoundError": "errors",
    "BackboneSplitError": "errors",
    "WhisperEncoding": "whisper_encode",
    "WhisperFrontEnd": "whisper_features",
    "bundled_whisper_folder": "whisper_encoder",
    "encode_variable_length": "whisper_encode",
    "load_whisper_encoder": "whisper_encoder",
    "whisper_log_mel": "whisper_features",
}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
