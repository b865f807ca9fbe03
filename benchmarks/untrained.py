"""An untrained WavFusion on the embedded defaults, saved as a RUN folder: what the latency
and load benchmarks load (weights do not change the cost)."""

from __future__ import annotations

from pathlib import Path


def untrained_run(folder: Path) -> Path:
    """`folder`/run: config.json + model.safetensors of a seeded default model."""
    import torch

    from wavfusion import WavFusion, WavFusionConfig
    from wavfusion.data.synthetic.profiles import DEMO_LABELS

    torch.manual_seed(0)
    WavFusion(WavFusionConfig(labels=list(DEMO_LABELS), num_classes=len(DEMO_LABELS))
              ).save_pretrained(folder / "run")
    return folder / "run"
