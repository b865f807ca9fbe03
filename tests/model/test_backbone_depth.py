"""The layer count of a backbone is read from its config, never by building it: the same
number the built backbone has, for every kind of source."""

from __future__ import annotations

import pytest
from transformers import Wav2Vec2Model
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from tests.features.tiny import save_tiny_wav2vec2
from wavfusion.model.backbones import FAMILIES, backbone_depth, backbone_family
from wavfusion.model.whisper_backbone import BUNDLED_NAME


def _built_depth(source: str) -> int:
    resolve, backbone_class = FAMILIES[backbone_family(source, None)]
    model, _ = resolve(source, False, None)
    return backbone_class.depth(model)


@pytest.mark.parametrize("layers", [2, 5])
def test_a_wav2vec2_folder_is_counted_from_its_config(tmp_path, layers, monkeypatch):
    source = str(save_tiny_wav2vec2(tmp_path / "w2v", layers=layers))
    built = _built_depth(source)
    backbone_depth.cache_clear()
    with monkeypatch.context() as patched:
        patched.setattr(Wav2Vec2Model, "__init__", _refuse)
        assert backbone_depth(source) == built == layers


@pytest.mark.parametrize("source", [BUNDLED_NAME, "embedded-small", "wav2vec2-base-random"])
def test_named_backbones_are_counted_from_their_config(source, monkeypatch):
    built = _built_depth(source)
    backbone_depth.cache_clear()
    with monkeypatch.context() as patched:
        patched.setattr(Wav2Vec2Model, "__init__", _refuse)
        patched.setattr(WhisperEncoder, "__init__", _refuse)
        assert backbone_depth(source) == built


def _refuse(self, *args, **kwargs):
    raise AssertionError("the backbone was built to count its layers")
