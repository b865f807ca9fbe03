"""Atomic file writes: a reader sees the old file or the whole new one, never half of one.

The new content goes to a temporary name in the target's folder (same filesystem, so the
rename is atomic), is fsynced when `durable`, and is then `os.replace`d onto the target. A
killed writer leaves at most a hidden `.NAME.*.tmp` file, which readers ignore.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def temporary_name(target: Path) -> Path:
    """A hidden name beside `target`, distinct per process and per call."""
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _fsync_file(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def atomic_write(target: str | Path, write: Callable[[Path], object], durable: bool = True) -> None:
    """Call `write(temporary_path)` to create the new content, then move it onto `target`.

    `durable`: fsync the file before the rename (else a crash may leave a renamed file whose
    data never reached the disk; callers that verify sizes or checksums on read can skip it).
    The temporary file is removed if `write` or the rename fails.
    """
    target = Path(target)
    temporary = temporary_name(target)
    try:
        write(temporary)
        if durable:
            _fsync_file(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes(target: str | Path, data: bytes | Iterable[bytes], durable: bool = True) -> None:
    """`data` (bytes, or chunks written one after the other) atomically to `target`."""
    chunks = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data

    def write(path: Path) -> None:
        with open(path, "wb") as stream:
            stream.writelines(chunks)

    atomic_write(target, write, durable)


def write_text(target: str | Path, text: str, durable: bool = True) -> None:
    """UTF-8 `text` atomically to `target`."""
    write_bytes(target, text.encode("utf-8"), durable)


def sync_folder(folder: str | Path) -> None:
    """Make the renames inside `folder` durable (a no-op where folders cannot be opened)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
