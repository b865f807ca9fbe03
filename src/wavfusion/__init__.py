"""wavfusion: multimodal speech emotion recognition (WavFusion, Li, Luo & Xia, MMM 2025)."""

from wavfusion.config import WavFusionConfig
from wavfusion.model.wavfusion import WavFusion, WavFusionOutput

__all__ = ["WavFusion", "WavFusionConfig", "WavFusionOutput"]
__version__ = "0.1.0"
