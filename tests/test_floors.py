"""constraints-min.txt (what `make test-min` installs) is pyproject.toml's floors, as
tools/min_constraints.py writes them: a floor raised in one is raised in the other."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("min_constraints",
                                                  ROOT / "tools" / "min_constraints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_constraints_min_is_generated_from_the_floors():
    pytest.importorskip("tomllib")
    generator = _generator()
    written = (ROOT / "constraints-min.txt").read_text(encoding="utf-8")
    assert written == generator.constraints(ROOT / "pyproject.toml"), (
        "constraints-min.txt is stale: run `make constraints-min`")
    pinned = dict(generator.floors(ROOT / "pyproject.toml"))
    assert "torch" not in pinned  # constraints-cpu.txt's CPU build
    assert {"transformers", "lightning", "safetensors", "jsonargparse", "pyyaml",
            "onnxruntime", "faster-whisper", "fastapi"} <= set(pinned)
