"""The optional safetensors cache of converted CTranslate2 Whisper encoders."""

from __future__ import annotations

import os

import pytest
import torch

from wavfusion.backbones import conversion_cache, load_whisper_encoder, whisper_encoder
from wavfusion.backbones.errors import BackboneFormatError


@pytest.fixture()
def conversions(monkeypatch):
    """Counts calls of the real converter made by the loader."""
    calls = []
    convert = whisper_encoder.convert_ctranslate2_whisper_encoder

    def counting(path):
        calls.append(path)
        return convert(path)

    monkeypatch.setattr(whisper_encoder, "convert_ctranslate2_whisper_encoder", counting)
    return calls


def entries(cache_dir):
    return sorted(path.relative_to(cache_dir).as_posix() for path in cache_dir.rglob("*"))


def test_second_load_reads_the_cache_instead_of_converting(tmp_path, tiny_ct2_folder, conversions):
    cache_dir = tmp_path / "cache"
    first, _ = load_whisper_encoder(tiny_ct2_folder, cache=True, cache_dir=cache_dir)
    assert len(conversions) == 1
    (entry,) = cache_dir.iterdir()
    assert entry.name.startswith("tiny-ct2-")
    assert entries(cache_dir) == [entry.name, f"{entry.name}/config.json",
                                  f"{entry.name}/model.safetensors"]  # no temporary left
    second, _ = load_whisper_encoder(tiny_ct2_folder, cache=True, cache_dir=cache_dir)
    assert len(conversions) == 1
    for key, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[key]), key
    assert second.config.encoder_layers == first.config.encoder_layers


def test_without_cache_nothing_is_written(tmp_path, tiny_ct2_folder, conversions, monkeypatch):
    monkeypatch.setenv("WAVFUSION_CACHE", str(tmp_path / "env-cache"))
    load_whisper_encoder(tiny_ct2_folder)
    load_whisper_encoder(tiny_ct2_folder)
    assert len(conversions) == 2 and not (tmp_path / "env-cache").exists()


def test_env_var_moves_the_default_cache(tmp_path, tiny_ct2_folder, monkeypatch):
    monkeypatch.setenv("WAVFUSION_CACHE", str(tmp_path / "env-cache"))
    assert conversion_cache.default_cache_dir() == tmp_path / "env-cache" / "backbones"
    load_whisper_encoder(tiny_ct2_folder, cache=True)
    assert len(list((tmp_path / "env-cache" / "backbones").glob("tiny-ct2-*/config.json"))) == 1


def test_a_changed_model_bin_gets_a_new_entry(tmp_path, tiny_ct2_folder, conversions):
    cache_dir = tmp_path / "cache"
    load_whisper_encoder(tiny_ct2_folder, cache=True, cache_dir=cache_dir)
    stat = (tiny_ct2_folder / "model.bin").stat()
    os.utime(tiny_ct2_folder / "model.bin", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    load_whisper_encoder(tiny_ct2_folder, cache=True, cache_dir=cache_dir)
    assert len(conversions) == 2 and len(list(cache_dir.iterdir())) == 2


def test_an_interrupted_write_leaves_no_entry(tmp_path, tiny_ct2_folder, conversions, monkeypatch):
    cache_dir = tmp_path / "cache"

    def crash(tensors, filename):
        with open(filename, "wb") as stream:
            stream.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(conversion_cache, "save_file", crash)
    with pytest.raises(KeyboardInterrupt):
        load_whisper_encoder(tiny_ct2_folder, cache=True, cache_dir=cache_dir)
    (entry,) = cache_dir.iterdir()
    assert list(entry.iterdir()) == []  # neither the weights nor a temporary
    monkeypatch.undo()
    load_whisper_encoder(tiny_ct2_folder, cache=True, cache_dir=cache_dir)
    assert (entry / "config.json").is_file()


def test_a_damaged_entry_is_named(tmp_path, tiny_ct2_folder):
    cache_dir = tmp_path / "cache"
    load_whisper_encoder(tiny_ct2_folder, cache=True, cache_dir=cache_dir)
    (weights,) = cache_dir.glob("*/model.safetensors")
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(BackboneFormatError, match="unreadable cache entry") as error:
        load_whisper_encoder(tiny_ct2_folder, cache=True, cache_dir=cache_dir)
    assert error.value.path == weights
