"""What a feature cache was made with: `CacheSettings`, its key, and the stale-cache check.

Every setting that changes a stored number is a field, so two caches with the same `key()`
hold the same features. The encoders enter by *fingerprint* (a sha256 over the weights and
configuration that compute the features, see `identity.py`), not by name: the same folder under
another path is the same encoder, a retrained one is not. Names are kept for messages only.

Settings that change no stored number are not part of the key: batch size, worker count,
shard split, device (a GPU's kernels round differently from a CPU's, within fp16 noise).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from wavfusion.data import media

FORMAT_VERSION = 1  # bump when the cache layout or what an entry holds changes
# The defaults of wavfusion.backbones.text / .image, restated so that reading a cache needs
# neither torch nor transformers (tests/features/test_encoders.py pins them equal).
DEFAULT_TEXT_ENCODER = "all-MiniLM-L6-v2-bundled"
DEFAULT_MAX_TEXT_TOKENS = 128
DEFAULT_IMAGE_ENCODER = "efficientnet-lite0"


class StaleCacheError(ValueError):
    """A cache made with other settings than the ones a run expects."""

    def __init__(self, folder: str | Path, differences: list[str]) -> None:
        self.folder = Path(folder)
        self.differences = differences
        super().__init__(
            f"{self.folder}: feature cache made with other settings ({'; '.join(differences)}). "
            "Extract into another folder (wavfusion extract --out NEW ...) or delete this one."
        )


@dataclass(frozen=True)
class ExtractionOptions:
    """The extraction choices that are not part of the model's configuration."""

    text_encoder: str = DEFAULT_TEXT_ENCODER
    max_text_tokens: int = DEFAULT_MAX_TEXT_TOKENS
    image_encoder: str = DEFAULT_IMAGE_ENCODER
    frames_per_clip: int = media.DEFAULT_NUM_FRAMES
    crop_faces: bool = True
    frame_size: int = media.DEFAULT_FRAME_SIZE
    max_seconds: float = media.DEFAULT_MAX_SECONDS

    def __post_init__(self) -> None:
        minimums = {"max_text_tokens": 2, "frames_per_clip": 1, "frame_size": 8}
        for name, minimum in minimums.items():
            if getattr(self, name) < minimum:
                raise ValueError(f"{name} must be at least {minimum}, got {getattr(self, name)}")
        if not self.max_seconds > 0:
            raise ValueError(f"max_seconds must be positive, got {self.max_seconds}")


@dataclass(frozen=True)
class CacheSettings:
    """Identity of a feature cache. JSON-able (`to_dict` / `from_dict`)."""

    # audio: Eq 7, the frozen shallow prefix; nothing is stored when the prefix trains
    audio_backbone: str
    audio_stored: bool
    audio_fingerprint: str | None  # None when audio is not stored
    shallow_layers: int | None
    normalize_audio: bool | None  # waveform standardised before the prefix (wav2vec2)
    audio_width: int | None
    # text: Eq 5
    text_encoder: str
    text_fingerprint: str
    text_dim: int
    max_text_tokens: int
    # visual: Eq 1
    image_encoder: str
    image_fingerprint: str
    visual_dim: int
    image_size: int  # encoder input, pixels per side
    frames_per_clip: int
    crop_faces: bool
    frame_size: int  # face crop, pixels per side, before resizing to image_size
    # decoding
    max_seconds: float
    sample_rate: int = media.SAMPLE_RATE
    format_version: int = FORMAT_VERSION

    NAME_FIELDS: ClassVar[tuple[str, ...]] = ("audio_backbone", "text_encoder", "image_encoder")
    """Descriptive only: left out of the key (the fingerprints identify the encoders)."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CacheSettings:
        names = {field.name for field in dataclasses.fields(cls)}
        unknown, missing = sorted(set(values) - names), sorted(names - set(values))
        if unknown or missing:
            raise ValueError(
                f"cache settings: unknown {unknown or 'none'}, missing {missing or 'none'}"
            )
        return cls(**values)

    def extraction_options(self) -> ExtractionOptions:
        """The extraction options these features were made with (as recorded here)."""
        return ExtractionOptions(
            text_encoder=self.text_encoder, max_text_tokens=self.max_text_tokens,
            image_encoder=self.image_encoder, frames_per_clip=self.frames_per_clip,
            crop_faces=self.crop_faces, frame_size=self.frame_size,
            max_seconds=self.max_seconds,
        )

    def keyed(self) -> dict[str, Any]:
        """The fields that identify the features (all but the descriptive names)."""
        return {k: v for k, v in self.to_dict().items() if k not in self.NAME_FIELDS}

    def key(self) -> str:
        """Stable hex digest (sha256) of `keyed()` as canonical JSON."""
        text = json.dumps(self.keyed(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def differences(self, expected: CacheSettings) -> list[str]:
        """Readable `field: cache X, expected Y` for every keyed field that differs; an
        encoder fingerprint difference is shown with both encoders' names."""
        mine, theirs = self.keyed(), expected.keyed()
        names = {"audio_fingerprint": "audio_backbone", "text_fingerprint": "text_encoder",
                 "image_fingerprint": "image_encoder"}
        lines = []
        for field, value in mine.items():
            if theirs[field] == value:
                continue
            if field in names:
                name = names[field]
                lines.append(
                    f"{field}: cache {_short(value)} ({getattr(self, name)}), expected "
                    f"{_short(theirs[field])} ({getattr(expected, name)})"
                )
            else:
                lines.append(f"{field}: cache {value!r}, expected {theirs[field]!r}")
        return lines


def _short(fingerprint: str | None) -> str:
    return "none" if fingerprint is None else fingerprint[:12]


def check_settings(folder: str | Path, found: CacheSettings, expected: CacheSettings) -> None:
    """Raise StaleCacheError naming `folder` and each differing setting."""
    if found.key() != expected.key():
        raise StaleCacheError(folder, found.differences(expected) or ["format differs"])


__all__ = [
    "FORMAT_VERSION",
    "CacheSettings",
    "ExtractionOptions",
    "StaleCacheError",
    "check_settings",
]
