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


# other spellings of the built-in names: the noun for the adjective, and the like
LABEL_FORMS = {
    "anger": "angry", "happiness": "happy", "joy": "happy", "sadness": "sad",
    "fear": "fearful", "afraid": "fearful", "disgust": "disgusted", "surprise": "surprised",
    "calmness": "calm", "excitement": "excited", "frustration": "frustrated",
    "neutrality": "neutral", "neu": "neutral", "hap": "happy", "ang": "angry",
    "exc": "excited", "fru": "frustrated", "sur": "surprised", "fea": "fearful",
    "dis": "disgusted",
}


def label_problem(label: str, known: tuple[str, ...] | None = None) -> str | None:
    """Why a row with `label` cannot be used for training or scoring (None: it can). With
    `known` None every non-empty name counts: the manifest's own label names are its classes.
    The one rule `data check`, `extract`, `train`, `evaluate`, `cv` and `ablate` share."""
    if not label:
        return "no label"
    if known is not None and label not in known:
        return f"unknown label {label!r} (known: {', '.join(known)})"
    return None


def builtin_form(label: str) -> str | None:
    """The built-in name (EMOTIONS) that `label` is another form of (`anger` -> `angry`,
    `Happy` -> `happy`, `happpy` -> `happy`), or None when it is one or none is close."""
    import difflib

    if label in EMOTIONS:
        return None
    name = label.strip().lower()
    if name in EMOTIONS:
        return name
    if name in LABEL_FORMS:
        return LABEL_FORMS[name]
    close = difflib.get_close_matches(name, EMOTIONS, n=1, cutoff=0.8)
    return close[0] if close else None


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
