"""Fixtures for the model tests."""

from __future__ import annotations

import pytest
import torch
from transformers import Wav2Vec2Model

from tests.model.inputs import tiny_wav2vec2_config


@pytest.fixture(scope="session", params=[False, True], ids=["post-norm", "pre-norm"])
def saved_wav2vec2(request, tmp_path_factory):
    """A randomly initialised wav2vec2 saved with save_pretrained (safetensors), as a user's
    pretrained folder would be. Returns (folder, HF model)."""
    torch.manual_seed(1)
    model = Wav2Vec2Model(tiny_wav2vec2_config(request.param)).eval()
    folder = tmp_path_factory.mktemp(f"wav2vec2-{request.param}")
    model.save_pretrained(folder)
    return folder, model

