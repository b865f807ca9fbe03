"""The manifest: one CSV that every dataset becomes and everything downstream reads.

Format (UTF-8, one row per utterance)::

    id,audio,video,text,label,speaker,split[,extra columns...]

- `id`: unique, non-empty.
- `audio`, `video`: paths relative to the manifest's folder (or absolute). Either may be empty,
  not both; an empty `audio` means "use the video's audio track".
- `text`: the transcript; empty = text modality missing.
- `label`: the emotion (see `wavfusion.data.datasets.labels`); empty for unlabelled data.
- `speaker`: who speaks; may be empty. `split`: train / val / test, or empty.
- Extra columns are kept as they are. Three have a meaning here: `start` and `end` (seconds)
  cut the utterance out of a longer `video` (and out of its audio track when `audio` is
  empty; a separate audio file is always the utterance alone), and `face_region`
  (left / right) says in which half of the frame the speaker's face is.

    manifest = read_manifest("manifest.csv")
    for row in manifest.rows:
        wave = manifest.load_audio(row)       # (samples,) float32, 16 kHz mono
        frames = manifest.load_frames(row)    # (16, 224, 224, 3) uint8, or None without video
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wavfusion.data import media
from wavfusion.data.errors import ManifestError, MediaError, Problem
from wavfusion.data.faces import FACE_REGIONS

COLUMNS = ("id", "audio", "video", "text", "label", "speaker", "split")
REQUIRED_COLUMNS = ("id", "label")  # plus at least one of MEDIA_COLUMNS
MEDIA_COLUMNS = ("audio", "video")
OPTIONAL_COLUMNS = ("text", "speaker", "split", "start", "end", "face_region")
SPLITS = ("train", "val", "test")
WINDOW_COLUMNS = ("start", "end")


@dataclass
class ManifestRow:
    """One utterance. Paths are as written in the manifest; `Manifest.path_of` resolves them."""

    id: str
    audio: str = ""
    video: str = ""
    text: str = ""
    label: str = ""
    speaker: str = ""
    split: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    line: int = 0  # line in the manifest file it came from (0: not read from a file)

    @property
    def window(self) -> tuple[float | None, float | None]:
        """`(start, end)` seconds of the utterance inside `video`, None where not given."""
        start, end = (self.extra.get(name, "").strip() for name in WINDOW_COLUMNS)
        return (float(start) if start else None, float(end) if end else None)

    @property
    def face_region(self) -> str | None:
        return self.extra.get("face_region", "").strip() or None

    def as_dict(self) -> dict[str, str]:
        values = {name: getattr(self, name) for name in COLUMNS}
        return {**values, **self.extra}


@dataclass
class Manifest:
    """Rows read from a manifest file, plus the rows that were rejected and why."""

    path: Path
    rows: list[ManifestRow]
    extra_columns: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def path_of(self, value: str) -> Path | None:
        """A path cell resolved against the manifest's folder; None for an empty cell."""
        if not value:
            return None
        path = Path(value)
        return path if path.is_absolute() else self.folder / path

    def load_audio(self, row: ManifestRow, **options) -> np.ndarray:
        """`(samples,)` float32 16 kHz audio of `row`: its audio file, else its video's track
        (windowed by `start`/`end`). Options go to `media.load_audio`."""
        if row.audio:
            return media.load_audio(self.path_of(row.audio), **options)
        start, end = row.window
        return media.load_audio(self.path_of(row.video), start=start, end=end, **options)

    def load_frames(self, row: ManifestRow, num_frames: int = media.DEFAULT_NUM_FRAMES, **options):
        """`(num_frames, size, size, 3)` uint8 face crops of `row`'s video, None without video."""
        if not row.video:
            return None
        start, end = row.window
        return media.load_frames(
            self.path_of(row.video),
            num_frames,
            start=start,
            end=end,
            face_region=row.face_region,
            **options,
        )


def _undecodable(value: str) -> bytes | None:
    """The raw bytes that were not UTF-8 (kept as surrogate escapes), or None."""
    bad = [ord(char) - 0xDC00 for char in value if 0xDC80 <= ord(char) <= 0xDCFF]
    return bytes(bad) if bad else None


