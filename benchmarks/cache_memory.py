"""Training-style reads of a feature cache: peak memory with 1k vs 8k utterances, open time.

Synthetic caches in the real format (store.write_part, parts of 32), entries shaped like
the default extraction of a 2-6 s clip: audio (100-300 frames, 384) Whisper tiny.en prefix,
text (8-30 tokens, 384) MiniLM, visual (16, 1280) EfficientNet-Lite0, float16. For each size
a fresh process opens the cache, then reads every entry once in random order, in batches of
8, the way a training epoch does (get -> float32 -> torch, padded batch, a reduction), and
reports its peak resident memory (ru_maxrss) and the time to open. Target: peak RSS with 8k
entries <= 1.15x that with 1k. For comparison it also times opening the same 8k entries
stored one .npy file per array (24k files).

    python benchmarks/cache_memory.py [--sizes 1000 8000] [--folder /tmp/x] [--keep]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from wavfusion.features.cache import FeatureCache
from wavfusion.features.settings import CacheSettings, ExtractionOptions
from wavfusion.features.store import (
    CACHE_FILE,
    FORMAT_NAME,
    PARTS_FOLDER,
    canonical_json,
    write_part,
)

PART_SIZE = 32
BATCH = 8


def fake_settings() -> CacheSettings:
    options = ExtractionOptions()
    return CacheSettings(
        audio_backbone="synthetic", audio_stored=True, audio_fingerprint="0" * 64,
        shallow_layers=1, normalize_audio=False, audio_width=384,
        text_encoder="synthetic", text_fingerprint="1" * 64, text_dim=384,
        max_text_tokens=options.max_text_tokens, image_encoder="synthetic",
        image_fingerprint="2" * 64, visual_dim=1280, image_size=224,
        frames_per_clip=options.frames_per_clip, crop_faces=True,
        frame_size=options.frame_size, max_seconds=options.max_seconds,
    )


def synthetic_entry(generator: np.random.Generator, index: int):
    return (f"utt{index:06d}", index + 2, {
        "audio": generator.standard_normal((int(generator.integers(100, 300)), 384), np.float32),
        "text": generator.standard_normal((int(generator.integers(8, 30)), 384), np.float32),
        "visual": generator.standard_normal((16, 1280), np.float32),
    })


def write_cache(folder: Path, size: int) -> None:
    parts = folder / PARTS_FOLDER
    parts.mkdir(parents=True)
    document = {"format": FORMAT_NAME, "key": fake_settings().key(), "part_size": PART_SIZE,
                "settings": fake_settings().to_dict()}
    (folder / CACHE_FILE).write_bytes(canonical_json(document))
    generator = np.random.default_rng(0)
    for number, begin in enumerate(range(0, size, PART_SIZE)):
        entries = [synthetic_entry(generator, i) for i in range(begin, min(size, begin + PART_SIZE))]
        write_part(parts, f"p{number:06d}-synthetic", entries, [])


def write_npy_per_array(cache: FeatureCache, folder: Path) -> None:
    folder.mkdir()
    for utterance_id in cache.ids:
        features = cache.get(utterance_id)
        for name in ("audio", "text", "visual"):
            np.save(folder / f"{utterance_id}.{name}.npy", np.asarray(getattr(features, name)))


def read_epoch(folder: str) -> dict:
    """In a fresh process: open, read every entry once in random order; memory and times."""
    import torch

    torch.set_num_threads(1)  # as in a DataLoader worker (and immune to a busy machine)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    opened = []
    for _ in range(3):  # the first open may wait on the disk; report the best too
        start = time.perf_counter()
        cache = FeatureCache.open(folder)
        opened.append(time.perf_counter() - start)
    ids = list(cache.ids)
    random.Random(0).shuffle(ids)
    start, total = time.perf_counter(), 0.0
    for begin in range(0, len(ids), BATCH):
        batch = [cache.get(i) for i in ids[begin : begin + BATCH]]
        for name in ("audio", "text", "visual"):
            arrays = [torch.from_numpy(np.asarray(getattr(f, name), np.float32)) for f in batch]
            total += float(torch.nn.utils.rnn.pad_sequence(arrays, batch_first=True).sum())
    return {"entries": len(ids), "open_s": min(opened), "first_open_s": opened[0], "epoch_s": time.perf_counter() - start,
            "baseline_mb": baseline / 1024,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def open_npy_folder(folder: str) -> dict:
    """In a fresh process: list the per-array files, then map each one once (np.load
    mmap_mode, header checked) and let it go: what opening and validating such a cache
    costs. (Keeping them all mapped is not an option: each map holds a file descriptor, and
    24k exceed a usual limit of 20k.)"""
    results = []
    for _ in range(3):
        start = time.perf_counter()
        files = sorted(Path(folder).iterdir())
        listed = time.perf_counter() - start
        for path in files:
            np.load(path, mmap_mode="r")
        results.append((listed, time.perf_counter() - start))
    return {"files": len(files), "list_s": min(r[0] for r in results),
            "open_all_s": min(r[1] for r in results)}


def in_fresh_process(function: str, folder: Path) -> dict:
    code = (f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"import cache_memory as m; print(json.dumps(m.{function}({str(folder)!r})))")
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 8000])
    parser.add_argument("--folder", type=Path, help="scratch folder (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic caches")
    args = parser.parse_args()
    scratch = args.folder or Path(tempfile.mkdtemp(prefix="cache-memory-"))
    results = {}
    try:
        for size in args.sizes:
            folder = scratch / f"cache-{size}"
            if not folder.exists():
                start = time.perf_counter()
                write_cache(folder, size)
                disk = sum(p.stat().st_size for p in folder.rglob("*")) / 2**20
                print(f"wrote {size} synthetic entries ({disk:.0f} MiB, "
                      f"{len(list((folder / PARTS_FOLDER).iterdir()))} files) in "
                      f"{time.perf_counter() - start:.1f} s")
            results[size] = in_fresh_process("read_epoch", folder)
            r = results[size]
            print(f"{size:6d} entries: open {1000 * r['open_s']:.0f} ms (first "
                  f"{1000 * r['first_open_s']:.0f} ms), epoch read "
                  f"{r['epoch_s']:.1f} s, peak RSS {r['peak_mb']:.0f} MiB (after imports "
                  f"{r['baseline_mb']:.0f} MiB)")
        small, large = min(results), max(results)
        growth = results[large]["peak_mb"] / results[small]["peak_mb"] - 1
        print(f"peak RSS growth {small} -> {large} entries: {100 * growth:+.1f} % (target <= 15 %)")
        npy = scratch / f"npy-{large}"
        if not npy.exists():
            write_npy_per_array(FeatureCache.open(scratch / f"cache-{large}"), npy)
        r = in_fresh_process("open_npy_folder", npy)
        print(f"one .npy per array instead: {r['files']} files, listing {1000 * r['list_s']:.0f} "
              f"ms, listing + mapping each once {1000 * r['open_all_s']:.0f} ms (vs "
              f"{1000 * results[large]['open_s']:.0f} ms to open the part layout above)")
    finally:
        if not args.keep and not args.folder:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
