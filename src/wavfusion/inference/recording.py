"""Reading a long recording as a stream: its duration, Silero VAD and energy per chunk, and
the audio of one segment at a time (so memory does not grow with the recording's length).

`scan` decodes `BLOCK_SECONDS` at a time (media.decode_audio on a window: a seek, then the
decoding of that window only), feeding each block to the VAD and keeping only one
probability and one energy per 32-ms chunk (8 bytes per chunk: 0.9 MB for an hour).
`segment_audio` decodes one segment's window again when the segment is predicted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wavfusion.asr.vad import CHUNK_SAMPLES, CHUNK_SECONDS, SileroVAD, VadStream
from wavfusion.data import media
from wavfusion.data.errors import MediaError

BLOCK_SECONDS = 60.0
PROBE_SECONDS = 0.1  # decoded up front to read the declared duration


@dataclass
class Scan:
    """What one pass over a recording learned. probabilities/energy: `(chunks,)` float32,
    empty when no VAD ran; stopped_by: why decoding stopped before the declared end."""

    duration: float
    probabilities: np.ndarray
    energy: np.ndarray
    stopped_by: str | None = None
    decode_seconds: float = 0.0  # wall time of the decoding
    vad_seconds: float = 0.0  # wall time of the VAD and the energy


def declared_seconds(path: str | Path) -> float | None:
    """The duration the container declares for the audio stream (None if it declares none).
    MediaError for an unreadable file or one without an audio stream."""
    return media.decode_audio(path, end=PROBE_SECONDS, max_seconds=None,
                              allow_silent=True).full_seconds


def chunk_energy(samples: np.ndarray) -> np.ndarray:
    """Mean square of each whole CHUNK_SAMPLES chunk of `samples`, `(chunks,)`."""
    whole = samples.size // CHUNK_SAMPLES * CHUNK_SAMPLES
    return np.square(samples[:whole].reshape(-1, CHUNK_SAMPLES)).mean(axis=1)


def scan(path: str | Path, vad: SileroVAD | None, limit_seconds: float,
         block_seconds: float = BLOCK_SECONDS) -> Scan:
    """Decode `path` block by block up to its end (at most `limit_seconds`); with `vad`, the
    speech probability and energy of every chunk. A stream that breaks after some audio ends
    the scan there, its reason in `stopped_by`; MediaError when nothing decodes."""
    stream, probabilities, energies = VadStream(), [], []
    pending = np.zeros(0, np.float32)  # samples not yet a whole chunk, for the energy
    position, stopped_by = 0.0, None
    decode_seconds = vad_seconds = 0.0
    while position < limit_seconds:
        end = min(position + block_seconds, limit_seconds)
        started = time.perf_counter()
        try:
            decoded = media.decode_audio(path, start=position, end=end, max_seconds=None,
                                         allow_silent=True)
        except MediaError as error:
            if position == 0.0:
                raise
            if "0 samples" not in error.reason:  # past the end: the stream simply ended
                stopped_by = error.reason
            break
        samples = decoded.samples
        requested = round((end - position) * media.SAMPLE_RATE)
        position += samples.size / media.SAMPLE_RATE
        decode_seconds += time.perf_counter() - started
        started = time.perf_counter()
        if vad is not None:
            probabilities.append(vad.feed(stream, samples))
            with_pending = np.concatenate([pending, samples])
            energies.append(chunk_energy(with_pending))
            pending = with_pending[len(energies[-1]) * CHUNK_SAMPLES :]
        vad_seconds += time.perf_counter() - started
        if decoded.stopped_by is not None:
            stopped_by = decoded.stopped_by
            break
        if samples.size < requested - CHUNK_SAMPLES:
            break  # a short block: the end of the stream
    if vad is not None:
        probabilities.append(vad.finish(stream))
        if pending.size:
            energies.append(np.square(pending).mean(keepdims=True).astype(np.float32))
    return Scan(position, _joined(probabilities), _joined(energies), stopped_by,
                decode_seconds, vad_seconds)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def segment_audio(path: str | Path, start: float, end: float) -> np.ndarray:
    """`(samples,)` float32 16 kHz audio of `[start, end)` seconds of `path`."""
    return media.decode_audio(path, start=start, end=end, max_seconds=None,
                              allow_silent=True).samples


__all__ = ["BLOCK_SECONDS", "CHUNK_SECONDS", "Scan", "chunk_energy", "declared_seconds", "scan",
           "segment_audio"]
