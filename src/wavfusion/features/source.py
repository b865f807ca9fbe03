"""What a cache entry was computed from, so that an edited row is never served stale.

Each entry (and each skipped row) of a part records its row's *source*: for the audio and
the video file, the path as the manifest writes it with the file's size and modification time
(or "missing"); a digest of the transcript; the time window; the face region. A row whose
source differs from the one recorded was edited since (a transcript changed, a file
replaced, removed or added) and its part is extracted again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from wavfusion.data.manifest import Manifest, ManifestRow

SOURCE_FIELDS = ("audio", "video", "text", "window", "face")
WHAT_CHANGED = {"audio": "audio file", "video": "video file", "text": "transcript",
                "window": "start/end", "face": "face region"}


def _file_state(manifest: Manifest, value: str) -> str:
    """`path|size|mtime_ns`, `path|missing`, or '' for an empty cell."""
    path: Path | None = manifest.path_of(value)
    if path is None:
        return ""
    try:
        status = path.stat()
    except OSError:
        return f"{value}|missing"
    return f"{value}|{status.st_size}|{status.st_mtime_ns}"


def row_source(manifest: Manifest, row: ManifestRow) -> dict[str, str]:
    """The inputs of `row` as recorded in the cache (one short string per field)."""
    start, end = row.window
    return {
        "audio": _file_state(manifest, row.audio),
        "video": _file_state(manifest, row.video),
        "text": hashlib.sha256(row.text.encode()).hexdigest()[:16] if row.text else "",
        "window": f"{start}-{end}" if (start, end) != (None, None) else "",
        "face": row.face_region or "",
    }


def changed_fields(recorded: dict | None, current: dict[str, str]) -> list[str]:
    """What differs between a recorded source and the row's current one, in words; a
    cache entry without a record (an older cache) counts as changed."""
    if recorded is None:
        return ["not recorded"]
    return [WHAT_CHANGED[name] for name in SOURCE_FIELDS
            if recorded.get(name, "") != current.get(name, "")]


class ChangedRowError(ValueError):
    """A cache entry that no longer matches its manifest row."""

    def __init__(self, cache_folder: Path, manifest_path: Path, row: ManifestRow,
                 changes: list[str]) -> None:
        self.row = row
        super().__init__(f"{cache_folder}: row {row.id!r} (line {row.line}) of {manifest_path} "
                         f"does not match its cache entry ({', '.join(changes)}); run "
                         "`wavfusion extract` again")
