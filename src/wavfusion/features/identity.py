"""Fingerprints of the frozen encoders, and the `CacheSettings` a configuration expects.

A fingerprint is a sha256 over what computes the features: every tensor (name, dtype, shape,
bytes) of the frozen modules, plus the configuration that shapes their computation (the HF
config, the tokenizer). Hashing the loaded tensors, not the files, makes it independent of the
weights' file format and path; it takes ~20 ms for Whisper tiny.en's prefix, ~0.3 s for
wav2vec2-base's nine layers.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from wavfusion.backbones.image import ImageFeatureEncoder
from wavfusion.backbones.text import TextFeatureEncoder
from wavfusion.config import WavFusionConfig
from wavfusion.features.audio import AudioPrefix
from wavfusion.features.settings import CacheSettings, ExtractionOptions
from wavfusion.model.wavfusion import WavFusion


def tensor_fingerprint(tensors: Iterable[tuple[str, torch.Tensor]], extra: Any = None) -> str:
    """sha256 over named tensors (in the given order) and a JSON-able `extra`."""
    digest = hashlib.sha256()
    digest.update(json.dumps(extra, sort_keys=True, default=str).encode())
    for name, tensor in tensors:
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def module_fingerprint(module: nn.Module, extra: Any = None) -> str:
    """Fingerprint of every parameter and buffer of `module` (state_dict order)."""
    return tensor_fingerprint(module.state_dict().items(), extra)


def audio_prefix_fingerprint(model: WavFusion) -> str:
    """Fingerprint of Eq 7 as `model` computes it: the front-end and shallow layers (plus the
    final norm when there are no deep layers: the prefix then ends with it), the backbone's
    config, the split, and whether the waveform is standardised first."""
    backbone = model.backbone
    frozen = {id(module) for module in backbone.frozen_modules()}
    names = [name for name, child in backbone.named_children() if id(child) in frozen]
    if len(backbone.deep_layers) == 0:
        names.append("final_norm")
    tensors = [
        (key, value) for key, value in backbone.state_dict().items()
        if key.split(".", 1)[0] in names
    ]
    extra = {
        "family": type(backbone).__name__,
        "config": backbone.config_dict(),
        "shallow_layers": len(backbone.shallow_layers),
        "normalize": _normalizes(model),
    }
    return tensor_fingerprint(tensors, extra)


def _normalizes(model: WavFusion) -> bool:
    return bool(model.config.normalize_audio and model.backbone.expects_normalized_audio)


def text_fingerprint(encoder: TextFeatureEncoder) -> str:
    """Weights + config of the text model and the tokenizer's full definition."""
    tokenizer = encoder.tokenizer
    backend = getattr(tokenizer, "backend_tokenizer", None)
    vocabulary = backend.to_str() if backend is not None else sorted(tokenizer.get_vocab().items())
    extra = {"config": encoder.model.config.to_diff_dict(), "tokenizer": vocabulary,
             "class": type(tokenizer).__name__}
    extra["config"].pop("transformers_version", None)
    extra["config"].pop("_name_or_path", None)
    return module_fingerprint(encoder.model, extra)


def image_fingerprint(encoder: ImageFeatureEncoder) -> str:
    """Weights of the image model, its class and input size."""
    extra = {"class": type(encoder.model).__name__, "input_size": encoder.input_size}
    return module_fingerprint(encoder.model, extra)


@dataclass(frozen=True)
class EncoderIdentity:
    """What the settings record of a frozen text or image encoder."""

    name: str
    fingerprint: str
    dim: int
    input_size: int = 0  # image encoders: pixels per side of the input


def text_identity(encoder: TextFeatureEncoder) -> EncoderIdentity:
    return EncoderIdentity(encoder.name, text_fingerprint(encoder), encoder.dim)


def image_identity(encoder: ImageFeatureEncoder) -> EncoderIdentity:
    return EncoderIdentity(encoder.name, image_fingerprint(encoder), encoder.dim,
                           encoder.input_size)


def recorded_identities(settings: CacheSettings) -> tuple[EncoderIdentity, EncoderIdentity]:
    """The text and image encoder identities `settings` record (no encoder is loaded)."""
    text = EncoderIdentity(settings.text_encoder, settings.text_fingerprint, settings.text_dim)
    image = EncoderIdentity(settings.image_encoder, settings.image_fingerprint,
                            settings.visual_dim, settings.image_size)
    return text, image


def compute_settings(
    model: WavFusion, text: EncoderIdentity, image: EncoderIdentity, options: ExtractionOptions
) -> CacheSettings:
    """The settings of a cache made with the prefix of `model` (a built WavFusion: its
    shallow_layers and freeze_shallow are resolved), these encoders and `options`."""
    stored = bool(model.config.freeze_shallow)
    return CacheSettings(
        audio_backbone=model.config.audio_backbone,
        audio_stored=stored,
        audio_fingerprint=audio_prefix_fingerprint(model) if stored else None,
        shallow_layers=model.config.shallow_layers if stored else None,
        normalize_audio=_normalizes(model) if stored else None,
        audio_width=model.backbone.width if stored else None,
        text_encoder=text.name,
        text_fingerprint=text.fingerprint,
        text_dim=text.dim,
        max_text_tokens=options.max_text_tokens,
        image_encoder=image.name,
        image_fingerprint=image.fingerprint,
        visual_dim=image.dim,
        image_size=image.input_size,
        frames_per_clip=options.frames_per_clip,
        crop_faces=options.crop_faces,
        frame_size=options.frame_size,
        max_seconds=float(options.max_seconds),
    )


@functools.lru_cache(maxsize=4)
def _cached_text_identity(source: str, max_tokens: int) -> EncoderIdentity:
    return text_identity(TextFeatureEncoder(source, max_tokens))


@functools.lru_cache(maxsize=4)
def _cached_image_identity(source: str) -> EncoderIdentity:
    return image_identity(ImageFeatureEncoder(source))


def settings_for(
    config: WavFusionConfig,
    options: ExtractionOptions | None = None,
    *,
    model: WavFusion | None = None,
) -> CacheSettings:
    """The CacheSettings that training `config` on features extracted with `options`
    expects, so that a stale cache is refused (`FeatureCache.open(folder, expected=...)`).

    Of `config` only the audio backbone, its split, freeze_shallow and normalize_audio matter
    (`modalities` does not: one cache serves every modality subset of Table 3). `model`: an
    already built WavFusion of `config` whose prefix is fingerprinted instead of building
    one. The text and image encoders are loaded (once per process) to be fingerprinted.
    """
    options = options or ExtractionOptions()
    if model is None or model.backbone is None:
        model = AudioPrefix.build(config).model
    text = _cached_text_identity(options.text_encoder, options.max_text_tokens)
    image = _cached_image_identity(options.image_encoder)
    return compute_settings(model, text, image, options)


__all__ = [
    "EncoderIdentity",
    "audio_prefix_fingerprint",
    "compute_settings",
    "image_fingerprint",
    "image_identity",
    "module_fingerprint",
    "settings_for",
    "tensor_fingerprint",
    "text_fingerprint",
    "text_identity",
]
