"""Split protocols: which rows are train, val and test.

All protocols keep speakers apart where they can: a speaker seen in training never appears in
val or test, which is what "generalise to unseen speakers" means.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

from wavfusion.data.manifest import ManifestRow

VAL_FRACTION = 0.1  # share of the non-test rows used for validation


def pick_val_speakers(rows: Iterable[ManifestRow], fraction: float = VAL_FRACTION) -> set[str]:
    """Speakers whose rows make up at least `fraction` of `rows`, taken from the end of the
    sorted speaker list (deterministic); empty when fewer than two speakers are known."""
    counts = Counter(row.speaker for row in rows if row.speaker)
    if len(counts) < 2:
        return set()
    total, chosen, taken = sum(counts.values()), set(), 0
    for speaker in sorted(counts, reverse=True):
        if taken >= fraction * total or len(chosen) == len(counts) - 1:
            break
        chosen.add(speaker)
        taken += counts[speaker]
    return chosen


def _stable_fraction(text: str) -> float:
    """A number in [0, 1) fixed by `text`: a reproducible coin flip without a random state."""
    digest = hashlib.sha1(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_train_val(rows: list[ManifestRow], fraction: float = VAL_FRACTION) -> str:
    """Set `split` to train or val on `rows`: speaker-disjoint when two or more speakers are
    known, otherwise a reproducible `fraction` of the rows. Returns how val was chosen."""
    val_speakers = pick_val_speakers(rows, fraction)
    for row in rows:
        if val_speakers:
            is_val = row.speaker in val_speakers
        else:
            is_val = _stable_fraction(row.id) < fraction
        row.split = "val" if is_val else "train"
    if val_speakers:
        return f"val speakers: {', '.join(sorted(val_speakers))}"
    return f"val: {fraction:.0%} of rows by id (not speaker-disjoint: fewer than two speakers)"


def apply_fold(
    rows: list[ManifestRow], fold: str, column: str = "fold", fraction: float = VAL_FRACTION
) -> str:
    """Leave-one-group-out: rows whose `column` equals `fold` become test, the rest train/val
    (speaker-disjoint val). Used for IEMOCAP's session-5 and leave-one-session-out protocols;
    a trainer runs it once per fold. Returns a one-line description."""
    rest = []
    for row in rows:
        if row.extra.get(column) == fold:
            row.split = "test"
        else:
            rest.append(row)
    return f"test: {column} {fold}; " + assign_train_val(rest, fraction)


def assign_by_speaker(
    rows: list[ManifestRow], test_speakers: set[str], val_speakers: set[str]
) -> None:
    """Speaker-independent split: listed speakers to test / val, everyone else to train."""
    for row in rows:
        if row.speaker in test_speakers:
            row.split = "test"
        elif row.speaker in val_speakers:
            row.split = "val"
        else:
            row.split = "train"
