"""Prediction on new clips with a trained RUN: `Predictor` (Python) and `wavfusion predict`.

    from wavfusion.inference import Predictor
    predictor = Predictor.from_run("runs/ravdess")
    result = predictor.predict("clip.wav", transcript=None)   # a JSON-ready dict

`Predictor` is imported on first use (it loads torch), so that the command line builds its
parser without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wavfusion.inference.predictor import ClipTooLong, PredictionError, Predictor


def __getattr__(name: str):
    if name in __all__:
        from wavfusion.inference import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ClipTooLong", "PredictionError", "Predictor"]
