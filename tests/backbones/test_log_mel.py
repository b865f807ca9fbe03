"""The numpy log-mel (backbones/log_mel.py) against torch.stft + transformers' mel filters,
the implementation it replaced in the torch path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers.audio_utils import mel_filter_bank

from tests.backbones.conftest import speech_like
from wavfusion.backbones.log_mel import N_FFT, frame_count, log_mel, mel_filters


def torch_log_mel(waveform: np.ndarray, num_mel_bins: int) -> np.ndarray:
    """The former torch front end: torch.stft, transformers' Slaney filters, float32."""
    filters = torch.from_numpy(mel_filter_bank(
        num_frequency_bins=1 + N_FFT // 2, num_mel_filters=num_mel_bins, min_frequency=0.0,
        max_frequency=8000.0, sampling_rate=16_000, norm="slaney", mel_scale="slaney",
    ).T.astype(np.float32))
    clip = torch.from_numpy(waveform).float()
    if clip.numel() < N_FFT:
        clip = torch.nn.functional.pad(clip, (0, N_FFT - clip.numel()))
    spectrum = torch.stft(clip, N_FFT, 160, window=torch.hann_window(N_FFT),
                          return_complex=True)
    mel = (filters @ spectrum[:, :-1].abs().square()).clamp_min(1e-10).log10()
    return ((torch.maximum(mel, mel.max() - 8.0) + 4.0) / 4.0).numpy()


@pytest.mark.parametrize("num_mel_bins", [80, 128])
def test_mel_filters_equal_transformers(num_mel_bins):
    expected = mel_filter_bank(
        num_frequency_bins=1 + N_FFT // 2, num_mel_filters=num_mel_bins, min_frequency=0.0,
        max_frequency=8000.0, sampling_rate=16_000, norm="slaney", mel_scale="slaney").T
    np.testing.assert_allclose(mel_filters(num_mel_bins), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("samples", [100, 400, 8_000, 36_801, 16_000 * 29])
def test_log_mel_equals_the_torch_stft_front_end(samples):
    waveform = speech_like(samples / 16_000 + 0.01, seed=samples)[:samples].astype(np.float32)
    found = log_mel(waveform, 80)
    assert found.dtype == np.float32 and found.shape == (80, frame_count(samples))
    np.testing.assert_allclose(found, torch_log_mel(waveform, 80), atol=2e-5)


def test_log_mel_refuses_what_is_not_one_clip():
    with pytest.raises(ValueError, match="non-empty mono waveform"):
        log_mel(np.zeros((2, 400), np.float32))
