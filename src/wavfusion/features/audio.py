"""Eq 7 over many clips: the frozen shallow prefix, run in length-bucketed batches.

`build_audio_prefix` builds an audio-only WavFusion, whose `audio_prefix` is the one Eq 7 the
model itself runs (so a cache never drifts from the model). `AudioPrefix.features` sorts clips
by length and pads each batch only to its longest clip. Whisper and layer-norm wav2vec2
prefixes give a clip the same features whatever its batch (padding is masked); wav2vec2-base's
group-norm feature encoder normalises over the padded input, so for it every clip runs alone.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from wavfusion.config import WavFusionConfig
from wavfusion.features.plan import DEFAULT_BATCH_SIZE
from wavfusion.model.backbones import backbone_depth
from wavfusion.model.wavfusion import WavFusion


def audio_config(
    audio_backbone: str,
    *,
    shallow_layers: int | None = None,
    deep_layers: int | None = None,
    freeze_shallow: bool | None = None,
    normalize_audio: bool = True,
) -> WavFusionConfig:
    """An audio-only WavFusionConfig for the prefix split given by `shallow_layers` or
    `deep_layers` (at most one; neither: the config's default, a quarter of the layers deep)."""
    if shallow_layers is not None and deep_layers is not None:
        raise ValueError("give shallow_layers or deep_layers, not both")
    values = {"audio_backbone": audio_backbone, "modalities": ["audio"],
                  "freeze_shallow": freeze_shallow, "normalize_audio": normalize_audio}
    if deep_layers is not None:
        values["deep_layers"] = deep_layers
    if shallow_layers is not None:
        depth = backbone_depth(audio_backbone)
        if not 0 <= shallow_layers <= depth:
            raise ValueError(f"shallow_layers {shallow_layers}: {audio_backbone!r} has {depth} "
                             "layers")
        values["shallow_layers"] = shallow_layers
        values["deep_layers"] = depth - shallow_layers
    return WavFusionConfig(**values)


def prefix_model(config: WavFusionConfig) -> WavFusion:
    """An audio-only WavFusion with `config`'s backbone and split, in eval mode."""
    audio_only = copy.deepcopy(config)
    audio_only.modalities = ["audio"]
    return WavFusion(audio_only).eval()


def length_buckets(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length: sorted by (length, index), then cut
    every `batch_size`. Deterministic, so a batch's composition never depends on a run."""
    order = sorted(range(len(lengths)), key=lambda index: (lengths[index], index))
    return [order[begin : begin + batch_size] for begin in range(0, len(order), batch_size)]


def pad_batch(waves: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Clips `(samples_i,)` -> zero-padded `(batch, samples)` float32 and its bool mask."""
    longest = max(len(wave) for wave in waves)
    audio = torch.zeros(len(waves), longest)
    mask = torch.zeros(len(waves), longest, dtype=torch.bool)
    for row, wave in enumerate(waves):
        audio[row, : len(wave)] = torch.from_numpy(wave)
        mask[row, : len(wave)] = True
    return audio, mask


@dataclass
class AudioPrefix:
    """The frozen prefix of a WavFusion, ready to extract. `stored` is False when the prefix
    trains (no pretrained weights, or freeze_shallow=False): its output is then not a
    fixed feature and the cache holds no audio."""

    model: WavFusion
    device: torch.device

    @classmethod
    def build(cls, config: WavFusionConfig, device: str | torch.device = "cpu") -> AudioPrefix:
        device = torch.device(device)
        return cls(prefix_model(config).to(device), device)

    @property
    def config(self) -> WavFusionConfig:
        return self.model.config  # shallow_layers, freeze_shallow resolved at construction

    @property
    def stored(self) -> bool:
        return bool(self.config.freeze_shallow)

    @property
    def width(self) -> int:
        return self.model.backbone.width

    @property
    def padding_sensitive(self) -> bool:
        """wav2vec2-base's group norm over time: a clip's features depend on its padding."""
        hf_config = self.model.backbone.hf_config
        return getattr(hf_config, "feat_extract_norm", None) == "group"

    @torch.no_grad()
    def features(
        self, waves: Sequence[np.ndarray], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> list[np.ndarray]:
        """Eq 7 for each clip `(samples_i,)` 16 kHz: `(frames_i, width)` float16, in input
        order. Length-bucketed batches of `batch_size` (1 when padding_sensitive)."""
        batch_size = 1 if self.padding_sensitive else batch_size
        outputs: list[np.ndarray | None] = [None] * len(waves)
        for batch in length_buckets([len(wave) for wave in waves], batch_size):
            audio, mask = pad_batch([waves[index] for index in batch])
            hidden, frame_mask = self.model.audio_prefix(audio.to(self.device),
                                                         mask.to(self.device))
            hidden = hidden.to(torch.float16).cpu().numpy()
            counts = frame_mask.sum(dim=1).cpu().tolist()
            for row, index in enumerate(batch):
                outputs[index] = np.ascontiguousarray(hidden[row, : counts[row]])
        return outputs


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "AudioPrefix",
    "audio_config",
    "backbone_depth",
    "length_buckets",
    "pad_batch",
    "prefix_model",
]
