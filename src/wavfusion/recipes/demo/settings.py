"""What `wavfusion demo` runs: one dataclass, its defaults sized for a few minutes on a laptop.

The defaults follow the costs: extracting the features is the largest fixed cost (mostly
EfficientNet-Lite0 on the face crops), a training run with one fusion layer is cheap, so the
demo trains the 3/1 split of the bundled Whisper tiny.en (one deep fusion layer), compares it
with the concat baseline and each single modality over `seeds` seeds, and runs the paper's
Tables 3-6 once (`ablation_seeds`).

Torch runs on one CPU thread by default: these models are small, and on a machine shared with
other jobs a second thread per process costs more than it gains.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wavfusion.config import WavFusionConfig

ABLATION_TABLES = (3, 4, 5, 6)


@dataclass
class DemoSettings:
    """Every choice of a demo run; `report.json` records all of them."""

    out: Path = Path("demo-run")
    # corpus (wavfusion.data.synthetic.generate_corpus)
    per_class: int = 40
    corpus_seed: int = 0
    seconds: tuple[float, float] = (1.0, 2.0)  # shorter than the corpus default: cheaper runs
    speakers: int = 8
    # training (every run)
    epochs: int = 6
    patience: int = 3
    batch_size: int = 16
    learning_rate: float = 2e-4
    deep_layers: int = 1  # of Whisper tiny.en's 4 layers: the 3/1 split
    # how many runs
    seeds: int = 3  # the comparison (full vs concat vs single modalities)
    ablation_seeds: int = 1
    tables: tuple[int, ...] = ABLATION_TABLES  # () skips the ablations
    threads: int = 1  # torch CPU threads: see the module docs
    progress: bool = True
    model: WavFusionConfig = field(default_factory=WavFusionConfig)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        unknown = sorted(set(self.tables) - set(ABLATION_TABLES))
        if unknown:
            raise ValueError(f"no ablation table {unknown}; choose from {ABLATION_TABLES}")
        for name in ("per_class", "epochs", "seeds", "ablation_seeds", "batch_size", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        self.model = dataclasses.replace(self.model, deep_layers=self.deep_layers)

    @classmethod
    def quick(cls, **changes: Any) -> DemoSettings:
        """A smaller run to try the pipeline: fewer clips, one seed, Tables 3 and 6 only.
        Numbers from it say little."""
        values: dict[str, Any] = {"per_class": 16, "epochs": 4, "seeds": 1, "tables": (3, 6)}
        return cls(**{**values, **changes})

    @property
    def corpus_folder(self) -> Path:
        return self.out / "corpus"

    @property
    def cache_folder(self) -> Path:
        return self.out / "cache"

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["out"] = str(self.out)
        return values
