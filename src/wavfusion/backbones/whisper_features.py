"""Whisper's log-mel front end on a clip's own length (no padding to 30 s).

The math (log_mel.py, numpy, shared with the ONNX fast path) is
``transformers.WhisperFeatureExtractor``'s: a centred 400-point Hann STFT with hop
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

import numpy as np
import torch

from wavfusion.backbones.log_mel import HOP_LENGTH, N_FFT, SAMPLE_RATE, log_mel

CHUNK_SECONDS = 30

Waveforms = torch.Tensor | np.ndarray | Sequence[torch.Tensor | np.ndarray]


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


def _as_waveform_list(waveforms: Waveforms) -> list[np.ndarray]:
    if isinstance(waveforms, (torch.Tensor, np.ndarray)):
        waveforms = [waveforms] if waveforms.ndim == 1 else list(waveforms)
    return [w.detach().cpu().numpy() if isinstance(w, torch.Tensor) else np.asarray(w)
            for w in waveforms]


def log_mel_one(waveform: torch.Tensor | np.ndarray, num_mel_bins: int) -> torch.Tensor:
    """Log-mel of one mono 16 kHz clip ``(samples,)``: ``(num_mel_bins, max(samples,
    N_FFT) // HOP_LENGTH)`` float32 (see log_mel.py, the numpy implementation it wraps)."""
    if isinstance(waveform, torch.Tensor):
        waveform = waveform.detach().cpu().numpy()
    return torch.from_numpy(log_mel(waveform, num_mel_bins))


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
