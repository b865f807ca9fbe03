"""Prediction needs nothing of the `train` extra: importing it loads no Lightning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def test_importing_inference_loads_no_lightning():
    code = ("import json, sys, wavfusion.inference, wavfusion.batching; "
            "print(json.dumps(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('lightning', 'pytorch_lightning', 'wavfusion'))))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True, timeout=120)
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert "wavfusion.inference" in modules
    assert not [m for m in modules if m.split(".")[0] in ("lightning", "pytorch_lightning")]
    assert not [m for m in modules if m.startswith("wavfusion.training")]
