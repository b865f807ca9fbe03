"""`wavfusion probe`: the frozen backbone's pooled output + logistic regression."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.training.test_train import _settings
from wavfusion.cli import main
from wavfusion.data.manifest import read_manifest
from wavfusion.training.dataset import label_names
from wavfusion.training.probe import C_GRID, pooled_statistics, recorded_probe
from wavfusion.training.run import train


def test_pooled_statistics_ignore_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 6.0], [99.0, 99.0]]])
    mask = torch.tensor([[True, True, False]])
    torch.testing.assert_close(pooled_statistics(hidden, mask),
                               torch.tensor([[2.0, 4.0, 1.0, 2.0]]))


@torch.no_grad()
def _reference_features(manifest) -> dict[str, np.ndarray]:
    """Mean + std of the whole pretrained Whisper encoder's output (its own code path, on the
    raw clip, not the cache), per utterance id."""
    from wavfusion.backbones.whisper_encode import encode_variable_length
    from wavfusion.backbones.whisper_encoder import load_whisper_encoder
    from wavfusion.backbones.whisper_features import whisper_log_mel

    encoder, _ = load_whisper_encoder()
    encoder.eval()
    pooled = {}
    for row in manifest.rows:
        features, counts = whisper_log_mel(torch.from_numpy(manifest.load_audio(row))[None])
        encoding = encode_variable_length(encoder, features, counts)
        pooled[row.id] = pooled_statistics(encoding.last_hidden_state,
                                           encoding.mask)[0].double().numpy()
    return pooled


def test_probe_matches_scikit_learn_by_hand(tiny_manifest, tmp_path):
    """On the default backbone (Whisper tiny.en, 3 frozen + 1 deep layer): the probe's pooled
    deep-layer output on the cache equals the whole encoder's on the raw clip (to the cache's
    float16), and its metrics are scikit-learn's, C picked on val, refitted on train + val."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = tmp_path / "probe"
    assert main(["probe", "--manifest", str(tiny_manifest), "--out", str(out),
                 "--cache", str(tmp_path / "cache"), "--no-progress"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    record = json.loads((out / "probe.json").read_text())

    manifest = read_manifest(tiny_manifest)
    labels = label_names(manifest.rows)
    reference = _reference_features(manifest)
    parts = {}
    for split in ("train", "val", "test"):
        rows = [r for r in manifest.rows if r.split == split]
        parts[split] = (np.stack([reference[r.id] for r in rows]),
                        np.array([labels.index(r.label) for r in rows]))

    def fitted(c, x, y):
        return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000)).fit(x, y)

    val_scores = {c: 100 * f1_score(parts["val"][1], fitted(c, *parts["train"]).predict(
        parts["val"][0]), average="weighted") for c in C_GRID}
    best = max(C_GRID, key=lambda c: (val_scores[c], -c))
    assert record["C"] == best
    refit = fitted(best, np.concatenate([parts["train"][0], parts["val"][0]]),
                   np.concatenate([parts["train"][1], parts["val"][1]]))
    test_wf1 = 100 * f1_score(parts["test"][1], refit.predict(parts["test"][0]),
                              average="weighted")
    assert metrics["test"]["weighted_f1"] == pytest.approx(test_wf1)
    assert metrics["val"]["weighted_f1"] == pytest.approx(val_scores[best])
    assert set(metrics["test"]) >= {"accuracy", "weighted_f1", "uar", "per_class_f1",
                                    "confusion_matrix", "labels"}


def test_train_prints_the_probe_beside_its_own(tiny_manifest, tiny_backbone, tmp_path, capsys):
    """--probe runs the probe into RUN/probe; a later run on the same cache and splits finds
    its record without running it again."""
    settings = _settings(tiny_manifest, tiny_backbone, tmp_path / "run", epochs=1, probe=True)
    first = train(settings)
    probe_metrics = json.loads((settings.out / "probe" / "metrics.json").read_text())
    assert first["probe"]["test"]["weighted_f1"] == probe_metrics["test"]["weighted_f1"]
    assert recorded_probe(settings.cache, read_manifest(tiny_manifest).rows) is not None

    from wavfusion.training.cli import _print_metrics

    second = train(_settings(tiny_manifest, tiny_backbone, tmp_path / "again", epochs=1))
    assert second["probe"]["test"] == first["probe"]["test"]
    assert not (tmp_path / "again" / "probe").exists()
    _print_metrics(second)
    assert f"probe: test WF1 {probe_metrics['test']['weighted_f1']:.2f}" in capsys.readouterr().out
