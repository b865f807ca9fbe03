"""Which parts an extraction writes: the plan over the manifest, shards, resume.

The manifest's rows are cut, in order, into parts of `part_size` rows; part i belongs to
shard `i % num_shards`. A part whose complete, checked copy is already in the cache is
skipped, so an interrupted run resumes with exactly the parts it had not finished, cut the
same way: the cache it ends with is the one an uninterrupted run makes. Rows already in the
cache under another part (a manifest that changed since) are not extracted again, unless
their inputs changed (source.py): such a part is deleted and its rows are extracted again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wavfusion.data.manifest import ManifestRow
from wavfusion.features.source import changed_fields
from wavfusion.features.store import (
    CorruptCacheError,
    PartIndex,
    complete_part_names,
    part_index_of,
    part_name,
    read_part,
    remove_part,
    verify_part,
)

DEFAULT_PART_SIZE = 32
"""Rows per part. Bounds the memory of a part in flight (decoded audio and frames: ~80 MB for
32 video clips of 16 face crops) and the work an interruption loses; 8k rows make 250 parts,
1,000 files."""

DEFAULT_BATCH_SIZE = 8  # clips per audio forward
DEFAULT_WORKERS = 2  # decoding threads

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shard:
    index: int = 0
    count: int = 1

    def owns(self, part_index: int) -> bool:
        return part_index % self.count == self.index

    def __str__(self) -> str:
        return f"shard {self.index + 1} of {self.count}"


def resolve_shard(
    index: int | None, count: int | None, environ: Mapping[str, str] | None = None
) -> Shard:
    """The shard from `--shard-index/--num-shards`, else torchrun's RANK/WORLD_SIZE, else the
    whole manifest."""
    environ = os.environ if environ is None else environ
    if index is None and count is None and "RANK" in environ and "WORLD_SIZE" in environ:
        index, count = int(environ["RANK"]), int(environ["WORLD_SIZE"])
    index, count = index or 0, count or 1
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard index {index} is not in 0..{count - 1} (num_shards {count})")
    return Shard(index, count)


@dataclass
class PlannedPart:
    index: int
    name: str
    rows: list[ManifestRow]
    existing: PartIndex | None = None  # the complete copy in the cache, when there is one


def load_existing(parts: Path, shard: Shard, verify: bool = True) -> tuple[dict[str, PartIndex], list[str]]:
    """The complete parts in `parts`. This shard's parts are checked in full (sizes and
    checksums) and a damaged one is deleted, to be extracted again; returns the parts and
    one message per deleted part. Other shards' damaged parts are left to them."""
    existing: dict[str, PartIndex] = {}
    repaired: list[str] = []
    for name in complete_part_names(parts):
        owned = shard.owns(part_index_of(name))
        try:
            index = read_part(parts, name)
            if owned and verify:
                verify_part(parts, index)
        except CorruptCacheError as error:
            if not owned:
                log.warning("%s (left to its own shard)", error)
                continue
            remove_part(parts, name)
            repaired.append(f"{error.path.name}: {error.reason}")
            continue
        existing[name] = index
    return existing, repaired


@dataclass(frozen=True)
class ChangedRow:
    """A cached row whose inputs changed since it was extracted."""

    id: str
    line: int
    changes: tuple[str, ...]  # in words: "transcript", "audio file", ...


def stale_parts(existing: Mapping[str, PartIndex], sources: Mapping[str, dict]
                ) -> dict[str, list[ChangedRow]]:
    """Parts holding a row (entry or skipped row) of the manifest whose source differs from
    the one recorded: part name -> the changed rows. Rows no longer in the manifest are not
    looked at (their entries stay, unused)."""
    stale: dict[str, list[ChangedRow]] = {}
    for name, index in existing.items():
        for item in index.entries + index.problems:
            current = sources.get(item["id"])
            if current is None:
                continue
            changes = changed_fields(item.get("source"), current)
            if changes:
                stale.setdefault(name, []).append(
                    ChangedRow(item["id"], int(item.get("line", 0)), tuple(changes)))
    return stale


def plan_parts(
    rows: list[ManifestRow],
    part_size: int,
    existing: Mapping[str, PartIndex],
    retry_failed: bool = False,
) -> list[PlannedPart]:
    """Cut `rows` into parts; a part already complete in `existing` carries it (unless it
    has failed rows and `retry_failed`). Rows already present in other parts are dropped."""
    if part_size < 1:
        raise ValueError(f"part_size must be at least 1, got {part_size}")
    present = {item["id"] for index in existing.values()
               for item in index.entries + index.problems}
    plan = []
    for number, begin in enumerate(range(0, len(rows), part_size)):
        chunk = rows[begin : begin + part_size]
        name = part_name(number, [row.id for row in chunk])
        if name not in existing:
            chunk = [row for row in chunk if row.id not in present]
            if not chunk:
                continue
            name = part_name(number, [row.id for row in chunk])
        found = existing.get(name)
        if found is not None and retry_failed and found.problems:
            found = None
        plan.append(PlannedPart(number, name, chunk, found))
    return plan


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_PART_SIZE",
    "DEFAULT_WORKERS",
    "ChangedRow",
    "PlannedPart",
    "Shard",
    "load_existing",
    "plan_parts",
    "resolve_shard",
    "stale_parts",
]
