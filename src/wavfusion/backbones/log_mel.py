"""Whisper's log-mel of one clip on its own length, in numpy (no torch, no transformers).

The one implementation both prediction paths use: the torch Whisper backbone
(whisper_features.py wraps it) and the ONNX fast path (inference/onnx_predictor.py), which
must not import torch. The math is ``transformers.WhisperFeatureExtractor``'s (see
whisper_features.py for what differs from it: the clip's own length):

    centred 400-point periodic-Hann STFT, hop 160, reflect padding, last frame dropped
      -> power spectrum -> Slaney mel filters (0-8 kHz) -> log10(max(mel, 1e-10))
      -> floor 8 below the clip's maximum -> (x + 4) / 4

The mel filters are ``transformers.audio_utils.mel_filter_bank(..., norm="slaney",
mel_scale="slaney")``, rewritten here (tested equal) because importing transformers costs
about a second, more than a whole one-clip prediction.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
N_FFT = 400
HOP_LENGTH = 160
MAX_FREQUENCY = 8000.0  # Hz, the top of Whisper's mel filters
LOG10_FLOOR = 1e-10  # power floor before log10
DYNAMIC_RANGE = 8.0  # log10 units kept below the clip's maximum (80 dB)
# Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above.
SLANEY_BREAK_HZ = 1000.0
SLANEY_BREAK_MEL = 15.0
SLANEY_LOG_STEP = np.log(6.4) / 27.0


def hertz_to_mel(frequencies: np.ndarray) -> np.ndarray:
    """Slaney mel of `frequencies` (Hz), any shape, float64."""
    frequencies = np.asarray(frequencies, dtype=np.float64)
    mels = 3.0 * frequencies / 200.0
    above = frequencies >= SLANEY_BREAK_HZ
    return np.where(above, SLANEY_BREAK_MEL + np.log(np.maximum(frequencies, SLANEY_BREAK_HZ)
                                                     / SLANEY_BREAK_HZ) / SLANEY_LOG_STEP, mels)


def mel_to_hertz(mels: np.ndarray) -> np.ndarray:
    """Inverse of `hertz_to_mel`."""
    mels = np.asarray(mels, dtype=np.float64)
    above = mels >= SLANEY_BREAK_MEL
    return np.where(above, SLANEY_BREAK_HZ * np.exp(SLANEY_LOG_STEP * (mels - SLANEY_BREAK_MEL)),
                    200.0 * mels / 3.0)


@lru_cache(maxsize=4)
def mel_filters(num_mel_bins: int) -> np.ndarray:
    """Slaney-normalised triangular mel filters, ``(num_mel_bins, N_FFT // 2 + 1)`` float64
    (read-only: cached)."""
    edges = mel_to_hertz(np.linspace(hertz_to_mel(0.0), hertz_to_mel(MAX_FREQUENCY),
                                     num_mel_bins + 2))
    bins = np.linspace(0, SAMPLE_RATE // 2, 1 + N_FFT // 2)
    slopes = edges[None, :] - bins[:, None]  # (bins, num_mel_bins + 2)
    widths = np.diff(edges)
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    filters *= 2.0 / (edges[2:] - edges[:-2])  # Slaney: equal area per filter
    filters = np.ascontiguousarray(filters.T)
    filters.flags.writeable = False
    return filters


@lru_cache(maxsize=1)
def _hann_window() -> np.ndarray:
    """The periodic Hann window of N_FFT points (torch.hann_window's default)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)


def frame_count(samples: int) -> int:
    """Log-mel frames of a clip of `samples` samples: ``max(samples, N_FFT) // HOP_LENGTH``."""
    return max(samples, N_FFT) // HOP_LENGTH


def log_mel(waveform: np.ndarray, num_mel_bins: int = 80) -> np.ndarray:
    """Log-mel of one mono 16 kHz clip.

    Args:
        waveform: ``(samples,)`` float; clips shorter than one window are right-padded with
            zeros to ``N_FFT`` samples.
        num_mel_bins: 80 for Whisper tiny ... medium, 128 for large-v3.

    Returns:
        ``(num_mel_bins, frame_count(samples))`` float32.
    """
    waveform = np.asarray(waveform)
    if waveform.ndim != 1 or waveform.size == 0:
        raise ValueError(f"expected a non-empty mono waveform (samples,), got {waveform.shape}")
    waveform = waveform.astype(np.float64)
    if waveform.size < N_FFT:
        waveform = np.pad(waveform, (0, N_FFT - waveform.size))
    padded = np.pad(waveform, N_FFT // 2, mode="reflect")
    frames = frame_count(waveform.size)  # the centred STFT's last frame is dropped
    windows = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH][:frames]
    power = np.abs(np.fft.rfft(windows * _hann_window(), axis=-1)) ** 2  # (frames, bins)
    mel = np.log10(np.maximum(mel_filters(num_mel_bins) @ power.T, LOG10_FLOOR))
    mel = np.maximum(mel, mel.max() - DYNAMIC_RANGE)
    return ((mel + 4.0) / 4.0).astype(np.float32)


__all__ = ["HOP_LENGTH", "N_FFT", "SAMPLE_RATE", "frame_count", "log_mel", "mel_filters"]
