"""The training side of the feature cache: open it if it fits, extract what is missing.

The cache is filled with the prefix of the very model being trained (or evaluated), so a
saved model is never paired with features of another prefix; a cache made with other
encoders or settings is refused (StaleCacheError), never silently read.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

LEFT_OUT_FILE = "left-out.csv"

from wavfusion.data.errors import Problem
from wavfusion.data.manifest import Manifest, ManifestRow


def open_or_extract_cache(
    manifest: Manifest, model, folder: Path, raw_audio: bool, progress: bool = True,
    options=None, rows: list[ManifestRow] | None = None,
):
    """Returns (FeatureCache, raw_audio): raw_audio is True when audio must be decoded and
    run through the prefix at every step (asked for, or the cache stores no audio because
    the prefix trains). `rows` (default: all of the manifest's) missing from the cache, or
    edited since they were cached, are extracted first (resumable); the others are reused.
    The random generators are left as they were (random_state_kept)."""
    with random_state_kept():
        return _open_or_extract_cache(manifest, model, folder, raw_audio, progress, options,
                                      rows)


def _open_or_extract_cache(manifest: Manifest, model, folder: Path, raw_audio: bool,
                           progress: bool, options, rows: list[ManifestRow] | None):
    from wavfusion.backbones.image import ImageFeatureEncoder
    from wavfusion.backbones.text import TextFeatureEncoder
    from wavfusion.features.audio import AudioPrefix
    from wavfusion.features.cache import FeatureCache
    from wavfusion.features.extract import ExtractionJob, FrozenEncoders, extract_features
    from wavfusion.features.identity import compute_settings, image_identity, text_identity
    from wavfusion.features.settings import ExtractionOptions

    options = options or ExtractionOptions()
    folder = Path(folder)
    rows = manifest.rows if rows is None else rows
    try:
        cache = FeatureCache.open(folder)
        todo = len(_rows_to_extract(manifest, rows, cache))
    except FileNotFoundError:
        cache, todo = None, len(rows)
    if todo:
        everything = {row.id for row in rows} >= {row.id for row in manifest.rows}
        print(f"extracting the features of {todo} row(s) into {folder}"
              + ("" if everything else f" (only the {len(rows)} rows used here)"))
        was_training = model.training
        text = TextFeatureEncoder(options.text_encoder, options.max_text_tokens, "cpu")
        image = ImageFeatureEncoder(options.image_encoder, "cpu")
        prefix = AudioPrefix(model.eval(), torch.device("cpu"))
        settings = compute_settings(prefix.model, text_identity(text), image_identity(image),
                                    options)
        encoders = FrozenEncoders(audio=prefix, text=text, image=image, options=options,
                                  settings=settings)
        only = None if everything else frozenset(row.id for row in rows)
        extract_features(ExtractionJob(manifest=manifest.path, out=folder, config=model.config,
                                       options=options, progress=progress, only=only),
                         encoders)
        model.train(was_training)
        cache = FeatureCache.open(folder)
    _refuse_if_stale(cache, model, options)
    return cache, raw_audio or not cache.settings.audio_stored


@contextmanager
def random_state_kept():
    """Run a block without moving the torch, numpy and Python random generators: importing
    and building the frozen encoders for an extraction draws from torch's, and a run that
    extracted its features first would otherwise train differently from one that read them
    from the cache."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:  # also when the extraction fails: the caller's generators are as they were
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def _rows_to_extract(manifest: Manifest, rows: list[ManifestRow], cache) -> list[ManifestRow]:
    """Rows the cache has neither an entry nor a recorded failure for, or whose inputs
    changed since (an edited transcript, a replaced, removed or added file)."""
    return [row for row in rows if _changes(manifest, row, cache)]


def _changes(manifest: Manifest, row: ManifestRow, cache) -> list[str]:
    """What differs between `row` and its cache record, in words (empty: it matches)."""
    from wavfusion.features.source import changed_fields, row_source

    if row.id not in cache.sources:
        return ["not extracted"]
    return changed_fields(cache.sources[row.id], row_source(manifest, row))


def usable_rows(manifest: Manifest, rows: list[ManifestRow], cache
                ) -> tuple[list[ManifestRow], list[Problem]]:
    """(rows the cache holds, rows left out with the reason the extraction recorded).

    Raises ChangedRowError naming the row when an entry no longer matches its row (edited
    after the cache was brought up to date, e.g. while training started)."""
    from wavfusion.features.source import ChangedRowError

    reasons = {problem.item: problem.reason for problem in cache.problems}
    kept, left_out = [], []
    for row in rows:
        changes = _changes(manifest, row, cache)
        if row.id in cache and not changes:
            kept.append(row)
        elif row.id in reasons and not changes:
            left_out.append(Problem(row.id, reasons[row.id], row.line))
        else:
            raise ChangedRowError(cache.folder, manifest.path, row, changes)
    return kept, left_out


def report_left_out(left_out: list[Problem], out: Path) -> None:
    """Name each row a run leaves out, once, with its reason: the first ones on stdout, all
    of them in OUT/left-out.csv."""
    if not left_out:
        return
    from wavfusion.data.report import SHOWN_PROBLEMS, problem_table, write_problems

    left_out = sorted(left_out, key=lambda problem: problem.line)
    out.mkdir(parents=True, exist_ok=True)
    write_problems(out / LEFT_OUT_FILE, {"left out": left_out})
    print(f"left out {len(left_out)} row(s) that the feature cache could not hold (skipped "
          "at extraction; a row whose file or transcript is fixed is extracted again on the "
          "next run):")
    print(problem_table(left_out, SHOWN_PROBLEMS, more_in=str(out / LEFT_OUT_FILE)))


def _refuse_if_stale(cache, model, options) -> None:
    from wavfusion.features.cache import settings_for
    from wavfusion.features.settings import check_settings

    check_settings(cache.folder, cache.settings, settings_for(model.config, options, model=model))
