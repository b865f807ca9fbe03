"""Linear probe on the bundled Whisper tiny.en encoder, RAVDESS speaker-independent split.

The reference point for WavFusion on this backbone: the frozen encoder's output
(all 4 layers + final layer norm), mean + std pooled over the clip's positions, fed to a
standardised multinomial logistic regression: `wavfusion probe`'s (wavfusion.training.probe:
C chosen on validation, actors 17-18, then refitted on train + val and scored on test, actors
19-20). Two windows, on the same clips:
- own:    the encoder on the clip's own length (what wavfusion does; no 30-s padding);
- padded: the waveform zero-padded to Whisper's 30-s window, pooled over the clip's
          positions only (what the stock Whisper feature extractor + encoder gives).
Also prints the encoder's seconds per clip in each window (one clip at a time, wall clock).

    python benchmarks/ravdess_probe.py [--windows own,padded] [--train-every 1] [--threads 1]

`--train-every K` keeps every K-th training clip (the padded window costs ~9x more).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from wavfusion.backbones.whisper_encode import encode_variable_length
from wavfusion.backbones.whisper_encoder import load_whisper_encoder
from wavfusion.backbones.whisper_features import whisper_log_mel
from wavfusion.data.datasets.ravdess import prepare_ravdess
from wavfusion.data.manifest import read_manifest, write_manifest
from wavfusion.training.metrics import classification_metrics
from wavfusion.training.probe import fit_probe, pooled_statistics

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
WINDOW_SAMPLES = 30 * 16000


@torch.no_grad()
def pooled_features(encoder, waveform: np.ndarray, padded: bool) -> np.ndarray:
    """(2 * width,) mean and std over the clip's encoder positions."""
    clip = torch.from_numpy(waveform)
    positions = (len(waveform) // 160 + 1) // 2  # log-mel hop 160, conv2 stride 2
    if padded:
        clip = torch.nn.functional.pad(clip, (0, max(0, WINDOW_SAMPLES - len(clip))))
        features, _ = whisper_log_mel(clip[None], pad_to_max=True)
        hidden = encode_variable_length(encoder, features).last_hidden_state
    else:
        features, counts = whisper_log_mel(clip[None])
        hidden = encode_variable_length(encoder, features, counts).last_hidden_state
    mask = torch.arange(hidden.shape[1])[None] < positions
    return pooled_statistics(hidden, mask)[0].double().numpy()


def probe(train: tuple, val: tuple, test: tuple) -> dict:
    """`wavfusion probe`'s fit; (accuracy, weighted F1) in percent per split."""
    fit = fit_probe({"train": train, "val": val, "test": test})
    names = [str(c) for c in sorted(set(train[1]))]
    result = {"C": fit["C"]}
    for split, (_, truth) in (("val", val), ("test", test)):
        metrics = classification_metrics(truth, fit["predictions"][split], names)
        result[split] = (metrics["accuracy"], metrics["weighted_f1"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(
        "WAVFUSION_DATA", DEFAULT_DATA)))
    parser.add_argument("--windows", default="own,padded")
    parser.add_argument("--train-every", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: busy shared cores waste less on waiting)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "ravdess.csv"
        result = prepare_ravdess(args.data / "ravdess-speech-16k", path,
                                 test_actors={19, 20}, val_actors={17, 18})
        write_manifest(path, result.rows)
        manifest = read_manifest(path)
        train_rows = [r for r in manifest.rows if r.split == "train"][:: args.train_every]
        rows = train_rows + [r for r in manifest.rows if r.split in ("val", "test")]
        waves = [manifest.load_audio(row) for row in rows]
    encoder, _ = load_whisper_encoder()
    encoder.eval()
    seconds = sum(map(len, waves)) / 16000 / len(rows)
    print(f"{len(rows)} RAVDESS clips ({len(train_rows)} train, actors 1-16; val 17-18; test "
          f"19-20), {seconds:.2f} s mean; {args.threads} torch thread(s); "
          f"load average {os.getloadavg()[0]:.1f}")
    for window in args.windows.split(","):
        start = time.perf_counter()
        pooled = np.stack([pooled_features(encoder, w, window == "padded") for w in waves])
        seconds = (time.perf_counter() - start) / len(rows)
        names = sorted({r.label for r in rows})
        labels = np.array([names.index(r.label) for r in rows])
        splits = np.array([r.split for r in rows])
        parts = [(pooled[splits == s], labels[splits == s]) for s in ("train", "val", "test")]
        scores = probe(*parts)
        print(f"{window:>6} window: encoder {seconds:.3f} s/clip; probe C={scores['C']}: "
              f"val acc {scores['val'][0]:.1f} WF1 {scores['val'][1]:.1f}, "
              f"test acc {scores['test'][0]:.1f} WF1 {scores['test'][1]:.1f}")


if __name__ == "__main__":
    main()
