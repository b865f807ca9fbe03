"""Fixtures for the data tests: generated release trees (built once per session)."""

from __future__ import annotations

import pytest

from tests.data.releases import make_iemocap, make_meld


@pytest.fixture(scope="session")
def iemocap_release(tmp_path_factory):
    return make_iemocap(tmp_path_factory.mktemp("iemocap"))


@pytest.fixture(scope="session")
def meld_release(tmp_path_factory):
    return make_meld(tmp_path_factory.mktemp("meld"))


@pytest.fixture(scope="session")
def ravdess_speech(shared_data):
    return shared_data / "ravdess-speech-16k"
