"""The feature caches of an ablation: one extraction, and one audio-only copy per extra split.

Text and visual features (Eq 1, Eq 5) do not depend on the model, and the audio prefix (Eq 7)
depends only on the backbone and its shallow depth. So every run of Tables 3-5 reads the one
base cache (extracted once, with the base configuration's prefix), and Table 6 gets one cache
per *other* shallow depth, `DIR/caches/shallow-<N>/`, made from the base cache without running
the text or image encoders again: its text and visual arrays are copied from the base cache,
its audio is the real prefix of that depth, recomputed from the decoded waveforms. The derived
cache is part for part what `wavfusion extract` would write for that split (same part names,
same rows, same audio batches; the tests pin it bit-identical), so `train` checks and reads it
like any other cache. A derived cache is resumable (written part by part, atomically).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from wavfusion.config import WavFusionConfig, split_layers
from wavfusion.data.manifest import Manifest
from wavfusion.features.audio import AudioPrefix, backbone_depth, prefix_model
from wavfusion.features.cache import FeatureCache
from wavfusion.features.extract import prepare_folder
from wavfusion.features.identity import compute_settings, recorded_identities
from wavfusion.features.settings import ExtractionOptions
from wavfusion.features.store import PARTS_FOLDER, complete_part_names, read_part, write_part
from wavfusion.training.features import open_or_extract_cache

DERIVED_FOLDER = "caches"


def resolved_split(config: WavFusionConfig) -> tuple[int, int]:
    """The `(shallow, deep)` layers `config` resolves to (config only, no weights)."""
    return split_layers(config, backbone_depth(config.audio_backbone))


def shallow_depth(config: WavFusionConfig) -> int:
    """The number of frozen prefix layers `config` resolves to (config only, no weights)."""
    return resolved_split(config)[0]


def extract_base_cache(manifest: Manifest, config: WavFusionConfig, folder: Path,
                       progress: bool = True, options: ExtractionOptions | None = None
                       ) -> FeatureCache:
    """Open the cache in `folder`, extracting first what is missing with `config`'s prefix
    (audio is always part of it: one cache then serves every modality subset); `options`:
    the frozen text and image encoders (default: the offline ones)."""
    cache, _ = open_or_extract_cache(manifest, prefix_model(config), folder, False,
                                     progress=progress, options=options)
    return cache


def cache_folders(base: FeatureCache, manifest: Manifest, configs: list[WavFusionConfig],
                  out: Path, announce: Callable[[str], None] = print) -> dict[int, Path]:
    """Shallow depth -> cache folder for every depth among `configs`: the base cache for its
    own depth, a derived one (made now when missing) under `out/caches/` for the others.
    A cache that stores no audio (the prefix trains) serves every depth as it is."""
    depths = sorted({shallow_depth(config) for config in configs}, reverse=True)
    if not base.settings.audio_stored:
        return dict.fromkeys(depths, base.folder)
    folders: dict[int, Path] = {}
    for depth in depths:
        if depth == base.settings.shallow_layers:
            folders[depth] = base.folder
            continue
        folder = out / DERIVED_FOLDER / f"shallow-{depth}"
        config = next(c for c in configs if shallow_depth(c) == depth)
        made = derive_prefix_cache(base, manifest, config, folder)
        if made:
            announce(f"cache {folder}: audio prefix of {depth} layers for {made} parts "
                     "(text and visual copied from the base cache)")
        folders[depth] = folder
    return folders


def derive_prefix_cache(base: FeatureCache, manifest: Manifest, config: WavFusionConfig,
                        folder: Path) -> int:
    """Write into `folder` the cache `base` would be with `config`'s audio prefix: text and
    visual arrays copied, audio recomputed. Resumes: parts already there are kept (a cache
    made with other settings is refused, StaleCacheError). Returns the parts written."""
    prefix = AudioPrefix(prefix_model(config), torch.device("cpu"))
    options = base.settings.extraction_options()
    settings = compute_settings(prefix.model, *recorded_identities(base.settings), options)
    prepare_folder(folder, settings, base.part_size)
    rows = {row.id: row for row in manifest.rows}
    source, target = base.folder / PARTS_FOLDER, folder / PARTS_FOLDER
    done = set(complete_part_names(target))
    written = 0
    for name in complete_part_names(source):
        if name in done:
            continue
        index = read_part(source, name)
        unknown = [entry["id"] for entry in index.entries if entry["id"] not in rows]
        if unknown:
            raise ValueError(f"{base.folder}: part {name} holds rows that are not in "
                             f"{manifest.path} ({', '.join(unknown[:3])}); use a cache made "
                             "for this manifest")
        waves = [manifest.load_audio(rows[entry["id"]], max_seconds=options.max_seconds)
                 for entry in index.entries]
        audio = prefix.features(waves) if waves else []
        entries = []
        for entry, features in zip(index.entries, audio):
            cached = base.get(entry["id"])
            entries.append((entry["id"], entry["line"], {
                "audio": features,
                "text": None if cached.text is None else cached.text.copy(),
                "visual": None if cached.visual is None else cached.visual.copy(),
            }))
        write_part(target, name, entries, index.problems,
                   {entry["id"]: entry.get("source") for entry in index.entries})
        written += 1
    return written
