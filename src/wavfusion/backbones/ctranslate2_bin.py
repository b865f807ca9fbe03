"""Reader for CTranslate2 ``model.bin`` files (binary version 6), numpy only, memory-mapped.

Layout (all integers little-endian)::

    uint32 binary_version                      (6)
    string spec_name                           e.g. "WhisperSpec"
    uint32 spec_revision
    uint32 num_variables
    num_variables x:
        string name
        uint8  rank
        rank x uint32 dims
        uint8  dtype_id                        0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16
        uint32 num_bytes                       == prod(dims) * itemsize
        num_bytes raw values (C order)
    uint32 num_aliases
    num_aliases x: string alias, string target

where ``string`` is a uint16 length that counts a trailing NUL, then that many bytes.
Nothing is unpickled and nothing is executed: every field is checked against the file size
and any inconsistency raises :class:`BackboneFormatError` naming the file and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wavfusion.backbones.errors import BackboneFormatError, BackboneNotFoundError

SUPPORTED_BINARY_VERSION = 6
MAX_RANK = 8  # CTranslate2 tensors are at most 4-D; anything larger means a corrupt header

# dtype id -> (CTranslate2 name, numpy storage dtype); bfloat16 is kept as raw uint16 bits.
DTYPES: dict[int, tuple[str, np.dtype]] = {
    0: ("float32", np.dtype("<f4")),
    1: ("int8", np.dtype("i1")),
    2: ("int16", np.dtype("<i2")),
    3: ("int32", np.dtype("<i4")),
    4: ("float16", np.dtype("<f2")),
    5: ("bfloat16", np.dtype("<u2")),
}


@dataclass(frozen=True)
class CTranslate2Variable:
    """One stored tensor.

    ``array`` is a read-only view into the memory-mapped file with shape ``dims``; for
    ``bfloat16`` it holds the raw 16-bit patterns (numpy has no bfloat16).
    """

    name: str
    dtype: str
    array: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    def to_float32(self) -> np.ndarray:
        """A new float32 array of the stored values (no dequantisation scale applied)."""
        if self.dtype == "bfloat16":
            # bfloat16 is the upper half of a float32: shift the bits into place.
            return (self.array.astype(np.uint32) << 16).view(np.float32)
        return self.array.astype(np.float32)


@dataclass(frozen=True)
class CTranslate2ModelFile:
    """The parsed content of one ``model.bin``; variables stay memory-mapped."""

    path: Path
    binary_version: int
    spec_name: str
    spec_revision: int
    variables: dict[str, CTranslate2Variable]
    aliases: dict[str, str] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.variables or name in self.aliases

    def get(self, name: str) -> CTranslate2Variable:
        """The variable called ``name`` (aliases resolved); raises if it is not stored."""
        target = self.aliases.get(name, name)
        if target not in self.variables:
            raise BackboneFormatError(self.path, f"missing variable {name!r}")
        return self.variables[target]


class _Cursor:
    """Sequential, bounds-checked reads from a uint8 memory map."""

    def __init__(self, path: Path, buffer: np.ndarray) -> None:
        self.path = path
        self.buffer = buffer
        self.offset = 0

    def fail(self, reason: str) -> BackboneFormatError:
        return BackboneFormatError(self.path, reason)

    def take(self, size: int, what: str) -> np.ndarray:
        end = self.offset + size
        if end > self.buffer.size:
            raise self.fail(
                f"truncated or corrupt: {what} needs {size} bytes at offset {self.offset}, "
                f"but the file has {self.buffer.size} bytes"
            )
        chunk = self.buffer[self.offset : end]
        self.offset = end
        return chunk

    def uint(self, width: int, what: str) -> int:
        return int.from_bytes(self.take(width, what).tobytes(), "little")

    def string(self, what: str) -> str:
        length = self.uint(2, f"length of {what}")
        raw = self.take(length, what).tobytes()
        if length == 0 or raw[-1] != 0:
            raise self.fail(f"corrupt {what} at offset {self.offset - length}: not NUL-terminated")
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError as error:
            raise self.fail(f"corrupt {what} at offset {self.offset - length}: {error}") from None


def _read_variable(cursor: _Cursor, index: int) -> CTranslate2Variable:
    name = cursor.string(f"name of variable #{index}")
    rank = cursor.uint(1, f"rank of {name!r}")
    if rank > MAX_RANK:
        raise cursor.fail(f"corrupt variable {name!r}: rank {rank} > {MAX_RANK}")
    dims = tuple(cursor.uint(4, f"dimension {axis} of {name!r}") for axis in range(rank))
    dtype_id = cursor.uint(1, f"dtype of {name!r}")
    if dtype_id not in DTYPES:
        raise cursor.fail(f"variable {name!r} has unknown dtype id {dtype_id}")
    dtype_name, storage = DTYPES[dtype_id]
    num_bytes = cursor.uint(4, f"byte count of {name!r}")
    expected = math.prod(dims) * storage.itemsize
    if num_bytes != expected:
        raise cursor.fail(
            f"variable {name!r}: byte count {num_bytes} does not match dims {dims} x "
            f"{dtype_name} ({expected} bytes)"
        )
    raw = cursor.take(num_bytes, f"values of {name!r}")
    return CTranslate2Variable(name, dtype_name, raw.view(storage).reshape(dims))


def read_ctranslate2_model(path: str | Path) -> CTranslate2ModelFile:
    """Parse a CTranslate2 ``model.bin`` (binary version 6) without copying tensor data.

    Args:
        path: the ``model.bin`` file, or a CTranslate2 model folder containing it.

    Raises:
        BackboneNotFoundError: the file does not exist.
        BackboneFormatError: wrong version, truncation, unknown dtype, inconsistent byte
            count, trailing bytes, ... (the message names the file and the field).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.bin"
    if not path.is_file():
        raise BackboneNotFoundError(f"{path}: CTranslate2 model.bin not found")
    if path.stat().st_size == 0:
        raise BackboneFormatError(path, "empty file")
    cursor = _Cursor(path, np.memmap(path, dtype=np.uint8, mode="r"))

    version = cursor.uint(4, "binary version")
    if version != SUPPORTED_BINARY_VERSION:
        raise cursor.fail(
            f"unsupported CTranslate2 binary version {version} "
            f"(this reader knows version {SUPPORTED_BINARY_VERSION})"
        )
    spec_name = cursor.string("spec name")
    revision = cursor.uint(4, "spec revision")
    num_variables = cursor.uint(4, "number of variables")
    variables: dict[str, CTranslate2Variable] = {}
    for index in range(num_variables):
        variable = _read_variable(cursor, index)
        if variable.name in variables:
            raise cursor.fail(f"variable {variable.name!r} is stored twice")
        variables[variable.name] = variable

    aliases: dict[str, str] = {}
    for index in range(cursor.uint(4, "number of aliases")):
        alias = cursor.string(f"alias #{index}")
        aliases[alias] = cursor.string(f"target of alias {alias!r}")
    for alias, target in aliases.items():
        if target not in variables:
            raise cursor.fail(f"alias {alias!r} points to missing variable {target!r}")
    trailing = cursor.buffer.size - cursor.offset
    if trailing:
        raise cursor.fail(f"{trailing} unexpected bytes after the alias table")
    return CTranslate2ModelFile(path, version, spec_name, revision, variables, aliases)
