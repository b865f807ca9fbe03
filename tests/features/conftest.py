"""Fixtures for the feature tests: tiny models and corpus (built once per session), an
`extract` helper running in-process with encoders loaded once."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import pytest
import torch

from tests.features.tiny import (
    IMAGE_PLUGIN,
    make_corpus,
    save_tiny_bert,
    save_tiny_wav2vec2,
)
from wavfusion.backbones.text import bundled_text_folder
from wavfusion.features.audio import audio_config
from wavfusion.features.extract import (
    ExtractionJob,
    ExtractionReport,
    FrozenEncoders,
    extract_features,
)
from wavfusion.features.settings import ExtractionOptions

FRAMES = 4  # frames per clip in the tests (the default 16 only costs time)
PART_SIZE = 4
# Float sums may round differently with another number of threads, and bit-identity is
# compared across processes (a killed `wavfusion extract` against this process), whose
# thread counts otherwise depend on the machine and on earlier tests: pin both.
EXTRACT_THREADS = 1


@contextlib.contextmanager
def torch_threads(count: int):
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory) -> Path:
    return save_tiny_wav2vec2(tmp_path_factory.mktemp("tiny-wav2vec2"))


@pytest.fixture(scope="session")
def tiny_text(tmp_path_factory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), bundled_text_folder())


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """The manifest of the tiny corpus."""
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def tiny_options(tiny_text) -> ExtractionOptions:
    return ExtractionOptions(text_encoder=str(tiny_text), max_text_tokens=16,
                             image_encoder=IMAGE_PLUGIN, frames_per_clip=FRAMES)


@pytest.fixture(scope="session")
def tiny_encoders(tiny_backbone, tiny_options) -> FrozenEncoders:
    """Encoders for a 1-shallow / 2-deep split of the tiny backbone, loaded once."""
    return FrozenEncoders.load(audio_config(str(tiny_backbone), shallow_layers=1), tiny_options)


@pytest.fixture(scope="session")
def extract(corpus, tiny_encoders):
    """`extract(out, **job fields)` -> ExtractionReport, with the session's tiny encoders."""

    def run(out: Path, manifest: Path | None = None, encoders: FrozenEncoders | None = None,
            **fields) -> ExtractionReport:
        encoders = encoders or tiny_encoders
        fields = {"part_size": PART_SIZE, "progress": False, "workers": 2, **fields}
        job = ExtractionJob(manifest or corpus, out, encoders.audio.config,
                            encoders.options, **fields)
        with torch_threads(EXTRACT_THREADS):
            return extract_features(job, encoders)

    return run


@pytest.fixture(scope="session")
def reference_cache(tmp_path_factory, extract) -> Path:
    """The tiny corpus extracted once, uninterrupted, with the default batch size."""
    folder = tmp_path_factory.mktemp("reference") / "cache"
    extract(folder)
    return folder


def folder_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file below `folder`, by relative path."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }
