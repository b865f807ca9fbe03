"""`OnnxPredictor`: one audio-only clip with RUN/model.onnx, without torch or transformers.

The fast path of `wavfusion predict` for the common request (one audio file, no transcript,
no timeline): importing torch alone takes longer than loading the model and predicting. It
goes down the torch Predictor's path (onnx_export.py exports exactly that path):

    file --media.load_audio (16 kHz mono, as decode_row)--> (samples,)
         --front-end input (the waveform, or the Whisper log-mel of backbones/log_mel.py)-->
         --model.onnx (Eq 7 prefix, float16 as cached, deep layers, classifier)-->
         probabilities, gates --> the same dict as Predictor.predict (inference/clip.py)

Timings: `encoders` is the numpy front end, `model` the graph (prefix included).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

from wavfusion.backbones.log_mel import log_mel
from wavfusion.data import media
from wavfusion.data.errors import DataError
from wavfusion.inference.clip import (
    PAST_LIMIT_SECONDS,
    PredictionError,
    check_decoded_length,
    missing_modalities,
    prediction_result,
    probe_clip,
)
from wavfusion.inference.onnx_record import (
    LOG_MEL,
    ONNX_NAME,
    OnnxRecord,
    read_fresh_record,
)
from wavfusion.inference.recording import declared_seconds
from wavfusion.inference.result import gate_value


@dataclass
class OnnxPredictor:
    """RUN's exported graph in an onnxruntime session, and its record."""

    session: onnxruntime.InferenceSession
    record: OnnxRecord
    run_folder: Path

    @classmethod
    def from_run(cls, folder: str | Path, threads: int | None = None) -> OnnxPredictor | None:
        """The predictor of RUN `folder`, None when it has no fresh model.onnx (none, or
        exported from other files than the run's own now: see onnx_record.py). `threads`:
        onnxruntime's intra-op threads (None: one per core)."""
        folder = Path(folder)
        record = read_fresh_record(folder)
        if record is None:
            return None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or 0
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(folder / ONNX_NAME), options,
                                               providers=["CPUExecutionProvider"])
        return cls(session, record, folder)

    @property
    def labels(self) -> list[str]:
        return self.record.labels

    def answers(self, path: str | Path) -> bool:
        """Whether `wavfusion predict` gives `path` (no transcript) one prediction that the
        graph computes: not when the model would use the file's video, nor for a recording
        longer than max_seconds or of undeclared length (`--segments auto` makes those a
        timeline). True for a file that cannot be read: `predict` raises the torch path's
        PredictionError."""
        try:
            if "visual" in self.record.modalities and media.has_video(path):
                return False
            seconds = declared_seconds(path)
        except DataError:
            return True
        return seconds is not None and seconds <= self.record.max_seconds

    def predict(self, path: str | Path) -> dict[str, Any]:
        """Predict one audio-only clip without a transcript: Predictor.predict's dict, keys
        and values. PredictionError naming the file when it cannot be decoded, ClipTooLong
        when it lasts longer than max_seconds; ValueError for a video the model would use
        (see `answers`)."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        limit = self.record.max_seconds
        modalities = self.record.modalities
        location, video = probe_clip(path, limit)
        if video and "visual" in modalities:
            raise ValueError(f"{path}: a video, which this model would use: predict it with "
                             "the torch Predictor")
        try:
            audio = media.load_audio(location, max_seconds=limit + PAST_LIMIT_SECONDS)
        except DataError as error:
            raise PredictionError(path, str(error).removeprefix(f"{location}: ")) from error
        timings["decode"] = time.perf_counter() - started
        check_decoded_length(path, audio, limit)
        missing = missing_modalities(modalities, False, video)
        used = [name for name in modalities if name not in missing]
        begun = time.perf_counter()
        front = (log_mel(audio, self.record.num_mel_bins) if self.record.input_kind == LOG_MEL
                 else audio.astype(np.float32))
        timings["encoders"] = time.perf_counter() - begun
        begun = time.perf_counter()
        probabilities, gates = self.session.run(None, {self.record.input_kind: front[None]})
        timings["model"] = time.perf_counter() - begun
        timings["total"] = time.perf_counter() - started
        return prediction_result(path, self.labels, [float(p) for p in probabilities[0]],
                                 used, missing, None, None,
                                 [gate_value(float(gate)) for gate in gates], timings)


__all__ = ["OnnxPredictor"]
