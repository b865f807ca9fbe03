"""`wavfusion probe`: the frozen pretrained backbone + a linear model, the baseline to beat.

    cached prefix X^a (Eq 7) --the backbone's own deep layers, pretrained, frozen-->
    last-layer output --masked mean + std over frames--> standardised
    --multinomial logistic regression (C chosen on val weighted F1, refit on train + val)-->
    val / test metrics, the same metrics.json as `wavfusion train`

The deep layers run as the pretrained backbone's layers (self-attention, no fusion: a fresh
WavFusion with no text or video is exactly that), on the feature cache `train` uses, so the
probe costs no second extraction and sees exactly the audio the trained model sees. What a
trained WavFusion adds over this is what its fusion layers and fine-tuning learnt.

Each run also leaves a small record in the cache folder (CACHE/probes/<split key>.json) so
that `wavfusion train` on the same cache and the same train/val/test assignment prints the
probe's test WF1 beside its own.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wavfusion.batching import _pad
from wavfusion.config import PROBE_C_GRID, WavFusionConfig
from wavfusion.data.manifest import Manifest, ManifestRow, read_manifest
from wavfusion.training.dataset import label_names
from wavfusion.training.feedback import baselines
from wavfusion.training.metrics import classification_metrics
from wavfusion.training.reports import plot_confusion, write_json

C_GRID = PROBE_C_GRID
"""Inverse regularisation strengths tried (scikit-learn's C), smallest first: a tie on val
goes to the stronger regularisation."""
PROBES_FOLDER = "probes"  # inside the feature cache folder


class ProbeError(ValueError):
    """A probe that cannot run as asked (e.g. the cache holds no frozen audio features)."""


@dataclass
class ProbeSettings:
    manifest: Path
    out: Path
    cache: Path | None = None  # default: RUN/cache, extracted on first use
    c_grid: tuple[float, ...] = C_GRID
    batch_size: int = 32  # clips per forward of the frozen deep layers
    max_iter: int = 5000  # LBFGS iterations of the logistic regression
    progress: bool = True
    model: WavFusionConfig = field(default_factory=WavFusionConfig)
    """The backbone and its shallow/deep split: the same config as `train`'s, so that the
    same cache fits. Only the audio backbone is used."""


def pooled_statistics(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Masked mean and (population) standard deviation over time.

    hidden: (batch, frames, width), mask: (batch, frames) bool -> (batch, 2 * width);
    a sample with no valid frame gives zeros."""
    weights = mask.to(hidden.dtype).unsqueeze(-1)
    count = weights.sum(dim=1).clamp(min=1.0)
    mean = (hidden * weights).sum(dim=1) / count
    variance = (((hidden - mean[:, None]) * weights) ** 2).sum(dim=1) / count
    return torch.cat([mean, variance.sqrt()], dim=-1)


@torch.no_grad()
def backbone_embeddings(model, cache, ids: list[str], batch_size: int = 32) -> np.ndarray:
    """(len(ids), 2 * width) float64: the pretrained backbone's last-layer output for each
    cached utterance, pooled by `pooled_statistics`. The deep layers run with no text and no
    video, so each is its pretrained self-attention layer (fusion.py), in eval mode."""
    backbone = model.backbone
    if backbone is None:
        raise ProbeError("the probe needs the audio modality (an audio backbone)")
    model.eval()
    # one copy at a time: each live memory map holds a file descriptor (thousands of them
    # would exhaust the process's limit)
    arrays = [_copy(cache.get(utterance_id).audio) for utterance_id in ids]
    if any(array is None for array in arrays):
        raise ProbeError(f"{cache.folder}: the cache stores no audio features (the backbone "
                         "has no pretrained weights, or its prefix trains): nothing frozen "
                         "to probe")
    order = sorted(range(len(ids)), key=lambda index: len(arrays[index]))  # less padding
    pooled = np.zeros((len(ids), 2 * backbone.width))
    for start in range(0, len(order), batch_size):
        chunk = order[start: start + batch_size]
        hidden, mask = _pad([arrays[index] for index in chunk], None)
        hidden = hidden.float()
        if len(backbone.deep_layers):
            hidden, _ = backbone.deep_forward(hidden, mask, text=None, text_mask=None,
                                              visual=None, visual_mask=None)
        pooled[chunk] = pooled_statistics(hidden, mask).double().numpy()
    return pooled


def _copy(array: np.ndarray | None) -> np.ndarray | None:
    return None if array is None else np.array(array)


def fit_probe(parts: dict[str, tuple[np.ndarray, np.ndarray]],
              c_grid: tuple[float, ...] = C_GRID, max_iter: int = 5000) -> dict[str, Any]:
    """Standardise + logistic regression. `parts`: split -> (features (n, d), class ids (n,)),
    with "train" and "val" (and optionally "test").

    C: the value of `c_grid` with the best val weighted F1 of a model fitted on train (the
    first on a tie); `predictions["val"]` are that model's. The test predictions are those of
    the same pipeline refitted on train + val at that C. Returns {"C", "val_wf1_by_C",
    "predictions": split -> (n,) class ids}."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def fitted(c: float, x: np.ndarray, y: np.ndarray):
        return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter)).fit(x, y)

    (train_x, train_y), (val_x, val_y) = parts["train"], parts["val"]
    scores: dict[float, float] = {}
    best = None
    for c in c_grid:
        predicted = fitted(c, train_x, train_y).predict(val_x)
        scores[c] = 100.0 * f1_score(val_y, predicted, average="weighted")
        if best is None or scores[c] > scores[best[0]]:
            best = (c, predicted)
    c, val_predictions = best
    result: dict[str, Any] = {"C": c, "val_wf1_by_C": scores,
                              "predictions": {"val": val_predictions}}
    if "test" in parts and len(parts["test"][0]):
        refit = fitted(c, np.concatenate([train_x, val_x]), np.concatenate([train_y, val_y]))
        result["predictions"]["test"] = refit.predict(parts["test"][0])
    return result


def split_key(rows: list[ManifestRow]) -> str:
    """A short fingerprint of which labelled utterance is in which split (cross-validation
    folds share one cache but not their splits)."""
    items = sorted((r.id, r.split, r.label) for r in rows if r.label)
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]


def recorded_probe(cache_folder: Path, rows: list[ManifestRow]) -> dict[str, Any] | None:
    """The probe record left in `cache_folder` for this split assignment, or None."""
    path = Path(cache_folder) / PROBES_FOLDER / f"{split_key(rows)}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def probe(settings: ProbeSettings, manifest: Manifest | None = None,
          rows: list[ManifestRow] | None = None) -> dict[str, Any]:
    """Run the probe; writes OUT/metrics.json, confusion.png, probe.json, command.txt and the
    cache's record. Returns the metrics ({"val": ..., "test": ...}, plus "C")."""
    from wavfusion import WavFusion
    from wavfusion.quiet import quiet_third_party
    from wavfusion.training.features import open_or_extract_cache

    quiet_third_party()
    manifest = manifest or read_manifest(settings.manifest)
    rows = [r for r in (rows if rows is not None else manifest.rows) if r.label]
    for split in ("train", "val"):
        if not any(r.split == split for r in rows):
            raise ValueError(f"{settings.manifest}: no labelled rows with split={split!r}")
    labels = label_names(rows)
    config = dataclasses.replace(copy.deepcopy(settings.model), labels=labels,
                                 num_classes=len(labels))
    model = WavFusion(config)
    cache_folder = Path(settings.cache or settings.out / "cache")
    cache, _ = open_or_extract_cache(manifest, model, cache_folder, False,
                                     progress=settings.progress)
    index = {name: position for position, name in enumerate(labels)}
    known = set(cache.ids)
    parts, ids = {}, {}
    for split in ("train", "val", "test"):
        ids[split] = [r.id for r in rows if r.split == split and r.id in known]
        features = backbone_embeddings(model, cache, ids[split], settings.batch_size)
        classes = np.array([index[r.label] for r in rows if r.split == split and r.id in known],
                           dtype=np.int64)
        parts[split] = (features, classes)
    fit = fit_probe(parts, settings.c_grid, settings.max_iter)
    results: dict[str, Any] = {}
    train_rows = [r for r in rows if r.split == "train"]
    for split, predicted in fit["predictions"].items():
        results[split] = classification_metrics(parts[split][1], predicted, labels)
        results[split]["baselines"] = baselines(
            train_rows, [r for r in rows if r.split == split and r.id in known], labels)
        plot_confusion(results[split]["confusion_matrix"], labels,
                       settings.out / "confusion.png",
                       f"probe {split}: WF1 {results[split]['weighted_f1']:.1f}")
    write_json(settings.out / "metrics.json", results)
    record = {
        "C": fit["C"], "val_wf1_by_C": {str(c): s for c, s in fit["val_wf1_by_C"].items()},
        "rows": {split: len(values) for split, values in ids.items()},
        "split_key": split_key(rows), "cache": str(cache_folder), "manifest": str(manifest.path),
        "run": str(settings.out), "labels": labels, "audio_backbone": config.audio_backbone,
        "features": cache.settings.to_dict(),
        "scores": {split: {k: m[k] for k in ("num_samples", "accuracy", "weighted_f1", "uar")}
                   for split, m in results.items()},
    }
    write_json(settings.out / "probe.json", record)
    write_json(cache_folder / PROBES_FOLDER / f"{record['split_key']}.json", record)
    command = " ".join(shlex.quote(part) for part in ["wavfusion", *sys.argv[1:]])
    (settings.out / "command.txt").write_text(command + "\n", encoding="utf-8")
    return {**results, "C": fit["C"]}
