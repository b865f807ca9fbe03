"""Demo corpora generated once per test session (small, short clips, to stay fast)."""

from __future__ import annotations

import pytest

from wavfusion.data.synthetic import generate_corpus

SHORT_CLIPS = (1.0, 1.5)  # seconds; shorter than the default to keep the tests fast
EVIDENCE_PER_CLASS = 24  # large enough for simple classifiers to beat chance reliably


def small_corpus(folder, seed: int, per_class: int = 2):
    return generate_corpus(
        folder, per_class=per_class, seed=seed, seconds=SHORT_CLIPS, progress=False
    )


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """The manifest of a 96-clip corpus (24 per class, 8 speakers), seed 0."""
    folder = tmp_path_factory.mktemp("demo-corpus")
    return small_corpus(folder, seed=0, per_class=EVIDENCE_PER_CLASS)
