"""The training side of the feature cache: open it if it fits, extract what is missing.

The cache is filled with the prefix of the very model being trained (or evaluated), so a
saved model is never paired with features of another prefix; a cache made with other
encoders or settings is refused (StaleCacheError), never silently read.
"""

from __future__ import annotations

from pathlib import Path

import torch

from wavfusion.data.manifest import Manifest


def open_or_extract_cache(
    manifest: Manifest, model, folder: Path, raw_audio: bool, progress: bool = True,
    options=None,
):
    """Returns (FeatureCache, raw_audio): raw_audio is True when audio must be decoded and
    run through the prefix at every step (asked for, or the cache stores no audio because
    the prefix trains). Rows missing from the cache are extracted first (resumable)."""
    from wavfusion.backbones.image import ImageFeatureEncoder
    from wavfusion.backbones.text import TextFeatureEncoder
    from wavfusion.features.audio import AudioPrefix
    from wavfusion.features.cache import FeatureCache
    from wavfusion.features.extract import ExtractionJob, FrozenEncoders, extract_features
    from wavfusion.features.identity import compute_settings, image_identity, text_identity
    from wavfusion.features.settings import ExtractionOptions

    options = options or ExtractionOptions()
    folder = Path(folder)
    wanted = {row.id for row in manifest.rows}
    try:
        cache = FeatureCache.open(folder)
        skipped = {problem.item for problem in cache.problems}  # bad rows: reported, not redone
        missing = wanted - set(cache.ids) - skipped
    except FileNotFoundError:
        cache, missing = None, wanted
    if cache is None or missing:
        was_training = model.training
        text = TextFeatureEncoder(options.text_encoder, options.max_text_tokens, "cpu")
        image = ImageFeatureEncoder(options.image_encoder, "cpu")
        prefix = AudioPrefix(model.eval(), torch.device("cpu"))
        settings = compute_settings(prefix.model, text_identity(text), image_identity(image),
                                    options)
        encoders = FrozenEncoders(audio=prefix, text=text, image=image, options=options,
                                  settings=settings)
        extract_features(ExtractionJob(manifest=manifest.path, out=folder, config=model.config,
                                       options=options, progress=progress), encoders)
        model.train(was_training)
        cache = None
    if cache is None:
        cache = FeatureCache.open(folder)
    _refuse_if_stale(cache, model, options)
    return cache, raw_audio or not cache.settings.audio_stored


def _refuse_if_stale(cache, model, options) -> None:
    from wavfusion.features.cache import settings_for
    from wavfusion.features.settings import check_settings

    check_settings(cache.folder, cache.settings, settings_for(model.config, options, model=model))
