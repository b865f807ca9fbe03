"""JSON-lines cache of transcripts, rewritten atomically and merged across processes.

One ``{"key", "audio", "model", "language", "beam_size", "text"}`` object per line; ``key``
is the lookup, the other fields say what it was computed from (see ``transcribe``).
"""

from __future__ import annotations

import json
from pathlib import Path

from wavfusion.atomic import write_text
from wavfusion.backbones.conversion_cache import default_cache_dir
from wavfusion.backbones.errors import BackboneFormatError


def default_transcript_cache() -> Path:
    """``$WAVFUSION_CACHE/transcripts.jsonl`` (default ``~/.cache/wavfusion/``)."""
    return default_cache_dir().parent / "transcripts.jsonl"


class TranscriptCache:
    """``key -> text`` backed by a JSON-lines file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict] = self._read()
        self.unsaved = 0

    def _read(self) -> dict[str, dict]:
        if not self.path.is_file():
            return {}
        entries = {}
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            try:
                entry = json.loads(line)
                entries[entry["key"]] = entry
            except (ValueError, KeyError, TypeError) as error:
                raise BackboneFormatError(
                    self.path, f"line {number} is not a transcript entry ({error}); delete it"
                ) from None
        return entries

    def get(self, key: str) -> str | None:
        entry = self.entries.get(key)
        return None if entry is None else entry["text"]

    def put(self, entry: dict) -> None:
        self.entries[entry["key"]] = entry
        self.unsaved += 1

    def flush(self) -> None:
        """Merge with the file's current content (other processes' entries) and rewrite it
        under a temporary name, then ``os.replace``: readers never see half a file."""
        if not self.unsaved:
            return
        self.entries = {**self._read(), **self.entries}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text(self.path, "".join(json.dumps(entry, ensure_ascii=False) + "\n"
                                      for entry in self.entries.values()))
        self.unsaved = 0
