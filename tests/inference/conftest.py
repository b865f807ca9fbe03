"""A tiny trained RUN and sample clips for the predict tests (generated per session).

The RUN is trained for one epoch on an 8-clip demo corpus with a tiny wav2vec2 backbone and
the default frozen encoders (MiniLM text, EfficientNet-Lite0 image, as `train` uses them);
its last classifier layer is then scaled up so that its probabilities are far from uniform:
a feature that differs from the cached one then shows in them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.features.tiny import save_tiny_wav2vec2
from wavfusion import WavFusion, WavFusionConfig
from wavfusion.data.manifest import ManifestRow, write_manifest
from wavfusion.data.synthetic import generate_corpus
from wavfusion.data.synthetic.samples import write_sample_clips
from wavfusion.inference import Predictor
from wavfusion.training.run import TrainSettings, train

LOGIT_SCALE = 30.0


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("predict-run")
    manifest = generate_corpus(folder / "corpus", per_class=2, speakers=3, seconds=(0.6, 0.9),
                               video_fraction=0.5, text_fraction=0.75, progress=False)
    backbone = save_tiny_wav2vec2(folder / "wav2vec2")
    config = WavFusionConfig(audio_backbone=str(backbone), deep_layers=2, text_hidden=16,
                             visual_hidden=16, lvc_codewords=8, encoder_heads=2, shared_dim=16,
                             classifier_hidden=16, dropout=0.0)
    run = folder / "run"
    train(TrainSettings(manifest=manifest, out=run, epochs=1, batch_size=4, progress=False,
                        learning_rate=1e-3, model=config))
    model = WavFusion.from_pretrained(run)
    with torch.no_grad():
        model.classifier[-1].weight.mul_(LOGIT_SCALE)
    model.save_pretrained(run)
    return run


@pytest.fixture(scope="session")
def predictor(tiny_run) -> Predictor:
    return Predictor.from_run(tiny_run)


@pytest.fixture(scope="session")
def sample_rows(tmp_path_factory) -> dict[str, ManifestRow]:
    """{"wav": row, "mp4": row} of two 0.8-s sample clips; manifest.csv of both beside them
    (split test, with transcripts: the cached reference)."""
    folder = tmp_path_factory.mktemp("predict-clips")
    rows = write_sample_clips(folder, seconds=0.8, seed=1)
    write_manifest(folder / "manifest.csv", list(rows.values()))
    for row in rows.values():
        row.extra["path"] = str(folder / (row.video or row.audio))
    return rows
