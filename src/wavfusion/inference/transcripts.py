"""`--transcripts CSV`: which transcript goes with which file.

The CSV (UTF-8, with a header) has a `file` column (or `path`) and a `transcript` column (or
`text`); other columns are ignored. A file on the command line finds its transcript by the path
as written, by the resolved path, or by its base name (when only one CSV row has that name).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

from wavfusion.data.errors import DataError, read_utf8_text

FILE_COLUMNS = ("file", "path")
TEXT_COLUMNS = ("transcript", "text")


class TranscriptsFileError(DataError):
    """A transcripts CSV that cannot be used (names the file, and the line when it is one)."""


class TranscriptTable:
    """Transcripts by path as written, by resolved path and by base name."""

    def __init__(self, source: Path, rows: list[tuple[str, str]]) -> None:
        self.source = source
        self.by_path: dict[str, str] = {}
        self.by_name: dict[str, list[str]] = defaultdict(list)
        base = source.parent  # relative paths in the CSV are relative to it, or to the cwd
        for name, text in rows:
            for key in {name, str(Path(name).resolve()), str((base / name).resolve())}:
                self.by_path[key] = text
            self.by_name[Path(name).name].append(text)

    def __len__(self) -> int:
        return sum(len(texts) for texts in self.by_name.values())

    def get(self, file: str | Path) -> str | None:
        """The transcript of `file`, None when the CSV has none. TranscriptsFileError when
        only the base name matches and several rows have it."""
        for key in (str(file), str(Path(file).resolve())):
            if key in self.by_path:
                return self.by_path[key]
        texts = self.by_name.get(Path(file).name, [])
        if len(texts) > 1:
            raise TranscriptsFileError(self.source, f"{len(texts)} rows are named "
                                       f"{Path(file).name!r}: give {file} by its full path")
        return texts[0] if texts else None


def _column(header: list[str], names: tuple[str, ...], path: Path) -> int:
    for name in names:
        if name in header:
            return header.index(name)
    raise TranscriptsFileError(path, f"no {' or '.join(names)} column in the header "
                               f"({','.join(header)}); expected file,transcript")


def read_transcripts(path: str | Path) -> TranscriptTable:
    """Read a transcripts CSV. TranscriptsFileError for a missing or unreadable file, a header
    without the columns, a row with too few fields, or one file given twice."""
    path = Path(path)
    text = read_utf8_text(path, TranscriptsFileError, "transcripts file not found")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip().lower() for cell in next(reader, [])]
    file_at, text_at = _column(header, FILE_COLUMNS, path), _column(header, TEXT_COLUMNS, path)
    rows: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) <= max(file_at, text_at):
            raise TranscriptsFileError(path, f"line {line}: {len(cells)} fields, the header has "
                                       f"{len(header)}")
        name = cells[file_at].strip()
        if name in seen:
            raise TranscriptsFileError(path, f"line {line}: {name!r} is also on line "
                                       f"{seen[name]}")
        seen[name] = line
        rows.append((name, cells[text_at].strip()))
    return TranscriptTable(path, rows)


__all__ = ["TranscriptTable", "TranscriptsFileError", "read_transcripts"]
