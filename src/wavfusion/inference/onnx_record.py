"""RUN/model.onnx's record, RUN/model.onnx.json: what the graph was exported from, and how
to feed it. Torch-free: the fast path of `wavfusion predict` reads it before deciding.

The record holds the sha256 of the run files the export read (config.json, model.safetensors
and run.json, whose feature settings give `max_seconds`); a file that changed since, or a
record that is missing or unreadable, makes the graph stale: `read_fresh_record` then returns
None and the torch path predicts. The export deletes the record first and writes it last, so
a model.onnx without its record (an export that was killed) is never used either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

ONNX_NAME = "model.onnx"
RECORD_NAME = "model.onnx.json"
RECORD_FORMAT = 1
SOURCE_FILES = ("config.json", "model.safetensors", "run.json")
HASH_CHUNK = 1 << 20
WAVEFORM = "waveform"  # graph input: (1, samples) 16 kHz (wav2vec2)
LOG_MEL = "log_mel"  # graph input: (1, num_mel_bins, frames), backbones/log_mel.py (Whisper)


@dataclass(frozen=True)
class OnnxRecord:
    """What the fast path needs besides the graph. `sources`: file name -> sha256 (None for
    a file the run does not have)."""

    sources: dict[str, str | None]
    input_kind: str  # WAVEFORM or LOG_MEL
    num_mel_bins: int | None  # LOG_MEL only
    labels: list[str]
    modalities: list[str]
    deep_layers: int
    max_seconds: float
    format: int = RECORD_FORMAT


def file_sha256(path: Path) -> str | None:
    """sha256 of `path` in hex, None when there is no such file."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def source_hashes(folder: Path) -> dict[str, str | None]:
    """sha256 of each of SOURCE_FILES in the run `folder`."""
    return {name: file_sha256(folder / name) for name in SOURCE_FILES}


def read_record(folder: str | Path) -> OnnxRecord | None:
    """RUN's record as written, None when absent, unreadable or of another format."""
    try:
        values = json.loads((Path(folder) / RECORD_NAME).read_text(encoding="utf-8"))
        record = OnnxRecord(**values)
    except (OSError, ValueError, TypeError):
        return None
    return record if record.format == RECORD_FORMAT else None


def read_fresh_record(folder: str | Path) -> OnnxRecord | None:
    """RUN's record when RUN/model.onnx is there and was exported from RUN's files as they
    are now; else None (stale or absent: predict with torch)."""
    folder = Path(folder)
    record = read_record(folder)
    if record is None or not (folder / ONNX_NAME).is_file():
        return None
    return record if record.sources == source_hashes(folder) else None


def record_json(record: OnnxRecord) -> str:
    return json.dumps(asdict(record), indent=2, sort_keys=True) + "\n"


__all__ = ["LOG_MEL", "ONNX_NAME", "RECORD_NAME", "WAVEFORM", "OnnxRecord", "file_sha256",
           "read_fresh_record", "read_record", "record_json", "source_hashes"]
