"""What every dataset adapter returns, and small helpers they share."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from wavfusion.data.errors import Problem
from wavfusion.data.manifest import ManifestRow

MEDIA_EXTENSIONS = (".wav", ".flac", ".mp3", ".mp4", ".avi", ".flv", ".mkv", ".m4a", ".ogg")


@dataclass
class PrepareResult:
    """Rows of a manifest made from a raw release, and everything left out of it, with why."""

    rows: list[ManifestRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # items skipped, one each
    dropped: Counter = field(default_factory=Counter)  # labels left out of the label set
    notes: list[str] = field(default_factory=list)  # protocol and other one-line facts

    def skip(self, item: str | Path, reason: str) -> None:
        self.problems.append(Problem(str(item), reason))


def find_path(root: Path, name: str, *, folder: bool, max_depth: int = 3) -> Path | None:
    """The first folder (or file) called `name` at `root` or up to `max_depth` levels below it,
    shallowest first (releases unpack with or without a wrapping folder)."""
    frontier = [root]
    for _ in range(max_depth + 1):
        for parent in frontier:
            candidate = parent / name
            if candidate.is_dir() if folder else candidate.is_file():
                return candidate
        frontier = sorted(p for parent in frontier for p in parent.iterdir() if p.is_dir())
    return None


def usable_file(path: Path) -> str | None:
    """Why `path` cannot be a media file of a row (missing or empty), or None if it may."""
    if not path.is_file():
        return "file not found"
    if path.stat().st_size == 0:
        return "empty file (0 bytes)"
    return None
