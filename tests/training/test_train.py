"""train / evaluate / cv end to end on a tiny generated manifest, and the cache contract."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch

from wavfusion import WavFusion, WavFusionConfig
from wavfusion.batching import model_inputs
from wavfusion.data.manifest import read_manifest
from wavfusion.training.datamodule import EmotionDataModule
from wavfusion.training.dataset import label_names
from wavfusion.training.features import open_or_extract_cache
from wavfusion.training.run import TrainSettings, evaluate, train


def _settings(tiny_manifest, tiny_backbone, out, **changes) -> TrainSettings:
    model = WavFusionConfig(audio_backbone=str(tiny_backbone), deep_layers=2, text_hidden=16,
                            visual_hidden=16, lvc_codewords=8, encoder_heads=2, shared_dim=16,
                            classifier_hidden=16, dropout=0.0)
    values = {"manifest": tiny_manifest, "out": out, "cache": out.parent / "cache", "epochs": 2,
                  "batch_size": 6, "progress": False, "model": model, "learning_rate": 1e-3}
    values.update(changes)
    return TrainSettings(**values)


@pytest.mark.parametrize("backbone", ["tiny", "whisper-tiny.en-bundled"])
def test_cached_and_uncached_training_agree_on_the_first_batch(tiny_manifest, tiny_backbone,
                                                               tmp_path, backbone):
    """The cache stores the prefix in float16: cached features must be the raw prefix rounded
    to float16, and on the real default backbone the logits and loss of the cached and the
    raw path must agree to 1e-4 (the float16 rounding included)."""
    source = str(tiny_backbone) if backbone == "tiny" else backbone
    settings = _settings(tiny_manifest, tiny_backbone, tmp_path / "run")
    manifest = read_manifest(tiny_manifest)
    labels = label_names(manifest.rows)
    torch.manual_seed(0)
    model = WavFusion(dataclasses.replace(settings.model, audio_backbone=source, labels=labels,
                                          num_classes=len(labels))).train()
    cache, raw = open_or_extract_cache(manifest, model, settings.cache, False, progress=False)
    assert not raw and cache.settings.audio_stored  # pretrained weights: prefix cached
    outputs = {}
    for name, raw_audio in (("cached", False), ("uncached", True)):
        data = EmotionDataModule(manifest, manifest.rows, labels, cache, raw_audio, 6)
        batch = next(iter(data.loader("train")))
        assert ("audio" in batch) == raw_audio and ("audio_features" in batch) != raw_audio
        outputs[name] = model(**model_inputs(batch))
    # Features: the cached prefix is the raw prefix rounded to float16 (within one float16
    # step: the cache was computed in other length buckets, so fp32 noise can flip a rounding).
    features, mask = model.audio_prefix(batch["audio"], batch["audio_mask"])
    for row, utterance_id in enumerate(batch["ids"]):
        cached = torch.from_numpy(cache.get(utterance_id).audio.astype("float32"))
        raw_prefix = features[row, : int(mask[row].sum())]
        assert cached.shape == raw_prefix.shape
        step = raw_prefix.abs() * 2.0**-10 + 1e-6
        assert ((cached - raw_prefix).abs() <= step).all(), utterance_id
    if backbone != "tiny":  # end to end, on the real default backbone (the 1e-4)
        for field in ("logits", "loss"):
            torch.testing.assert_close(getattr(outputs["cached"], field),
                                       getattr(outputs["uncached"], field), atol=1e-4, rtol=0)


def test_train_then_evaluate_round_trip(tiny_manifest, tiny_backbone, tmp_path):
    settings = _settings(tiny_manifest, tiny_backbone, tmp_path / "run")
    results = train(settings)
    out = settings.out
    for name in ("config.json", "model.safetensors", "metrics.json", "confusion.png",
                 "run.json", "command.txt", "logs/metrics.csv"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["num_samples"] == 6 and metrics["val"]["num_samples"] == 6
    assert set(metrics["test"]) >= {"accuracy", "weighted_f1", "uar", "per_class_f1",
                                    "confusion_matrix"}
    assert results["test"] == metrics["test"] and results["epochs_run"] == settings.epochs
    record = json.loads((out / "run.json").read_text())  # the config as trained, not as given
    assert record["model"]["labels"] == ["neutral", "happy", "sad"]
    assert record["model"]["num_classes"] == 3
    again = evaluate(out, tiny_manifest, "test", settings.cache, tmp_path / "eval", 4,
                     progress=False)
    assert again["test"] == metrics["test"]  # same model, same features, same numbers


def test_ctrl_c_keeps_and_evaluates_the_best_epoch_so_far(tiny_manifest, tiny_backbone,
                                                          tmp_path, monkeypatch):
    """Ctrl-C (KeyboardInterrupt inside Lightning's fit, which then exits) at the end of the
    second of 5 epochs: the run still writes the best of epochs 0-1 and its metrics."""
    from wavfusion.training import run

    epochs_seen = []
    original = run.BestWeights.on_validation_end

    def interrupt_after_second_epoch(self, trainer, module):
        original(self, trainer, module)
        epochs_seen.append(trainer.current_epoch)
        if trainer.current_epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(run.BestWeights, "on_validation_end", interrupt_after_second_epoch)
    settings = _settings(tiny_manifest, tiny_backbone, tmp_path / "run", epochs=5)
    results = train(settings)
    assert epochs_seen == [0, 1] and results["interrupted"] and results["epochs_run"] == 2
    assert results["best_epoch"] in (0, 1)
    assert (settings.out / "model.safetensors").is_file()
    assert json.loads((settings.out / "metrics.json").read_text())["test"] == results["test"]


def test_a_cache_made_for_another_split_is_refused(tiny_manifest, tiny_backbone, tmp_path):
    from wavfusion.features.settings import StaleCacheError

    train(_settings(tiny_manifest, tiny_backbone, tmp_path / "a", epochs=1))
    other = _settings(tiny_manifest, tiny_backbone, tmp_path / "b", epochs=1)
    other.model.deep_layers = 1  # another shallow prefix: cached audio features do not fit
    with pytest.raises(StaleCacheError, match="shallow_layers"):
        train(other)


@pytest.mark.slow
def test_two_process_ddp_on_cpu_writes_one_set_of_results(tiny_manifest, tiny_backbone,
                                                          tmp_path):
    out = tmp_path / "ddp"
    cache = tmp_path / "cache"
    # The cache is filled first, by one process (DDP ranks then only read it).
    train(_settings(tiny_manifest, tiny_backbone, tmp_path / "single", epochs=1, cache=cache))
    command = [sys.executable, "-m", "wavfusion.cli", "train", "--manifest", str(tiny_manifest),
               "--cache", str(cache), "--out", str(out), "--epochs", "2", "--batch-size", "4",
               "--devices", "2", "--strategy", "ddp", "--no-progress",
               "--audio-backbone", str(tiny_backbone), "--deep-layers", "2"]
    environment = {**os.environ, "PL_DISABLE_FORK": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False,
                          env=environment)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("wrote ") == 1  # only rank 0 writes and reports
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["num_samples"] == 6
