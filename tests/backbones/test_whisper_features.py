"""The clip-length log-mel front end against transformers' WhisperFeatureExtractor."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import WhisperFeatureExtractor

from tests.backbones.conftest import speech_like
from wavfusion.backbones.whisper_features import HOP_LENGTH, N_FFT, whisper_log_mel

SAMPLES_30S = 30 * 16_000


def reference_features(waveform: np.ndarray) -> np.ndarray:
    """``(80, 3000)``: what transformers computes (zero-padded to 30 s)."""
    extractor = WhisperFeatureExtractor(feature_size=80)
    return extractor(waveform, sampling_rate=16_000, return_tensors="np").input_features[0]


@pytest.mark.parametrize("seconds", [0.7, 3.5, 12.0])
def test_30s_padded_input_equals_the_feature_extractor(seconds):
    waveform = np.zeros(SAMPLES_30S, np.float32)
    waveform[: int(seconds * 16_000)] = speech_like(seconds)
    features, frame_counts = whisper_log_mel(waveform)
    assert features.shape == (1, 80, 3000) and frame_counts.tolist() == [3000]
    np.testing.assert_allclose(features[0].numpy(), reference_features(waveform), atol=1e-5)


@pytest.mark.parametrize("samples", [56_000, 56_123, 33_333])
def test_clip_length_features_equal_the_padded_ones_where_windows_overlap(samples):
    waveform = speech_like(samples / 16_000, seed=1)[:samples]
    waveform[-800:] *= 20  # the clip's loudest frames at its very end: the hardest case
    features, frame_counts = whisper_log_mel(waveform)
    assert frame_counts.tolist() == [samples // HOP_LENGTH] == [features.shape[-1]]
    reference = reference_features(waveform)
    # Frames whose window lies inside the clip are identical; the last one or two see
    # reflect padding here and zeros in the padded window.
    inside = (samples - N_FFT // 2) // HOP_LENGTH + 1
    np.testing.assert_allclose(features[0, :, :inside].numpy(), reference[:, :inside], atol=1e-5)


def test_a_clip_does_not_depend_on_its_batch():
    short, long = speech_like(1.3, seed=2), speech_like(2.9, seed=3)
    alone, alone_counts = whisper_log_mel(short)
    batch, counts = whisper_log_mel([short, long])
    assert counts.tolist() == [alone_counts.item(), long.size // HOP_LENGTH]
    assert torch.equal(batch[0, :, : counts[0]], alone[0])
    assert not batch[0, :, counts[0] :].any()  # zeros past the clip
    stacked, _ = whisper_log_mel(np.stack([short, short]))
    assert torch.equal(stacked[1], alone[0])


def test_padding_to_max_and_limits():
    features, counts = whisper_log_mel(speech_like(1.0), pad_to_max=True)
    assert features.shape == (1, 80, 3000) and counts.tolist() == [100]
    assert whisper_log_mel(np.ones(100, np.float32))[1].tolist() == [N_FFT // HOP_LENGTH]
    with pytest.raises(ValueError, match="more than the encoder's 3000"):
        whisper_log_mel(np.zeros(SAMPLES_30S + HOP_LENGTH, np.float32))
    with pytest.raises(ValueError, match="non-empty mono waveform"):
        whisper_log_mel([np.zeros(0, np.float32)])
