"""wavfusion: multimodal speech emotion recognition (WavFusion, Li, Luo & Xia, MMM 2025).

`WavFusion` and `WavFusionConfig` are imported on first use, so that commands which never
touch the model (e.g. `wavfusion data check`) start without loading torch and transformers.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

# torch's OpenMP threads sleep while they wait instead of spinning (libgomp reads this once,
# when torch loads, so it is set before anything imports torch). On cores shared with other
# jobs, spinning threads burned about 3x the CPU time for the same work: the timeline of a
# 5-min recording took 17 s with 2 spinning threads, 5 s with 2 sleeping ones. A value the
# user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
__all__ = ["WavFusion", "WavFusionConfig", "WavFusionOutput"]

if TYPE_CHECKING:
    from wavfusion.config import WavFusionConfig
    from wavfusion.model.wavfusion import WavFusion, WavFusionOutput


def __getattr__(name: str):
    if name == "WavFusionConfig":
        from wavfusion.config import WavFusionConfig

        return WavFusionConfig
    if name in ("WavFusion", "WavFusionOutput"):
        from wavfusion.model import wavfusion as module

        return getattr(module, name)
    raise AttributeError(f"module 'wavfusion' has no attribute {name!r}")
