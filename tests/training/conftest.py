"""A tiny labelled manifest (tones whose pitch depends on the class, plus transcripts) and a
tiny pretrained-style wav2vec2 folder, generated per test session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import Wav2Vec2Config, Wav2Vec2Model

from tests.data.clips import write_audio
from wavfusion.data.manifest import ManifestRow, write_manifest

CLASSES = {"neutral": 180.0, "happy": 320.0, "sad": 130.0}
WORDS = {"neutral": "it is a table", "happy": "what a lovely day", "sad": "I miss her so much"}


@pytest.fixture(scope="session")
def tiny_manifest(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-corpus")
    rng = np.random.default_rng(0)
    rows = []
    for split, count in (("train", 6), ("val", 2), ("test", 2)):
        for label, pitch in CLASSES.items():
            for index in range(count):
                seconds = rng.uniform(0.4, 0.9)
                time = np.arange(int(16000 * seconds)) / 16000
                samples = 0.3 * np.sin(2 * np.pi * pitch * rng.uniform(0.9, 1.1) * time)
                samples += 0.02 * rng.standard_normal(len(time))
                name = f"{split}-{label}-{index}"
                write_audio(folder / f"{name}.wav", samples[None].astype("float32"), 16000)
                text = WORDS[label] if index % 3 else ""  # some rows without transcript
                rows.append(ManifestRow(id=name, audio=f"{name}.wav", text=text, label=label,
                                        speaker=f"{split}{index % 2}", split=split))
    path = folder / "manifest.csv"
    write_manifest(path, rows)
    return path


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory) -> Path:
    """A 4-layer wav2vec2 (layer-norm feature encoder) saved as safetensors: it counts as
    pretrained, so its shallow prefix is frozen and cached."""
    torch.manual_seed(0)
    config = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=4, num_attention_heads=4, intermediate_size=64,
        conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
        feat_extract_norm="layer", conv_bias=True,
    )
    folder = tmp_path_factory.mktemp("tiny-wav2vec2")
    Wav2Vec2Model(config).save_pretrained(folder)
    return folder
