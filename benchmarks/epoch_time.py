"""One training epoch from the feature cache vs naive recompute: same model, data and batches.

Model: WavFusion on a wav2vec2-base-sized random backbone (`wav2vec2-base-random`), 9 shallow
/ 3 deep layers, `freeze_shallow=True` (without pretrained weights the prefix would otherwise
train, and nothing could be cached), audio + text. Data: N speech clips of 3-4 s from
../shared/data/ravdess-speech-16k (spread over actors, transcripts from the file names), or
synthesised tones when that folder is absent; every clip is in the train split.

Both arms run the project's own training pieces (WavFusionModule + EmotionDataModule under a
Lightning Trainer, fused AdamW), one epoch each, from the same initial weights and seed, so
with the same shuffled batches and number of steps; validation is off. The epoch is timed
from Lightning's train-epoch start to its end, data loading included (num_workers 0):
- naive: every step decodes the clips and runs the whole backbone (what `--raw-audio` does);
  text features come from the cache in both arms (the project never recomputes MiniLM), so
  a loop that also re-ran the text encoder every step would be slower still;
- cached: every step reads the stored prefix output (float16) and runs the deep layers.
The one-off extraction (`open_or_extract_cache`: loading the frozen encoders, decoding, the
prefix over every clip, MiniLM over the transcripts, writing the cache) is timed on its own;
wav2vec2-base's group-norm front-end makes extraction run clips one at a time (see
features/audio.py). Break-even: the number of epochs after which extraction + cached epochs
cost less than naive epochs. Target: naive / cached >= 3.0x.

    python benchmarks/epoch_time.py [--clips 48] [--batch-size 8] [--threads 2] [--data DIR]
                                    [--record]
"""

from __future__ import annotations

import argparse
import copy
import logging
import math
import os
import shutil
import tempfile
import time
import warnings
import wave
from pathlib import Path

import lightning as L
import numpy as np
import torch
from results import record  # benchmarks/ is on sys.path: run as a script

from wavfusion import WavFusion, WavFusionConfig
from wavfusion.data.datasets.labels import RAVDESS_CODES
from wavfusion.data.datasets.ravdess import STATEMENTS, parse_name
from wavfusion.data.manifest import Manifest, ManifestRow, read_manifest, write_manifest
from wavfusion.data.media import load_audio
from wavfusion.training.datamodule import EmotionDataModule
from wavfusion.training.dataset import label_names
from wavfusion.training.features import open_or_extract_cache
from wavfusion.training.module import WavFusionModule

REPO = Path(__file__).resolve().parents[1]
RAVDESS = REPO / ".." / "shared" / "data" / "ravdess-speech-16k"
RATE = 16000
SECONDS = (3.0, 4.0)  # clip lengths kept
SYNTHETIC_LABELS = ("neutral", "happy", "sad", "angry")


class EpochTimer(L.Callback):
    """(wall, CPU) seconds of each training epoch, data loading included; CPU seconds are
    this process's, all threads (less sensitive than wall time to other users' load)."""

    def __init__(self) -> None:
        self.seconds: list[tuple[float, float]] = []
        self._start = (0.0, 0.0)

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._start = (time.perf_counter(), time.process_time())

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        wall, cpu = self._start
        self.seconds.append((time.perf_counter() - wall, time.process_time() - cpu))


def ravdess_rows(folder: Path, count: int) -> list[ManifestRow]:
    """`count` RAVDESS clips of 3-4 s, taken round-robin over the actors in file order."""
    actors = [sorted(actor.glob("*.flac")) for actor in sorted(folder.glob("Actor_*"))]
    rows: list[ManifestRow] = []
    for path in (p for group in zip(*actors) for p in group):
        if len(rows) == count:
            break
        if SECONDS[0] <= len(load_audio(path)) / RATE <= SECONDS[1]:
            fields = parse_name(path)
            rows.append(ManifestRow(id=path.stem, audio=str(path.resolve()), split="train",
                                    text=STATEMENTS[fields["statement"]],
                                    label=RAVDESS_CODES[fields["emotion"]]))
    return rows


def synthetic_rows(folder: Path, count: int) -> list[ManifestRow]:
    """`count` 16-bit WAV clips of 3-4 s (a tone in noise) written to `folder`."""
    generator = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(count):
        seconds = generator.uniform(*SECONDS)
        t = np.arange(int(seconds * RATE)) / RATE
        signal = 0.3 * np.sin(2 * np.pi * (120 + 20 * index) * t)
        signal += 0.05 * generator.standard_normal(len(t))
        path = folder / f"clip{index:03d}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes((np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes())
        rows.append(ManifestRow(id=path.stem, audio=str(path), split="train",
                                text="Kids are talking by the door",
                                label=SYNTHETIC_LABELS[index % len(SYNTHETIC_LABELS)]))
    return rows


