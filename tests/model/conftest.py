"""Fixtures for the model tests."""

from __future__ import annotations

import pytest
import torch
from transformers import Wav2Vec2Model, WhisperModel

from tests.model.inputs import tiny_wav2vec2_config, tiny_whisper_config


@pytest.fixture(scope="session", params=[False, True], ids=["post-norm", "pre-norm"])
def saved_wav2vec2(request, tmp_path_factory):
    """A randomly initialised wav2vec2 saved with save_pretrained (safetensors), as a user's
    pretrained folder would be. Returns (folder, HF model)."""
    torch.manual_seed(1)
    model = Wav2Vec2Model(tiny_wav2vec2_config(request.param)).eval()
    folder = tmp_path_factory.mktemp(f"wav2vec2-{request.param}")
    model.save_pretrained(folder)
    return folder, model



@pytest.fixture(scope="session")
def saved_whisper(tmp_path_factory):
    """A randomly initialised transformers Whisper (encoder + decoder) saved as safetensors.
    Returns (folder, the HF WhisperEncoder)."""
    torch.manual_seed(2)
    model = WhisperModel(tiny_whisper_config()).eval()
    folder = tmp_path_factory.mktemp("whisper")
    model.save_pretrained(folder)
    return folder, model.get_encoder()


@pytest.fixture(params=["wav2vec2-post-norm", "wav2vec2-pre-norm", "whisper"])
def pretrained_backbone_folder(request, tmp_path_factory):
    """A saved pretrained-style folder of each layer type WavFusion splits."""
    if request.param == "whisper":
        return request.getfixturevalue("saved_whisper")[0]
    model = Wav2Vec2Model(tiny_wav2vec2_config(request.param.endswith("pre-norm")))
    folder = tmp_path_factory.mktemp(request.param)
    model.save_pretrained(folder)
    return folder
