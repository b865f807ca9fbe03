"""Read a feature cache: `FeatureCache.open(folder, expected)`, then `get(utterance_id)`.

    expected = settings_for(config, options)                 # what this training needs
    cache = FeatureCache.open("cache/", expected=expected)   # StaleCacheError if made otherwise
    for utterance_id in cache.ids:
        features = cache.get(utterance_id)
        features.audio    # (frames, width) float16 memmap, or None: the cache stores no audio
        features.text     # (tokens, text_dim) float16 memmap, or None: no transcript
        features.visual   # (frames, visual_dim) float16 memmap, or None: no video

Reads are memory-mapped: `get` maps just that utterance's bytes, and the mapping goes away
with the arrays, so a process's memory does not grow with the size of the cache (the index,
~200 bytes an utterance, is all it keeps). Each live array holds a file descriptor: copy what
you keep for long (`np.array(features.audio)`) rather than holding every entry's arrays. Each array's CRC-32 is checked as it is read (~0.1
ms for a 4-s clip), so a damaged entry raises CorruptCacheError instead of training on it.

When the audio backbone trains (no pretrained weights, or freeze_shallow=False) its prefix is
not a fixed feature: `settings.audio_stored` is False and `audio` is None for every entry, and
training decodes and feeds raw audio instead.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from wavfusion.data.errors import Problem
from wavfusion.features.settings import (
    CacheSettings,
    ExtractionOptions,
    StaleCacheError,
    check_settings,
)
from wavfusion.features.store import (
    CACHE_FILE,
    DTYPE,
    FORMAT_NAME,
    MODALITIES,
    PARTS_FOLDER,
    ArrayRef,
    CorruptCacheError,
    complete_part_names,
    data_path,
    read_part,
)

if TYPE_CHECKING:
    from wavfusion.config import WavFusionConfig
    from wavfusion.model.wavfusion import WavFusion


@dataclass
class CachedFeatures:
    """The frozen features of one utterance (read-only, memory-mapped float16)."""

    audio: np.ndarray | None  # (frames, width); None when the cache stores no audio
    text: np.ndarray | None  # (tokens, text_dim); None when the row has no transcript
    visual: np.ndarray | None  # (frames, visual_dim); None when the row has no video


def read_cache_file(folder: Path) -> tuple[CacheSettings, int]:
    """The settings and part size of the cache in `folder`. FileNotFoundError when `folder`
    holds no cache; CorruptCacheError when its cache.json is unreadable."""
    path = Path(folder) / CACHE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: not a wavfusion feature cache (no {CACHE_FILE})")
    try:
        document = json.loads(path.read_bytes())
        if document.get("format") != FORMAT_NAME:
            raise ValueError(f"format {document.get('format')!r} is not {FORMAT_NAME!r}")
        settings = CacheSettings.from_dict(document["settings"])
        return settings, int(document["part_size"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CorruptCacheError(path, f"unreadable cache settings ({error})") from error


class FeatureCache:
    """A complete-entries view of a feature cache folder (all shards' parts merged)."""

    def __init__(self, folder: Path, settings: CacheSettings, part_size: int) -> None:
        self.folder = Path(folder)
        self.settings = settings
        self.part_size = part_size
        self.ids: list[str] = []  # complete entries only, in part (= manifest) order
        self.problems: list[Problem] = []  # rows the extraction skipped, with the reason
        self.sources: dict[str, dict | None] = {}  # id -> what it was computed from (source.py)
        self._where: dict[str, tuple[str, dict[str, ArrayRef | None]]] = {}
        self.verify = True

    @classmethod
    def open(
        cls, folder: str | Path, expected: CacheSettings | None = None, *, verify: bool = True
    ) -> FeatureCache:
        """Open the cache in `folder`. Raises FileNotFoundError if it is not a cache,
        StaleCacheError if `expected` is given and the cache was made with other settings,
        CorruptCacheError if a part's data files do not match its index (torn or
        truncated). `verify`: check each array's CRC-32 in `get`."""
        folder = Path(folder)
        settings, part_size = read_cache_file(folder)
        if expected is not None:
            check_settings(folder, settings, expected)
        cache = cls(folder, settings, part_size)
        cache.verify = verify
        parts = folder / PARTS_FOLDER
        for name in complete_part_names(parts):
            cache._add_part(parts, name)
        return cache

    def _add_part(self, parts: Path, name: str) -> None:
        index = read_part(parts, name)
        for entry in index.entries:
            id_ = entry["id"]
            if id_ in self._where:
                raise CorruptCacheError(
                    parts / f"{name}.json",
                    f"utterance {id_!r} is also in part {self._where[id_][0]} (parts of "
                    "different extractions mixed in one folder?)",
                )
            refs = {modality: index.ref(entry, modality) for modality in MODALITIES}
            self._where[id_] = (name, refs)
            self.ids.append(id_)
        self.problems += [Problem(p["id"], p["reason"], p.get("line", 0)) for p in index.problems]
        for item in index.entries + index.problems:
            self.sources[item["id"]] = item.get("source")

    def __contains__(self, utterance_id: object) -> bool:
        return utterance_id in self._where

    def __len__(self) -> int:
        return len(self.ids)

    def get(self, utterance_id: str) -> CachedFeatures:
        """The features of one utterance. KeyError naming the id when it is not in the
        cache; CorruptCacheError when an array fails its checksum."""
        try:
            name, refs = self._where[utterance_id]
        except KeyError:
            raise KeyError(
                f"utterance {utterance_id!r} is not in the feature cache {self.folder} "
                f"({len(self.ids)} entries)"
            ) from None
        arrays = {modality: self._map(name, modality, ref, utterance_id)
                  for modality, ref in refs.items()}
        return CachedFeatures(**arrays)

    def _map(self, name: str, modality: str, ref: ArrayRef | None, utterance_id: str):
        if ref is None:
            return None
        path = data_path(self.folder / PARTS_FOLDER, name, modality)
        array = np.memmap(path, dtype=DTYPE, mode="r", offset=ref.offset, shape=ref.shape)
        if self.verify and zlib.crc32(array) != ref.crc32:
            raise CorruptCacheError(path, f"entry {utterance_id!r}: {modality} checksum mismatch")
        return array

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.folder)!r}, {len(self.ids)} entries)"


def settings_for(
    config: WavFusionConfig,
    options: ExtractionOptions | None = None,
    *,
    model: WavFusion | None = None,
) -> CacheSettings:
    """The CacheSettings that training `config` on features extracted with `options`
    expects; see `wavfusion.features.identity.settings_for`. Imported on first use: it loads
    torch and the encoders, which reading a cache never needs."""
    from wavfusion.features.identity import settings_for as compute

    return compute(config, options, model=model)


__all__ = [
    "CacheSettings",
    "CachedFeatures",
    "CorruptCacheError",
    "ExtractionOptions",
    "FeatureCache",
    "StaleCacheError",
    "read_cache_file",
    "settings_for",
]
