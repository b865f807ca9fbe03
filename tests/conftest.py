"""Shared test fixtures. `shared_data`: the real recordings in ../shared/data (see its README)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real-data folder ($WAVFUSION_DATA, default ../shared/data from the
    repo root). Skips the test when it is absent, except in CI (CI=true), where it fails."""
    folder = Path(os.environ.get("WAVFUSION_DATA", DEFAULT_SHARED_DATA)).resolve()
    if not folder.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data folder {folder} is missing, and CI=true requires it")
        pytest.skip(f"shared data folder {folder} not found (set WAVFUSION_DATA)")
    return folder
