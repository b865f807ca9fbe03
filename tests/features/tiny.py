"""Tiny models and a tiny corpus for the feature tests (generated at test time, never stored).

- a random wav2vec2 with a layer-norm feature encoder, saved with save_pretrained (a folder
  counts as pretrained, so its prefix is frozen and its features are stored);
- a random 2-layer BERT with the bundled MiniLM tokenizer, saved the same way;
- `tiny_image_encoder`, an image encoder plug-in (`tests.features.tiny:tiny_image_encoder`);
  with $WAVFUSION_TEST_IMAGE_DELAY set it sleeps that many seconds per call (to make a
  subprocess slow enough to be killed mid-run);
- 12 manifest rows: WAV clips of 0.4-1.5 s, transcripts on most, 4 with an MP4 face video,
  one silent clip (a bad row).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import AutoTokenizer, BertConfig, BertModel, Wav2Vec2Config, Wav2Vec2Model

from tests.data.clips import face_image, write_audio, write_video
from wavfusion.data.manifest import ManifestRow, write_manifest

RATE = 16_000
IMAGE_PLUGIN = "tests.features.tiny:tiny_image_encoder"
DELAY_VARIABLE = "WAVFUSION_TEST_IMAGE_DELAY"
VIDEO_ROWS = (1, 4, 7, 10)
NO_TEXT_ROWS = (3, 8)
SILENT_ROW = 5
TEXTS = ["kids are talking by the door", "dogs are sitting by the door", "hello there",
         "I can't believe you did that!", "fine", "what a lovely day it is today"]


def save_tiny_wav2vec2(folder: Path, layers: int = 3) -> Path:
    """A random wav2vec2 (layer-norm feature encoder, post-norm layers, width 32)."""
    torch.manual_seed(3)
    config = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=layers, num_attention_heads=4, intermediate_size=64,
        conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
        feat_extract_norm="layer", conv_bias=True, do_stable_layer_norm=False,
    )
    Wav2Vec2Model(config).save_pretrained(folder)
    return folder


def save_tiny_bert(folder: Path, tokenizer_folder: Path, seed: int = 4) -> Path:
    """A random 2-layer BERT (width 24) with the tokenizer found in `tokenizer_folder`."""
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder, local_files_only=True)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=24, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=48, max_position_embeddings=64)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


class TinyImageEncoder(nn.Module):
    """(n, 3, 32, 32) -> (n, 8, 8, 8) feature maps (pooled by the caller)."""

    input_size = 32

    def __init__(self) -> None:
        super().__init__()
        self.convolution = nn.Conv2d(3, 8, kernel_size=4, stride=4)
        generator = torch.Generator().manual_seed(5)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        delay = float(os.environ.get(DELAY_VARIABLE, "0"))
        if delay:
            time.sleep(delay)
        return torch.relu(self.convolution(images))


def tiny_image_encoder() -> nn.Module:
    return TinyImageEncoder()


def make_corpus(folder: Path, rows: int = 12) -> Path:
    """WAV clips (and MP4 videos) + manifest.csv in `folder`; returns the manifest path."""
    folder.mkdir(parents=True, exist_ok=True)
    generator = np.random.default_rng(6)
    manifest_rows = []
    for index in range(rows):
        seconds = 0.4 + 1.1 * ((index * 7) % rows) / rows
        samples = round(seconds * RATE)
        wave = 0.3 * np.sin(2 * np.pi * (180 + 40 * index) * np.arange(samples) / RATE)
        wave = wave + 0.05 * generator.standard_normal(samples)
        if index == SILENT_ROW:
            wave = np.zeros(samples)
        audio = write_audio(folder / f"clip{index:02d}.wav", wave[None].astype(np.float32), RATE)
        video = ""
        if index in VIDEO_ROWS:
            frames = [face_image(centre=(150 + 4 * k, 120)) for k in range(6)]
            video = write_video(folder / f"clip{index:02d}.mp4", frames, fps=6).name
        text = "" if index in NO_TEXT_ROWS else TEXTS[index % len(TEXTS)]
        manifest_rows.append(ManifestRow(id=f"u{index:02d}", audio=audio.name, video=video,
                                         text=text, label="neutral"))
    return write_manifest(folder / "manifest.csv", manifest_rows)
