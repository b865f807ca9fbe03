"""Where the frozen backbone's emotion information is: the probe on every layer, per fold.

The bundled Whisper tiny.en encoder runs once on each RAVDESS clip (its own length, as the
cache does); its stem and each layer's output (the last after the final layer norm: what
`wavfusion probe` reads) are pooled over the clip's positions, either by mean + std (the
probe's pooling) or by mean only (WavFusion's own pooling, Eq 14's input), then fitted by
`wavfusion probe`'s logistic regression (C chosen on val, refitted on train + val) on the
speaker-independent folds of benchmarks/generalisation.py (A, B: 14 train actors; S: 4).

    python benchmarks/layer_probe.py [--folds A,B,S] [--threads 1] [--record]

Read it beside the default `train` on the same folds (generalisation.py): if no layer of the
frozen encoder, pooled the model's way, carries more than the last one does, what fine-tuning
one layer and a fusion layer can add on top is bounded by what that encoder holds.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from generalisation import DEFAULT_DATA, FOLDS
from results import record

from wavfusion.backbones.whisper_encode import encode_variable_length
from wavfusion.backbones.whisper_encoder import load_whisper_encoder
from wavfusion.backbones.whisper_features import whisper_log_mel
from wavfusion.data.datasets.ravdess import prepare_ravdess
from wavfusion.data.manifest import read_manifest, write_manifest
from wavfusion.training.metrics import classification_metrics
from wavfusion.training.probe import fit_probe, pooled_statistics

POOLINGS = ("mean+std", "mean")


@torch.no_grad()
def layer_statistics(encoder, waveform: np.ndarray) -> np.ndarray:
    """(layers + 1, 2 * width): mean and std over the clip's positions of the stem and of
    each layer's output (the last one after the final layer norm)."""
    features, counts = whisper_log_mel(torch.from_numpy(waveform)[None])
    encoding = encode_variable_length(encoder, features, counts, output_hidden_states=True)
    states = [*encoding.hidden_states[:-1], encoding.last_hidden_state]
    return np.stack([pooled_statistics(state, encoding.mask)[0].double().numpy()
                     for state in states])


def fold_splits(rows, fold: str) -> np.ndarray:
    train_actors, val_actors = FOLDS[fold]
    actors = [int(row.speaker.split("_")[-1]) for row in rows]
    return np.array(["train" if a in train_actors else "val" if a in val_actors else "test"
                     for a in actors])


def probe_wf1(pooled: np.ndarray, labels: np.ndarray, splits: np.ndarray,
              names: list[str]) -> float:
    parts = {s: (pooled[splits == s], labels[splits == s]) for s in ("train", "val", "test")}
    fit = fit_probe(parts)
    return classification_metrics(parts["test"][1], fit["predictions"]["test"],
                                  names)["weighted_f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(
        "WAVFUSION_DATA", DEFAULT_DATA)))
    parser.add_argument("--folds", default="A,B,S")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)


    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "ravdess.csv"
        write_manifest(path, prepare_ravdess(args.data / "ravdess-speech-16k", path).rows)
        manifest = read_manifest(path)
        rows = copy.deepcopy(manifest.rows)
        waves = [manifest.load_audio(row) for row in rows]
    encoder, _ = load_whisper_encoder()
    encoder.eval()
    started = time.perf_counter()
    statistics = np.stack([layer_statistics(encoder, wave) for wave in waves])
    width = statistics.shape[-1] // 2
    print(f"{len(rows)} clips encoded in {time.perf_counter() - started:.0f} s "
          f"({args.threads} thread(s), load {os.getloadavg()[0]:.1f})", flush=True)
    names = sorted({row.label for row in rows})
    labels = np.array([names.index(row.label) for row in rows])
    folds = args.folds.split(",")
    table = []
    for layer in range(statistics.shape[1]):
        name = "stem" if layer == 0 else f"layer {layer}" + (
            " + final norm" if layer == statistics.shape[1] - 1 else "")
        for pooling in POOLINGS:
            pooled = statistics[:, layer] if pooling == "mean+std" else \
                statistics[:, layer, :width]
            scores = [round(probe_wf1(pooled, labels, fold_splits(rows, fold), names), 2)
                      for fold in folds]
            table.append([name, pooling, *scores])
            print(f"{name:<22} {pooling:<9} " + "  ".join(
                f"{fold} {score:5.1f}" for fold, score in zip(folds, scores)), flush=True)
    if args.record:
        record("layer_probe", "The probe on every layer of the frozen Whisper tiny.en "
               "encoder (test WF1)", "python benchmarks/layer_probe.py " + " ".join(
                   sys.argv[1:]), ["output", "pooling", *(f"fold {f}" for f in folds)], table,
               notes="Folds as in the generalisation table (A: train actors 1-14, B: 7-20, "
               "S: 1-4). The last row pair is what `wavfusion probe` reads (mean+std).")


if __name__ == "__main__":
    main()
