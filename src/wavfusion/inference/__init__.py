"""Prediction on new clips with a trained RUN: `Predictor` (Python) and `wavfusion predict`.

    from wavfusion.inference import Predictor
    predictor = Predictor.from_run("runs/ravdess")
    result = predictor.predict("clip.wav", transcript=None)   # a JSON-ready dict
"""

from wavfusion.inference.predictor import PredictionError, Predictor

__all__ = ["PredictionError", "Predictor"]
