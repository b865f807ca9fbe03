"""The on-disk format of a feature cache: a settings file and parts of utterances.

    CACHE/cache.json                    format, settings (+ key), part size
    CACHE/parts/<part>.json             index of one part; its presence = the part is complete
    CACHE/parts/<part>.<modality>.bin   float16 little-endian arrays of that part, back to back

A part holds up to `part_size` consecutive manifest rows (`<part>` = `p<index>-<hash of its
ids>`). Its index lists, per utterance, the byte offset, shape and CRC-32 of each modality's
array (null when absent), and the rows that could not be extracted, with the reason.

Writing is atomic (`wavfusion.atomic`): each file goes to a temporary name in `parts/`, then
is `os.replace`d into place, data files first and the index last (the index is also fsynced). A killed writer
leaves at most temporary files and index-less data files, which readers ignore and the next
`extract` removes. After a machine crash a data file may lack what its durable index lists:
sizes (checked on open) and per-array CRC-32s (checked on read, and on resume) catch it. Files are written in a fixed order with canonical JSON and no timestamps, so the
same rows extracted with the same settings give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wavfusion.atomic import TEMP_SUFFIX, sync_folder, write_bytes

CACHE_FILE = "cache.json"
PARTS_FOLDER = "parts"
FORMAT_NAME = "wavfusion-feature-cache"
MODALITIES = ("audio", "text", "visual")
DTYPE = np.dtype("<f2")  # float16, little-endian on every machine


class CorruptCacheError(ValueError):
    """A cache file that is not what its index says (torn, truncated or modified)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(
            f"{self.path}: {reason}. Run `wavfusion extract` again with the same --out and "
            "settings: it re-extracts damaged parts."
        )


@dataclass(frozen=True)
class ArrayRef:
    """Where one utterance's array of one modality lies in its part's data file."""

    offset: int  # bytes from the start of the file
    shape: tuple[int, int]  # (rows, width)
    crc32: int

    @property
    def nbytes(self) -> int:
        return self.shape[0] * self.shape[1] * DTYPE.itemsize


@dataclass
class PartIndex:
    """The index of one complete part."""

    name: str
    files: dict[str, int]  # modality -> expected size in bytes of its data file
    entries: list[dict] = field(default_factory=list)
    """{"id", "line", "source", "audio"|"text"|"visual": [offset, rows, width, crc32] or None}"""
    problems: list[dict] = field(default_factory=list)  # {"id", "line", "reason", "source"}

    def ref(self, entry: dict, modality: str) -> ArrayRef | None:
        value = entry.get(modality)
        return None if value is None else ArrayRef(value[0], (value[1], value[2]), value[3])


def part_name(index: int, ids: list[str]) -> str:
    """`p<index>-<8 hex of sha256 of the ids>`: a different set of rows never shares a name."""
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:8]
    return f"p{index:06d}-{digest}"


def part_index_of(name: str) -> int:
    return int(name[1:].split("-", 1)[0])


def data_path(parts: Path, name: str, modality: str) -> Path:
    return parts / f"{name}.{modality}.bin"


def index_path(parts: Path, name: str) -> Path:
    return parts / f"{name}.json"


def canonical_json(value: object) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def write_part(
    parts: Path,
    name: str,
    entries: list[tuple[str, int, dict[str, np.ndarray | None]]],
    problems: list[dict],
    sources: dict[str, dict] | None = None,
) -> PartIndex:
    """Write one part: `entries` are (id, manifest line, {modality: (rows, width) array or
    None}) in manifest order; `sources`: id -> what the row was computed from (source.py).
    Data files first, the index last (that commits the part)."""
    index = PartIndex(name, {}, [], problems)
    sources = sources or {}
    for id_, line, _ in entries:
        index.entries.append({"id": id_, "line": line, "source": sources.get(id_)})
    for modality in MODALITIES:
        blobs, offset = [], 0
        for entry, (_, _, arrays) in zip(index.entries, entries):
            array = arrays.get(modality)
            if array is None:
                entry[modality] = None
                continue
            blob = np.ascontiguousarray(array, dtype=DTYPE).tobytes()
            rows, width = array.shape
            entry[modality] = [offset, int(rows), int(width), zlib.crc32(blob)]
            blobs.append(blob)
            offset += len(blob)
        if blobs:  # not fsynced (~15 ms a file): after a crash, sizes and CRCs tell
            write_bytes(data_path(parts, name, modality), blobs, durable=False)
            index.files[modality] = offset
    document = {"part": name, "files": index.files, "entries": index.entries,
                "problems": problems}
    write_bytes(index_path(parts, name), canonical_json(document))
    sync_folder(parts)
    return index


