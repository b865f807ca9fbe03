"""Manifest rows + feature cache -> Examples (padded into batches by `wavfusion.batching`).

Audio comes from the cache (the frozen shallow prefix, Eq 7) when the cache holds it, or is
decoded raw every time (a trainable backbone, or the naive path a benchmark compares with).
Text and visual features always come from the cache: their extractors are frozen.
"""

from __future__ import annotations

from torch.utils.data import Dataset

from wavfusion.batching import Example
from wavfusion.data.datasets.labels import EMOTIONS
from wavfusion.data.manifest import Manifest, ManifestRow


def label_names(rows: list[ManifestRow]) -> list[str]:
    """The classes of a manifest, in the shared emotion order (unknown names after, sorted)."""
    present = {row.label for row in rows if row.label}
    known = [name for name in EMOTIONS if name in present]
    return known + sorted(present - set(known))


class EmotionDataset(Dataset):
    """One Example per manifest row. `label_index`: name -> class id (-1 for unlabelled)."""

    def __init__(
        self,
        manifest: Manifest,
        rows: list[ManifestRow],
        label_index: dict[str, int],
        cache,
        raw_audio: bool,
        max_seconds: float | None = None,
    ) -> None:
        self.manifest = manifest
        self.rows = rows
        self.label_index = label_index
        self.cache = cache
        self.raw_audio = raw_audio
        self.max_seconds = max_seconds

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> Example:
        row = self.rows[index]
        cached = self.cache.get(row.id) if self.cache is not None else None
        audio = features = None
        if self.raw_audio:
            audio = self.manifest.load_audio(row, max_seconds=self.max_seconds)
        elif cached is not None:
            features = cached.audio
        return Example(
            id=row.id,
            label=self.label_index.get(row.label, -1),
            audio=audio,
            audio_features=features,
            text=None if cached is None else cached.text,
            visual=None if cached is None else cached.visual,
        )
