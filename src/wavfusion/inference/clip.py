"""What both one-clip predictors share, without torch: the errors, the checks of a decoded
clip, the missing modalities and the result dict.

The torch `Predictor` (predictor.py) and the ONNX fast path (onnx_predictor.py) import this,
so the fast path raises the same exceptions and returns the same keys and values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from wavfusion.data import media
from wavfusion.data.errors import DataError
from wavfusion.data.media import SAMPLE_RATE
from wavfusion.inference.recording import declared_seconds
from wavfusion.inference.result import gate_note, json_safe

NOT_USED = "not used by this model"
NO_VIDEO = "audio-only file"
NO_TRANSCRIPT = "no transcript given"
NO_SPEECH = "no speech recognised (--transcribe)"
TIMING_DIGITS = 4  # seconds, rounded in the result
PROBABILITY_DIGITS = 6
SHORTEST_SAMPLES = 400  # 25 ms at 16 kHz: one window of the audio backbone's first conv
PAST_LIMIT_SECONDS = 0.1  # decoded beyond max_seconds, to tell a clip that goes on past it


class PredictionError(DataError):
    """A file that could not be predicted; `item` is the file as given, `reason` says why."""


class ClipTooLong(PredictionError):
    """A clip longer than the model hears at once: predict its timeline instead."""

    def __init__(self, item, seconds: float, limit: float) -> None:
        super().__init__(item, f"the clip lasts {seconds:.1f} s, longer than the {limit:g} s "
                         "the model hears at once (max_seconds); predict its timeline "
                         "instead: Predictor.predict_timeline, or wavfusion predict "
                         "--segments auto")


def probe_clip(path: str | Path, limit: float) -> tuple[Path, bool]:
    """`(absolute path, whether it has a video stream)` of a file to predict at once;
    PredictionError when it cannot be opened, ClipTooLong when its container declares more
    than `limit` seconds (a file that declares no length is checked once decoded)."""
    location = Path(path).absolute()
    try:
        video = media.has_video(location)
        seconds = declared_seconds(location)
    except DataError as error:
        raise PredictionError(path, error.reason) from error
    if seconds is not None and seconds > limit:
        raise ClipTooLong(path, seconds, limit)
    return location, video


def check_decoded_length(path: str | Path, audio: np.ndarray | None, limit: float) -> None:
    """ClipTooLong when the decoded `audio` `(samples,)` lasts longer than `limit` seconds,
    PredictionError when it is shorter than SHORTEST_SAMPLES (None: no audio, nothing to
    check)."""
    if audio is None:
        return
    if len(audio) > limit * SAMPLE_RATE:
        raise ClipTooLong(path, len(audio) / SAMPLE_RATE, limit)
    if len(audio) < SHORTEST_SAMPLES:
        raise PredictionError(path, f"the audio lasts {len(audio) / SAMPLE_RATE:.3f} s, "
                              f"shorter than the {SHORTEST_SAMPLES / SAMPLE_RATE * 1000:g} ms the model "
                              "needs")


def missing_modalities(modalities: list[str], has_transcript: bool,
                       has_video: bool) -> dict[str, str]:
    """modality -> why it is not used, for a model using `modalities`."""
    missing = {name: NOT_USED for name in ("audio", "text", "visual") if name not in modalities}
    if not has_transcript and "text" in modalities:
        missing["text"] = NO_TRANSCRIPT
    if not has_video and "visual" in modalities:
        missing["visual"] = NO_VIDEO
    return missing


def prediction_result(path: str | Path, labels: list[str], probabilities: list[float],
                      used: list[str], missing: dict[str, str], transcript: str | None,
                      source: str | None, gates: list[float | None],
                      timings: dict[str, float]) -> dict[str, Any]:
    """The JSON-ready dict of one prediction (see Predictor.predict for the keys)."""
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    return json_safe({
        "file": str(path),
        "label": labels[best],
        "probabilities": {name: round(value, PROBABILITY_DIGITS)
                          for name, value in zip(labels, probabilities)},
        "modalities": used,
        "missing": missing,
        "transcript": transcript or None,
        "transcript_source": source,
        "gates": gates,
        "gates_note": gate_note(used, len(gates)),
        "timings": {name: round(value, TIMING_DIGITS) for name, value in timings.items()},
    })


__all__ = ["ClipTooLong", "PredictionError", "check_decoded_length", "missing_modalities",
           "prediction_result", "probe_clip"]