def read_part(parts: Path, name: str) -> PartIndex:
    """Read and check one part's index against its data files (existence, sizes, every
    array inside its file). Raises CorruptCacheError naming the file and the reason."""
    path = index_path(parts, name)
    try:
        document = json.loads(path.read_bytes())
        index = PartIndex(name, dict(document["files"]), list(document["entries"]),
                          list(document["problems"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CorruptCacheError(path, f"unreadable part index ({error})") from error
    for modality, expected in index.files.items():
        data = data_path(parts, name, modality)
        try:
            size = data.stat().st_size
        except FileNotFoundError:
            raise CorruptCacheError(data, "data file missing (listed by its part index)") from None
        if size != expected:
            raise CorruptCacheError(data, f"{size} bytes, its part index says {expected}")
    for entry in index.entries:
        for modality in MODALITIES:
            ref = index.ref(entry, modality)
            if ref is not None and ref.offset + ref.nbytes > index.files.get(modality, 0):
                raise CorruptCacheError(
                    data_path(parts, name, modality),
                    f"entry {entry['id']!r} ends at byte {ref.offset + ref.nbytes}, past the "
                    f"file's {index.files.get(modality, 0)}",
                )
    return index


def verify_part(parts: Path, index: PartIndex) -> None:
    """Check the CRC-32 of every array of a part (reads all its data)."""
    for modality, size in index.files.items():
        path = data_path(parts, index.name, modality)
        data = np.fromfile(path, dtype=np.uint8) if size else np.zeros(0, np.uint8)
        for entry in index.entries:
            ref = index.ref(entry, modality)
            if ref is not None and zlib.crc32(data[ref.offset : ref.offset + ref.nbytes]) != ref.crc32:
                raise CorruptCacheError(path, f"entry {entry['id']!r}: checksum mismatch")


def complete_part_names(parts: Path) -> list[str]:
    """Names of the parts whose index exists, sorted (= manifest order within a plan)."""
    if not parts.is_dir():
        return []
    return sorted(path.stem for path in parts.glob("p*.json"))


def remove_part(parts: Path, name: str) -> None:
    """Delete a part: its index first (so it is never seen half-deleted), then its data."""
    index_path(parts, name).unlink(missing_ok=True)
    for modality in MODALITIES:
        data_path(parts, name, modality).unlink(missing_ok=True)


def remove_leftovers(parts: Path, owned: Callable[[int], bool]) -> int:
    """Delete what a killed writer left of the parts `owned(part index)` accepts: temporary
    files and data files without an index (other shards' files in flight are left alone).
    Returns how many files were removed."""
    if not parts.is_dir():
        return 0
    complete = set(complete_part_names(parts))
    removed = 0
    for path in parts.iterdir():
        name = path.name.removeprefix(".")
        try:
            index = part_index_of(name)
        except ValueError:
            continue
        part = name.split(".", 1)[0]
        leftover = path.name.endswith(TEMP_SUFFIX) or (
            path.suffix == ".bin" and part not in complete
        )
        if leftover and owned(index):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


__all__ = [
    "CACHE_FILE",
    "DTYPE",
    "FORMAT_NAME",
    "MODALITIES",
    "PARTS_FOLDER",
    "ArrayRef",
    "CorruptCacheError",
    "PartIndex",
    "canonical_json",
    "complete_part_names",
    "data_path",
    "part_name",
    "read_part",
    "remove_leftovers",
    "remove_part",
    "verify_part",
    "write_part",
]
