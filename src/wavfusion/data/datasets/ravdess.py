"""RAVDESS (Livingstone & Russo, 2018) → manifest rows, from its file-name convention.

Every file is named `MM-VV-EE-II-SS-RR-AA.ext` (any folder below ROOT):
modality (01 audio-video, 02 video-only, 03 audio-only), vocal channel (01 speech, 02 song),
emotion (01 neutral … 08 surprised, see `labels.RAVDESS_CODES`), intensity (01 normal,
02 strong), statement (01 "Kids are talking by the door", 02 "Dogs are sitting by the door"),
repetition, actor (odd male, even female).

The versions of one recording (same fields but the modality) become one row, id `VV-EE-II-SS-
RR-AA`: `audio` is the audio-only file when there is one, `video` the audio-video file, else the
video-only file. A video-only recording without an audio-only twin has no audio and is reported.
The transcript is the statement. Split by actor (speaker-independent).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from wavfusion.data.datasets.common import MEDIA_EXTENSIONS, PrepareResult, usable_file
from wavfusion.data.datasets.labels import RAVDESS_CODES
from wavfusion.data.datasets.splits import assign_by_speaker
from wavfusion.data.manifest import ManifestRow, relative_path

STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
MODALITIES = {"01": "audio-video", "02": "video-only", "03": "audio-only"}
VOCAL_CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}
CHANNEL_CHOICES = ("speech", "song", "all")
TEST_SHARE, VAL_SHARE = 0.2, 0.1  # default shares of actors held out (rounded to pairs)
_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_FIELDS = ("modality", "vocal_channel", "emotion", "intensity", "statement", "repetition", "actor")


def parse_name(path: str | Path) -> dict[str, str]:
    """The seven fields of a RAVDESS file name; ValueError naming the field that is wrong."""
    match = _NAME.match(Path(path).stem)
    if match is None:
        raise ValueError("name does not follow the RAVDESS MM-VV-EE-II-SS-RR-AA convention")
    fields = dict(zip(_FIELDS, match.groups()))
    checks = {
        "modality": MODALITIES,
        "vocal_channel": VOCAL_CHANNELS,
        "emotion": RAVDESS_CODES,
        "intensity": INTENSITIES,
        "statement": STATEMENTS,
    }
    for name, known in checks.items():
        if fields[name] not in known:
            raise ValueError(f"unknown {name} code {fields[name]} in the file name")
    if not 1 <= int(fields["actor"]) <= 99:
        raise ValueError(f"actor code {fields['actor']} out of range")
    return fields


def held_out_actors(actors: list[int], share: float, exclude: set[int] = frozenset()) -> set[int]:
    """The highest-numbered actors (not in `exclude`) making up `share` of `actors`, in
    male/female pairs (at least one pair)."""
    count = max(2, round(share * len(actors) / 2) * 2)
    candidates = [actor for actor in sorted(actors, reverse=True) if actor not in exclude]
    return set(candidates[:count])


def prepare_ravdess(
    root: str | Path,
    out: str | Path,
    *,
    channel: str = "all",
    test_actors: set[int] | None = None,
    val_actors: set[int] | None = None,
    folds: int | None = None,
) -> PrepareResult:
    """Rows for RAVDESS's 8 emotions; `channel` keeps speech, song or all. Without explicit
    actor lists, the highest-numbered 20% of actors present are test and the next 10% val.
    `folds`: also write a `fold` column, 1..folds, actor-disjoint (consecutive actor groups
    of equal size), for `wavfusion cv --protocol loso` (speaker-independent k-fold)."""
    if channel not in CHANNEL_CHOICES:
        raise ValueError(f"channel must be one of {CHANNEL_CHOICES}, got {channel!r}")
    result = PrepareResult()
    recordings: dict[str, dict[str, Path]] = defaultdict(dict)  # id → modality → file
    fields_of: dict[str, dict[str, str]] = {}
    for path in sorted(Path(root).rglob("*")):
        if path.suffix.lower() not in MEDIA_EXTENSIONS or path.name.startswith("."):
            continue
        try:
            fields = parse_name(path)
        except ValueError as error:
            result.skip(path, str(error))
            continue
        if channel != "all" and VOCAL_CHANNELS[fields["vocal_channel"]] != channel:
            continue
        reason = usable_file(path)
        if reason is not None:
            result.skip(path, reason)
            continue
        key = "-".join(fields[name] for name in _FIELDS[1:])
        if fields["modality"] in recordings[key]:
            result.skip(path, f"duplicate of {recordings[key][fields['modality']]}")
            continue
        recordings[key][fields["modality"]] = path
        fields_of[key] = fields
    for key in sorted(recordings):
        row = _row(key, recordings[key], fields_of[key], out)
        if row is None:
            result.skip(recordings[key]["02"], "video-only recording without an audio-only twin")
        else:
            result.rows.append(row)
    actors = sorted({int(fields["actor"]) for fields in fields_of.values()})
    test = test_actors if test_actors is not None else held_out_actors(actors, TEST_SHARE)
    if val_actors is None:
        val_actors = held_out_actors(actors, VAL_SHARE, exclude=test)
    assign_by_speaker(result.rows, {_speaker(a) for a in test}, {_speaker(a) for a in val_actors})
    result.notes.append(
        f"split by actor: test {sorted(test)}, val {sorted(val_actors)}, train the other "
        f"{len(set(actors) - set(test) - set(val_actors))}"
    )
    if folds:
        result.notes.append(assign_actor_folds(result.rows, actors, folds))
    return result


def assign_actor_folds(rows: list[ManifestRow], actors: list[int], folds: int) -> str:
    """fold = 1..folds by consecutive groups of the sorted actors (sizes differ by at most
    one), so every actor's clips share one fold."""
    if not 2 <= folds <= len(actors):
        raise ValueError(f"--folds must be between 2 and the {len(actors)} actors present, "
                         f"got {folds}")
    fold_of = {_speaker(actor): position * folds // len(actors) + 1
               for position, actor in enumerate(actors)}
    for row in rows:
        row.extra["fold"] = str(fold_of[row.speaker])
    groups = {f: [a for a in actors if fold_of[_speaker(a)] == f] for f in range(1, folds + 1)}
    return "folds by actor: " + "; ".join(f"{f}: {g[0]}-{g[-1]}" for f, g in groups.items())


def _speaker(actor: int | str) -> str:
    return f"Actor_{int(actor):02d}"


def _row(key: str, files: dict[str, Path], fields: dict[str, str], out) -> ManifestRow | None:
    audio = files.get("03")
    video = files.get("01") or files.get("02")
    if audio is None and "01" not in files:
        return None
    return ManifestRow(
        id=key,
        audio=relative_path(audio, out) if audio else "",
        video=relative_path(video, out) if video else "",
        text=STATEMENTS[fields["statement"]],
        label=RAVDESS_CODES[fields["emotion"]],
        speaker=_speaker(fields["actor"]),
        extra={
            "original_label": fields["emotion"],
            "vocal_channel": VOCAL_CHANNELS[fields["vocal_channel"]],
            "intensity": INTENSITIES[fields["intensity"]],
            "repetition": fields["repetition"],
            "gender": "male" if int(fields["actor"]) % 2 else "female",
        },
    )
