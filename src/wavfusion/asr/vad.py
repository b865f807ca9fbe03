"""Voice activity detection with Silero VAD v6, the ONNX model faster-whisper ships, offline.

The model reads 16 kHz audio in chunks of `CHUNK_SAMPLES` (32 ms), each preceded by the last
`CONTEXT_SAMPLES` of the chunk before it (zeros for the first), and carries an LSTM state
`(h, c)`, each `(1, 1, 128)`, from chunk to chunk. One `session.run` takes a sequence of
chunks `(chunks, CONTEXT_SAMPLES + CHUNK_SAMPLES)` and returns one speech probability per
chunk `(chunks,)` with the state after the last one, so a long recording can be fed block by
block (`SileroVAD.stream`) and gives the same probabilities as fed whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
CHUNK_SAMPLES = 512
CONTEXT_SAMPLES = 64
CHUNK_SECONDS = CHUNK_SAMPLES / SAMPLE_RATE
STATE_SHAPE = (1, 1, 128)
MODEL_FILE = "silero_vad_v6.onnx"


def silero_model_path() -> Path:
    """The Silero VAD v6 ONNX file in faster-whisper's assets (FileNotFoundError if absent)."""
    import faster_whisper

    path = Path(faster_whisper.__file__).parent / "assets" / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: Silero VAD model not found (faster-whisper's assets)")
    return path


@lru_cache(maxsize=1)
def _session(path: str):
    """One onnxruntime session per process, on one thread (the model is tiny: more threads
    only add synchronisation)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.log_severity_level = 4
    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"],
                                        sess_options=options)


@dataclass
class VadStream:
    """State of one recording fed block by block: the LSTM state, the samples not yet a whole
    chunk, and the context (last CONTEXT_SAMPLES of the previous chunk)."""

    h: np.ndarray = field(default_factory=lambda: np.zeros(STATE_SHAPE, np.float32))
    c: np.ndarray = field(default_factory=lambda: np.zeros(STATE_SHAPE, np.float32))
    pending: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    context: np.ndarray = field(default_factory=lambda: np.zeros(CONTEXT_SAMPLES, np.float32))


class SileroVAD:
    """Speech probability per 32-ms chunk of 16 kHz mono audio.

        vad = SileroVAD()
        probabilities = vad(samples)            # (len(samples) // 512 + tail,) in [0, 1]
        stream = VadStream(); parts = [vad.feed(stream, block) for block in blocks]
        parts.append(vad.finish(stream))        # the same, block by block
    """

    def __init__(self, model_path: str | Path | None = None) -> None:
        self.session = _session(str(model_path or silero_model_path()))

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        stream = VadStream()
        return np.concatenate([self.feed(stream, samples), self.finish(stream)])

    def feed(self, stream: VadStream, samples: np.ndarray) -> np.ndarray:
        """Probabilities of the whole chunks now available; the rest waits in `stream`."""
        audio = np.concatenate([stream.pending, np.asarray(samples, np.float32)])
        whole = audio.size // CHUNK_SAMPLES * CHUNK_SAMPLES
        stream.pending = audio[whole:]
        return self._run(stream, audio[:whole])

    def finish(self, stream: VadStream) -> np.ndarray:
        """The probability of the last, partial chunk (zero-padded); empty when none."""
        if stream.pending.size == 0:
            return np.zeros(0, np.float32)
        tail = np.zeros(CHUNK_SAMPLES, np.float32)
        tail[: stream.pending.size] = stream.pending
        stream.pending = np.zeros(0, np.float32)
        return self._run(stream, tail)

    def _run(self, stream: VadStream, audio: np.ndarray) -> np.ndarray:
        """audio `(chunks * CHUNK_SAMPLES,)` -> `(chunks,)` probabilities, the state advanced."""
        if audio.size == 0:
            return np.zeros(0, np.float32)
        chunks = audio.reshape(-1, CHUNK_SAMPLES)
        contexts = np.concatenate([stream.context[None], chunks[:-1, -CONTEXT_SAMPLES:]])
        rows = np.ascontiguousarray(np.concatenate([contexts, chunks], axis=1))
        probabilities, stream.h, stream.c = self.session.run(
            None, {"input": rows, "h": stream.h, "c": stream.c})
        stream.context = chunks[-1, -CONTEXT_SAMPLES:].copy()
        return np.asarray(probabilities, np.float32).reshape(-1)


__all__ = ["CHUNK_SAMPLES", "CHUNK_SECONDS", "SileroVAD", "VadStream", "silero_model_path"]
