"""Prediction on new clips with a trained RUN: `Predictor` (Python) and `wavfusion predict`.

    from wavfusion.inference import Predictor
    predictor = Predictor.from_run("runs/ravdess")
    result = predictor.predict("clip.wav", transcript=None)   # a JSON-ready dict

`Predictor` is imported on first use (it loads torch), so that the command line builds its
parser without it; `ClipTooLong` and `PredictionError` come from the torch-free clip.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wavfusion.inference.clip import ClipTooLong, PredictionError
    from wavfusion.inference.predictor import Predictor


def __getattr__(name: str):
    if name == "Predictor":
        from wavfusion.inference.predictor import Predictor

        return Predictor
    if name in __all__:
        from wavfusion.inference import clip

        return getattr(clip, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ClipTooLong", "PredictionError", "Predictor"]