def _row_problem(row: ManifestRow) -> str | None:
    """Why a row cannot be used, judging the row alone (files are `data check`'s job)."""
    if not row.id.strip():
        return "empty id"
    if not row.audio and not row.video:
        return "no audio and no video: at least one is needed"
    if row.split not in SPLITS + ("",):
        return f"split {row.split!r} is not one of {', '.join(SPLITS)} (or empty)"
    region = row.face_region
    if region is not None and region not in FACE_REGIONS:
        return f"face_region {region!r} is not one of {', '.join(FACE_REGIONS)} (or empty)"
    try:
        start, end = row.window
    except ValueError:
        return f"start/end are not numbers: {row.extra.get('start')!r}, {row.extra.get('end')!r}"
    if any(value is not None and not math.isfinite(value) for value in (start, end)):
        return "start/end must be finite numbers"
    if start is not None and end is not None and end <= start:
        return f"end {end:g} s is not after start {start:g} s"
    if (start is not None or end is not None) and not row.video:
        return "start/end given but no video to cut them from"
    return None


def read_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest file.

    Rows that cannot be used (too few or too many fields, bytes that are not UTF-8, empty or
    duplicate id, neither audio nor video, unknown split, bad window) are left out of `rows`
    and listed in `problems` with their line. Raises ManifestError only when the file as a
    whole is unusable: missing, empty, or a header without the required columns.
    """
    path = Path(path).absolute()  # relative cells stay valid when the working folder changes
    if not path.is_file():
        raise ManifestError(path, "manifest file not found")
    text = path.read_bytes().decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise ManifestError(path, "empty file: no header line")
    header = [cell.strip() for cell in header]
    if _undecodable("".join(header)):
        raise ManifestError(path, "the header line is not valid UTF-8")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if not any(name in header for name in MEDIA_COLUMNS):
        missing.append(" or ".join(MEDIA_COLUMNS))
    if missing:
        raise ManifestError(
            path, f"header lacks column(s) {', '.join(missing)}; a manifest needs id, label "
            f"and audio or video, in any order (optional: {', '.join(OPTIONAL_COLUMNS)})"
        )
    extra_columns = [name for name in header if name not in COLUMNS]
    manifest = Manifest(path, [], extra_columns)
    first_line: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # blank line
        item = cells[0] if cells else ""
        if len(cells) != len(header):
            reason = f"{len(cells)} fields, the header has {len(header)}"
            manifest.problems.append(Problem(item, reason, line))
            continue
        values = dict(zip(header, cells))
        raw = next((_undecodable(v) for v in values.values() if _undecodable(v)), None)
        if raw is not None:
            column = next(name for name, value in values.items() if _undecodable(value))
            reason = f"bytes that are not UTF-8 in column {column!r}: {raw!r}; save as UTF-8"
            manifest.problems.append(Problem(item, reason, line))
            continue
        row = ManifestRow(
            **{name: values.get(name, "").strip() for name in COLUMNS},
            extra={name: values[name] for name in extra_columns},
            line=line,
        )
        reason = _row_problem(row)
        if reason is None and row.id in first_line:
            reason = f"duplicate id (first on line {first_line[row.id]})"
        if reason is not None:
            manifest.problems.append(Problem(row.id or item, reason, line))
            continue
        first_line[row.id] = line
        manifest.rows.append(row)
    return manifest


def relative_path(path: str | Path, manifest_path: str | Path) -> str:
    """`path` as written into a manifest at `manifest_path` (POSIX separators): relative to the
    manifest's folder when the two share a folder below the filesystem root (so moving that
    folder keeps the manifest valid), absolute otherwise."""
    target, folder = Path(path).absolute(), Path(manifest_path).absolute().parent
    try:
        shared = Path(os.path.commonpath([target, folder]))
    except ValueError:  # different drives on Windows
        return target.as_posix()
    if shared == Path(shared.anchor):
        return target.as_posix()
    return Path(os.path.relpath(target, folder)).as_posix()


def write_manifest(
    path: str | Path, rows: list[ManifestRow], extra_columns: list[str] | None = None
) -> Path:
    """Write `rows` as a UTF-8 manifest; extra columns default to those the rows carry, in
    first-seen order. Returns the path written."""
    path = Path(path)
    if extra_columns is None:
        extra_columns = list(dict.fromkeys(name for row in rows for name in row.extra))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(list(COLUMNS) + extra_columns)
        for row in rows:
            values = row.as_dict()
            writer.writerow([values.get(name, "") for name in list(COLUMNS) + extra_columns])
    return path


__all__ = [
    "COLUMNS",
    "SPLITS",
    "Manifest",
    "ManifestError",
    "ManifestRow",
    "MediaError",
    "read_manifest",
    "relative_path",
    "write_manifest",
]
