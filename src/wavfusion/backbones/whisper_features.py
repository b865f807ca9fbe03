"""Whisper's log-mel front end on a clip's own length (no padding to 30 s).

The math is ``transformers.WhisperFeatureExtractor``'s: a centred 400-point Hann STFT with hop
160 (reflect padding), the last frame dropped, power spectrum, Slaney mel filters (0-8 kHz),
``log10(max(mel, 1e-10))``, a floor 8 below the clip's maximum, then ``(x + 4) / 4``.

What differs from the feature extractor, which pads every clip with zeros to 30 s first:

* frames: ``samples // 160`` frames instead of always 3000;
* the last one or two frames (whose window reaches past the end) see reflect padding instead
  of zeros; every frame ``t`` with ``t * 160 + 200 <= samples`` is identical;
* the floor ``max - 8`` uses the maximum over the clip's own frames. The padded window's
  maximum is the same unless it falls in one of those last frames (identical on the RAVDESS
  clips checked, and in the tests). The 30-s window's extra frames are floor-level
  ("silence") frames that the encoder attends to; dropping them is what makes the encoder
  output differ from the padded one (see ``whisper_encode``).

Each clip is transformed on its own, so a clip's features do not depend on the batch it is in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from transformers.audio_utils import mel_filter_bank

SAMPLE_RATE = 16_000
N_FFT = 400
HOP_LENGTH = 160
CHUNK_SECONDS = 30
LOG10_FLOOR = 1e-10  # power floor before log10
DYNAMIC_RANGE = 8.0  # log10 units kept below the clip's maximum (80 dB)

Waveforms = torch.Tensor | np.ndarray | Sequence[torch.Tensor | np.ndarray]


@lru_cache(maxsize=4)
def mel_filters(num_mel_bins: int) -> torch.Tensor:
    """Slaney-normalised mel filters, ``(num_mel_bins, N_FFT // 2 + 1)``, as Whisper uses."""
    filters = mel_filter_bank(
        num_frequency_bins=1 + N_FFT // 2,
        num_mel_filters=num_mel_bins,
        min_frequency=0.0,
        max_frequency=8000.0,
        sampling_rate=SAMPLE_RATE,
        norm="slaney",
        mel_scale="slaney",
    )
    return torch.from_numpy(np.ascontiguousarray(filters.T, dtype=np.float32))


@dataclass(frozen=True)
class WhisperFrontEnd:
    """What a waveform must become before a Whisper encoder sees it.

    The ``WhisperFeatureExtractor`` equivalent that :func:`load_whisper_encoder` returns.
    ``max_frames`` is ``2 * max_source_positions`` (3000 = 30 s for OpenAI's checkpoints).
    """

    num_mel_bins: int = 80
    max_frames: int = CHUNK_SECONDS * SAMPLE_RATE // HOP_LENGTH
    sampling_rate: int = SAMPLE_RATE
    hop_length: int = HOP_LENGTH
    n_fft: int = N_FFT

    def __call__(
        self, waveforms: Waveforms, *, pad_to_max: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """See :func:`whisper_log_mel`."""
        return whisper_log_mel(
            waveforms, self.num_mel_bins, max_frames=self.max_frames, pad_to_max=pad_to_max
        )


def _as_waveform_list(waveforms: Waveforms) -> list[torch.Tensor]:
    if isinstance(waveforms, (torch.Tensor, np.ndarray)):
        waveforms = [waveforms] if waveforms.ndim == 1 else list(waveforms)
    return [torch.as_tensor(np.asarray(w) if isinstance(w, np.ndarray) else w) for w in waveforms]


def log_mel_one(waveform: torch.Tensor, num_mel_bins: int) -> torch.Tensor:
    """Log-mel of one mono 16 kHz clip.

    Args:
        waveform: ``(samples,)`` float; clips shorter than one window are right-padded with
            zeros to ``N_FFT`` samples.

    Returns:
        ``(num_mel_bins, max(samples, N_FFT) // HOP_LENGTH)`` float32.
    """
    if waveform.ndim != 1 or waveform.numel() == 0:
        raise ValueError(f"expected a non-empty mono waveform (samples,), got {tuple(waveform.shape)}")
    waveform = waveform.to(torch.float32)
    if waveform.numel() < N_FFT:
        waveform = torch.nn.functional.pad(waveform, (0, N_FFT - waveform.numel()))
    window = torch.hann_window(N_FFT)
    spectrum = torch.stft(waveform, N_FFT, HOP_LENGTH, window=window, return_complex=True)
    power = spectrum[:, :-1].abs().square()
    log_mel = (mel_filters(num_mel_bins) @ power).clamp_min(LOG10_FLOOR).log10()
    log_mel = torch.maximum(log_mel, log_mel.max() - DYNAMIC_RANGE)
    return (log_mel + 4.0) / 4.0


def whisper_log_mel(
    waveforms: Waveforms,
    num_mel_bins: int = 80,
    *,
    max_frames: int = CHUNK_SECONDS * SAMPLE_RATE // HOP_LENGTH,
    pad_to_max: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Whisper log-mel features of 16 kHz mono clips, each on its own length.

    Args:
        waveforms: one clip ``(samples,)``, a batch ``(batch, samples)`` or a list of clips.
        num_mel_bins: 80 for tiny ... medium, 128 for large-v3.
        max_frames: the encoder's limit (3000 = 30 s); longer clips raise ``ValueError``.
        pad_to_max: pad the features to ``max_frames`` instead of the batch's longest clip
            (a fixed shape; the padding is zeros either way). A clip whose waveform was
            zero-padded to 30 s gives ``WhisperFeatureExtractor``'s features (to ~1e-5).

    Returns:
        ``(features, frame_counts)``: ``features`` is ``(batch, num_mel_bins, frames)``
        float32, zero beyond each clip's ``frame_counts[i]`` (``(batch,)`` int64). Zero, not
        Whisper's silence value, so that the encoder's convolutions see the same zero padding
        as on the unpadded clip (see :func:`encode_variable_length`).
    """
    clips = [log_mel_one(w, num_mel_bins) for w in _as_waveform_list(waveforms)]
    if not clips:
        raise ValueError("no waveforms given")
    frame_counts = torch.tensor([clip.shape[1] for clip in clips], dtype=torch.long)
    too_long = int(frame_counts.max())
    if too_long > max_frames:
        raise ValueError(
            f"a clip has {too_long} frames ({too_long * HOP_LENGTH / SAMPLE_RATE:.1f} s), more "
            f"than the encoder's {max_frames}; crop or split it first"
        )
    frames = max_frames if pad_to_max else too_long
    features = torch.zeros(len(clips), num_mel_bins, frames)
    for row, clip in enumerate(clips):
        features[row, :, : clip.shape[1]] = clip
    return features, frame_counts
