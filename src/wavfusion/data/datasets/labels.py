"""Emotion label vocabularies: one readable name per emotion, shared by every dataset.

Each release spells its emotions differently (IEMOCAP `hap`, MELD `joy`, RAVDESS code `03`);
the adapters map them all onto the names below, so a model trained on one manifest reads
another, and the original spelling stays in the manifest's `original_label` column.
"""

from __future__ import annotations

# every label name the adapters write
EMOTIONS = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgusted",
    "surprised",
    "excited",
    "frustrated",
)

IEMOCAP_CODES = {
    "neu": "neutral",
    "hap": "happy",
    "sad": "sad",
    "ang": "angry",
    "exc": "excited",
    "fru": "frustrated",
    "sur": "surprised",
    "fea": "fearful",
    "dis": "disgusted",
}

MELD_NAMES = {
    "neutral": "neutral",
    "joy": "happy",
    "sadness": "sad",
    "anger": "angry",
    "fear": "fearful",
    "disgust": "disgusted",
    "surprise": "surprised",
}

RAVDESS_CODES = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgusted",
    "08": "surprised",
}

# the class sets of the usual protocols, in the order a model's outputs use
LABEL_SETS: dict[str, tuple[str, ...]] = {
    "iemocap4": ("neutral", "happy", "sad", "angry"),  # excited merged into happy
    "iemocap6": ("neutral", "happy", "sad", "angry", "excited", "frustrated"),
    "meld": ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"),
    "ravdess": tuple(RAVDESS_CODES.values()),
    "all": EMOTIONS,
}


def parse_label_set(spec: str) -> tuple[str, ...]:
    """A named label set (`iemocap4`, `iemocap6`, `meld`, `ravdess`, `all`) or a comma list."""
    if spec in LABEL_SETS:
        return LABEL_SETS[spec]
    labels = tuple(dict.fromkeys(name.strip() for name in spec.split(",") if name.strip()))
    if not labels:
        raise ValueError(f"empty label set {spec!r}")
    return labels


def iemocap_label(code: str, classes: int) -> str | None:
    """The label of an IEMOCAP code in the 4- or 6-class set; None when the set drops it."""
    label = IEMOCAP_CODES.get(code)
    if classes == 4 and label == "excited":
        label = "happy"
    allowed = LABEL_SETS[f"iemocap{classes}"]
    return label if label in allowed else None
