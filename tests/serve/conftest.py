"""The tiny trained RUN and sample clips of the predict tests, reused here."""

from tests.inference.conftest import predictor, sample_rows, tiny_run  # noqa: F401
