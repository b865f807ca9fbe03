"""wavfusion: multimodal speech emotion recognition (WavFusion, Li, Luo & Xia, MMM 2025).

`WavFusion` and `WavFusionConfig` are imported on first use, so that commands which never
touch the model (e.g. `wavfusion data check`) start without loading torch and transformers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