def build_model(labels: list[str]) -> WavFusion:
    torch.manual_seed(0)
    return WavFusion(WavFusionConfig(
        audio_backbone="wav2vec2-base-random", deep_layers=3, freeze_shallow=True,
        modalities=["audio", "text"], labels=labels, num_classes=len(labels),
    ))


def time_epoch(model: WavFusion, manifest: Manifest, cache, raw_audio: bool,
               batch_size: int) -> tuple[tuple[float, float], int]:
    """((wall, CPU) seconds, steps) of one training epoch of a copy of `model`; seeded, so both arms
    shuffle the same batches."""
    L.seed_everything(0, verbose=False)
    data = EmotionDataModule(manifest, manifest.rows, model.config.labels, cache, raw_audio,
                             batch_size)
    module = WavFusionModule(model.config, model=copy.deepcopy(model))
    timer = EpochTimer()
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", devices=1, limit_val_batches=0, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, callbacks=[timer],
    )
    trainer.fit(module, datamodule=data)
    return timer.seconds[0], trainer.global_step


def load_average() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def run(args: argparse.Namespace, scratch: Path) -> None:
    source = "RAVDESS" if args.data.is_dir() else "synthesised"
    rows = (ravdess_rows(args.data, args.clips) if args.data.is_dir()
            else synthetic_rows(scratch / "clips", args.clips))
    manifest = read_manifest(write_manifest(scratch / "manifest.csv", rows))
    model = build_model(label_names(manifest.rows))
    start = time.perf_counter()
    cache, raw = open_or_extract_cache(manifest, model, scratch / "cache", False, progress=False)
    extraction = time.perf_counter() - start
    if raw:
        raise SystemExit("the cache holds no audio prefix: nothing to compare")
    seconds = sum(len(manifest.load_audio(row)) for row in manifest.rows) / RATE
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6
    print(f"{len(rows)} {source} clips ({seconds:.0f} s of audio), batch {args.batch_size}, "
          f"torch threads {torch.get_num_threads()}; wav2vec2-base-random 9/3, freeze_shallow, "
          f"audio + text, {trainable:.1f} M trainable; load average {load_average()}")
    (naive, naive_cpu), naive_steps = time_epoch(model, manifest, cache, True, args.batch_size)
    (cached, cached_cpu), steps = time_epoch(model, manifest, cache, False, args.batch_size)
    assert naive_steps == steps, (naive_steps, steps)
    gain = naive - cached
    break_even = f"{math.ceil(extraction / gain)}" if gain > 0 else "never"
    print(f"naive epoch {naive:.1f} s, cached epoch {cached:.1f} s, ratio {naive / cached:.1f}x "
          f"(target >= 3.0x), extraction once {extraction:.1f} s; {steps} steps per epoch; "
          f"break-even after {break_even} epoch(s) (extraction / (naive - cached), rounded up)")
    print(f"CPU seconds (this process, all threads): naive {naive_cpu:.1f}, cached "
          f"{cached_cpu:.1f}, ratio {naive_cpu / cached_cpu:.1f}x; load average at the end "
          f"{load_average()}")
    if args.record:
        record("epoch_time", "One training epoch: cached prefix vs naive recompute "
               "(wav2vec2-base sizes, 9/3, audio + text)",
               f"python benchmarks/epoch_time.py --clips {args.clips} --batch-size "
               f"{args.batch_size} --threads {args.threads}",
               ["arm", "wall seconds", "CPU seconds"],
               [["naive epoch (raw audio every step)", round(naive, 1), round(naive_cpu, 1)],
                ["cached epoch", round(cached, 1), round(cached_cpu, 1)],
                ["ratio naive / cached", f"{naive / cached:.2f}x",
                 f"{naive_cpu / cached_cpu:.2f}x"],
                ["extraction, once", round(extraction, 1), ""]],
               notes=f"{len(rows)} {source} clips of 3-4 s, {steps} steps per epoch; "
               f"break-even after {break_even} epoch(s).")


def quiet() -> None:
    """Lightning's banners and HF's weight-loading bars would bury the result lines."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=RAVDESS,
                        help="RAVDESS speech folder (absent: synthesised clips)")
    parser.add_argument("--clips", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--record", action="store_true",
                        help="write docs/benchmarks/epoch_time.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    quiet()
    scratch = Path(tempfile.mkdtemp(prefix="epoch-time-"))
    try:
        run(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
