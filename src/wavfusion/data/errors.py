"""Errors and problem records of the data pipeline.

Every data failure names the item (a file, or a manifest line / id) and the reason. Batch jobs
(`data prepare`, `data check`, feature extraction) catch `DataError`, record a `Problem` for the
item, skip it, and report every problem at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class DataError(Exception):
    """A data item that cannot be used; `item` names it, `reason` says why."""

    def __init__(self, item: str | Path, reason: str) -> None:
        self.item = str(item)
        self.reason = reason
        super().__init__(f"{self.item}: {reason}")


class MediaError(DataError):
    """A media file that cannot be decoded into usable audio or frames."""


class ManifestError(DataError):
    """A manifest file that cannot be read at all (missing, no header, wrong columns)."""


@dataclass(frozen=True)
class Problem:
    """One reported problem of a batch job: the item, where it came from, and the reason."""

    item: str
    reason: str
    line: int = 0  # manifest line number, 0 when the item is not a manifest row


def read_utf8_text(path: Path, error: type[DataError], missing: str) -> str:
    """The text of a UTF-8 file (a BOM is dropped); `error(path, reason)` when it is missing
    (reason `missing`) or unreadable."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(path, missing) from None
    except (OSError, UnicodeDecodeError) as caught:
        raise error(path, f"unreadable ({caught}); save it as UTF-8") from None
