"""Frozen features of a manifest on disk: `wavfusion extract` writes them, training reads them.

- `cache.py`: the reader (`FeatureCache`, `CachedFeatures`, `settings_for`) — start here;
- `settings.py`: what a cache was made with (`CacheSettings`, `ExtractionOptions`);
- `extract.py` + `cli.py`: the extraction (`extract_features`, `wavfusion extract`);
- `audio.py`: Eq 7 in length-bucketed batches; `identity.py`: encoder fingerprints;
- `store.py`: the on-disk format; `plan.py`: parts, shards and resume.

Nothing is imported here, so that `import wavfusion.features.cache` stays free of torch.
"""
