"""On-disk cache of converted backbones: ``model.safetensors`` + ``config.json`` per entry.

Layout: ``<cache root>/backbones/<name>-<key>/`` where the cache root is ``$WAVFUSION_CACHE``
or ``~/.cache/wavfusion`` and ``key`` hashes the source file's resolved path, size and
modification time with :data:`CACHE_FORMAT` (a changed source or converter gives a new entry).
Each file is written under a temporary name in the entry folder, then ``os.replace``-d into
place, ``config.json`` last: an entry with a ``config.json`` is complete, and readers never see
half a file even with concurrent writers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from transformers import WhisperConfig

from wavfusion.atomic import atomic_write, write_text
from wavfusion.backbones.errors import BackboneFormatError

CACHE_ENV = "WAVFUSION_CACHE"
CACHE_FORMAT = "whisper-encoder-v1"  # bump when the conversion's output changes
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"

Converter = Callable[[Path], tuple[WhisperConfig, dict[str, torch.Tensor]]]


def default_cache_dir() -> Path:
    """``$WAVFUSION_CACHE/backbones``, else ``~/.cache/wavfusion/backbones``."""
    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "wavfusion"
    return Path(root).expanduser() / "backbones"


def cache_entry(source_file: Path, name: str, cache_dir: Path | None = None) -> Path:
    """The entry folder for ``source_file`` (not created)."""
    stat = source_file.stat()
    fingerprint = f"{CACHE_FORMAT}|{source_file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    key = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    return (cache_dir or default_cache_dir()) / f"{safe_name}-{key}"


def save_entry(entry: Path, config: WhisperConfig, state_dict: dict[str, torch.Tensor]) -> None:
    """Write one entry atomically (weights first, then ``config.json`` as the marker)."""
    entry.mkdir(parents=True, exist_ok=True)
    tensors = {key: value.contiguous() for key, value in state_dict.items()}
    atomic_write(entry / WEIGHTS_FILE, lambda path: save_file(tensors, str(path)))
    config_json = config.to_json_string()
    write_text(entry / CONFIG_FILE, config_json)


def load_entry(entry: Path) -> tuple[WhisperConfig, dict[str, torch.Tensor]] | None:
    """A complete entry's ``(config, state_dict)``, or ``None`` when there is none yet.

    Raises:
        BackboneFormatError: the entry exists but a file in it cannot be read.
    """
    config_path, weights_path = entry / CONFIG_FILE, entry / WEIGHTS_FILE
    if not config_path.is_file():
        return None
    try:
        config = WhisperConfig.from_dict(json.loads(config_path.read_text()))
    except (TypeError, ValueError) as error:  # JSONDecodeError is a ValueError
        raise BackboneFormatError(config_path, f"unreadable cache entry ({error}); delete it") from None
    try:
        state_dict = load_file(str(weights_path))
    except (SafetensorError, OSError) as error:
        raise BackboneFormatError(weights_path, f"unreadable cache entry ({error}); delete it") from None
    return config, state_dict


def convert_with_cache(
    source_file: Path, name: str, convert: Converter, cache_dir: Path | None = None
) -> tuple[WhisperConfig, dict[str, torch.Tensor]]:
    """``convert(source_file)``, done once per source version and then read from the cache."""
    entry = cache_entry(source_file, name, cache_dir)
    cached = load_entry(entry)
    if cached is not None:
        return cached
    config, state_dict = convert(source_file)
    save_entry(entry, config, state_dict)
    return config, state_dict
