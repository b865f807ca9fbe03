"""The frozen text (Eq 5) and image (Eq 1) encoders, tiny and real."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from tests.features.tiny import IMAGE_PLUGIN
from wavfusion.backbones import image as image_module
from wavfusion.backbones import text as text_module
from wavfusion.backbones.image import ImageFeatureEncoder
from wavfusion.backbones.text import TextFeatureEncoder, bundled_text_folder
from wavfusion.data.manifest import read_manifest, write_manifest
from wavfusion.features import settings as settings_module
from wavfusion.features.audio import audio_config
from wavfusion.features.cache import FeatureCache
from wavfusion.features.extract import FrozenEncoders
from wavfusion.features.settings import ExtractionOptions


def test_cache_defaults_are_the_encoders_defaults():
    assert settings_module.DEFAULT_TEXT_ENCODER == text_module.BUNDLED_TEXT_ENCODER
    assert settings_module.DEFAULT_MAX_TEXT_TOKENS == text_module.DEFAULT_MAX_TEXT_TOKENS
    assert settings_module.DEFAULT_IMAGE_ENCODER == image_module.BUNDLED_IMAGE_ENCODER


def test_text_features_keep_special_tokens_and_truncate(tiny_text):
    encoder = TextFeatureEncoder(str(tiny_text), max_tokens=6)
    short, long = encoder.encode(["hello there", "one two three four five six seven"])
    tokens = encoder.tokenizer("hello there")["input_ids"]
    assert tokens[0] == encoder.tokenizer.cls_token_id and tokens[-1] == encoder.tokenizer.sep_token_id
    assert short.shape == (len(tokens), encoder.dim) and long.shape == (6, encoder.dim)
    alone = encoder.encode(["hello there"])[0]  # no padding in its batch
    np.testing.assert_allclose(short, alone, atol=1e-5)


def test_text_encoder_refuses_too_many_tokens(tiny_text):
    with pytest.raises(ValueError, match="max_tokens must be between 2 and the model's 64"):
        TextFeatureEncoder(str(tiny_text), max_tokens=65)


def test_image_preprocessing_resizes_and_normalises_with_imagenet_statistics():
    encoder = ImageFeatureEncoder(IMAGE_PLUGIN)
    mean = np.round(np.array(image_module.IMAGENET_MEAN) * 255).astype(np.uint8)
    frames = np.broadcast_to(mean, (2, 50, 70, 3)).copy()
    images = encoder.preprocess(frames)
    assert images.shape == (2, 3, encoder.input_size, encoder.input_size)
    assert images.abs().max() < 0.02  # the mean colour maps to ~0
    features = encoder.encode(frames)
    assert features.shape == (2, encoder.dim) and features.dtype == np.float32


def test_bundled_image_encoder_runs_channels_last_with_the_same_features():
    encoder = ImageFeatureEncoder()  # the bundled EfficientNet-Lite0
    frames = np.random.default_rng(0).integers(0, 256, (3, 224, 224, 3), dtype=np.uint8)
    images = encoder.preprocess(frames)
    assert images.is_contiguous(memory_format=torch.channels_last)
    features = encoder.encode(frames)
    with torch.no_grad():
        plain = encoder.model.to(memory_format=torch.contiguous_format)(images.contiguous())
    assert not images.contiguous().is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(features, plain.numpy(), rtol=0, atol=1e-4)


def test_real_minilm_and_efficientnet_lite0_on_two_clips(tmp_path, corpus, tiny_backbone,
                                                         extract):
    """The bundled encoders end to end: 384-d tokens equal to a direct AutoModel run, 1280-d
    EfficientNet-Lite0 frames."""
    rows = [row for row in read_manifest(corpus).rows if row.video][:2]
    assert len(rows) == 2 and all(row.text for row in rows)
    for row in rows:
        row.audio, row.video = str(corpus.parent / row.audio), str(corpus.parent / row.video)
    manifest = write_manifest(tmp_path / "two.csv", rows)
    options = ExtractionOptions(frames_per_clip=2)  # bundled MiniLM and EfficientNet-Lite0
    encoders = FrozenEncoders.load(audio_config(str(tiny_backbone), shallow_layers=1), options)
    assert (encoders.settings.text_dim, encoders.settings.visual_dim) == (384, 1280)
    assert encoders.settings.image_size == 224
    extract(tmp_path / "cache", manifest=manifest, encoders=encoders)
    cache = FeatureCache.open(tmp_path / "cache", expected=encoders.settings)
    assert cache.ids == [row.id for row in rows]

    folder = bundled_text_folder()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModel.from_pretrained(folder, local_files_only=True).eval()
    for row in rows:
        features = cache.get(row.id)
        with torch.no_grad():
            expected = model(**tokenizer(row.text, return_tensors="pt")).last_hidden_state[0]
        np.testing.assert_allclose(np.asarray(features.text, np.float32), expected.numpy(),
                                   rtol=2e-3, atol=2e-3)
        visual = np.asarray(features.visual, np.float32)
        assert visual.shape == (2, 1280) and np.isfinite(visual).all()
        assert visual.min() >= 0 and visual.max() <= 6  # pooled ReLU6 activations
