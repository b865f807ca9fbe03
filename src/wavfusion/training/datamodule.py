"""LightningDataModule: the train / val / test DataLoaders of a manifest + feature cache."""

from __future__ import annotations

import lightning as L
from torch.utils.data import DataLoader

from wavfusion.batching import collate
from wavfusion.data.manifest import Manifest, ManifestRow
from wavfusion.training.dataset import EmotionDataset

SPLITS = ("train", "val", "test")


class EmotionDataModule(L.LightningDataModule):
    def __init__(
        self,
        manifest: Manifest,
        rows: list[ManifestRow],
        labels: list[str],
        cache,
        raw_audio: bool,
        batch_size: int = 16,
        num_workers: int = 0,
        max_seconds: float | None = None,
    ) -> None:
        super().__init__()
        index = {name: position for position, name in enumerate(labels)}
        self.datasets = {
            split: EmotionDataset(manifest, [r for r in rows if r.split == split], index, cache,
                                  raw_audio, max_seconds)
            for split in SPLITS
        }
        self.batch_size = batch_size
        self.num_workers = num_workers

    def loader(self, split: str, shuffle: bool = False) -> DataLoader:
        return DataLoader(
            self.datasets[split], batch_size=self.batch_size, shuffle=shuffle,
            num_workers=self.num_workers, collate_fn=collate,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self.loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self.loader("val")

    def test_dataloader(self) -> DataLoader:
        return self.loader("test")
