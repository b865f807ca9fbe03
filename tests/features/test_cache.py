"""The cache's reader contract: memory-mapped reads, keyed settings, stale and torn caches."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from tests.features.conftest import folder_digest
from tests.features.tiny import save_tiny_bert
from wavfusion.backbones.text import bundled_text_folder
from wavfusion.features.audio import audio_config
from wavfusion.features.cache import (
    CacheSettings,
    CorruptCacheError,
    FeatureCache,
    StaleCacheError,
    settings_for,
)
from wavfusion.features.store import PARTS_FOLDER


@pytest.fixture
def reference(reference_cache):
    return reference_cache


def copy_of(reference, tmp_path):
    target = tmp_path / "cache"
    shutil.copytree(reference, target)
    return target


def test_reads_are_memory_mapped_read_only_float16(reference):
    cache = FeatureCache.open(reference)
    features = cache.get("u01")  # a row with transcript and video
    for array in (features.audio, features.text, features.visual):
        assert isinstance(array, np.memmap) and array.dtype == np.float16
        assert not array.flags.writeable
    assert features.text.shape[1] == cache.settings.text_dim
    assert features.visual.shape == (cache.settings.frames_per_clip, cache.settings.visual_dim)
    assert features.audio.shape[1] == cache.settings.audio_width


def test_absent_modalities_and_rows(reference):
    cache = FeatureCache.open(reference)
    assert cache.get("u03").text is None  # empty transcript
    assert cache.get("u00").visual is None  # no video
    assert "u05" not in cache and len(cache.ids) == 11  # the silent clip was skipped
    assert [p.item for p in cache.problems] == ["u05"]
    with pytest.raises(KeyError, match="'u05' is not in the feature cache"):
        cache.get("u05")


def test_a_folder_without_cache_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a wavfusion feature cache"):
        FeatureCache.open(tmp_path)


def test_settings_round_trip_and_stable_key(tiny_encoders):
    settings = tiny_encoders.settings
    again = CacheSettings.from_dict(json.loads(json.dumps(settings.to_dict())))
    assert again == settings and again.key() == settings.key()
    renamed = dataclasses.replace(settings, text_encoder="/elsewhere/same-model")
    assert renamed.key() == settings.key()  # names are descriptive; fingerprints identify
    assert dataclasses.replace(settings, max_text_tokens=17).key() != settings.key()


def test_settings_for_a_training_config_matches_the_extraction(tiny_encoders, tiny_options):
    config = audio_config(tiny_encoders.audio.config.audio_backbone, shallow_layers=1)
    config.modalities = ["audio", "text"]  # a modality subset shares the cache
    assert settings_for(config, tiny_options) == tiny_encoders.settings


def test_stale_cache_refused_for_other_shallow_layers(reference, tiny_encoders, tiny_options):
    config = audio_config(tiny_encoders.audio.config.audio_backbone, shallow_layers=2)
    expected = settings_for(config, tiny_options)
    with pytest.raises(StaleCacheError) as raised:
        FeatureCache.open(reference, expected=expected)
    message = str(raised.value)
    assert str(reference) in message and "shallow_layers: cache 1, expected 2" in message


def test_stale_cache_refused_for_another_text_encoder(
    reference, tiny_encoders, tiny_options, tmp_path, extract
):
    other = save_tiny_bert(tmp_path / "other-bert", bundled_text_folder(), seed=9)
    options = dataclasses.replace(tiny_options, text_encoder=str(other))
    expected = settings_for(audio_config(tiny_encoders.audio.config.audio_backbone,
                                         shallow_layers=1), options)
    with pytest.raises(StaleCacheError, match="text_fingerprint: cache .* expected .*other-bert"):
        FeatureCache.open(reference, expected=expected)
    FeatureCache.open(reference, expected=tiny_encoders.settings)  # the right one opens


def test_extract_refuses_to_mix_settings(reference, tmp_path, tiny_encoders, tiny_options,
                                         extract):
    from wavfusion.features.extract import FrozenEncoders

    target = copy_of(reference, tmp_path)
    config = audio_config(tiny_encoders.audio.config.audio_backbone, shallow_layers=2)
    with pytest.raises(StaleCacheError, match="shallow_layers"):
        extract(target, encoders=FrozenEncoders.load(config, tiny_options))


def test_truncated_data_file_is_refused_then_repaired(reference, tmp_path, extract):
    target = copy_of(reference, tmp_path)
    data = sorted((target / PARTS_FOLDER).glob("*.audio.bin"))[1]
    data.write_bytes(data.read_bytes()[:-100])
    with pytest.raises(CorruptCacheError, match=rf"{data.name}: .* bytes, its part index says"):
        FeatureCache.open(target)
    report = extract(target)
    assert len(report.repaired) == 1 and data.name in report.repaired[0]
    assert folder_digest(target) == folder_digest(reference)


def test_modified_bytes_fail_the_checksum_then_repaired(reference, tmp_path, extract):
    target = copy_of(reference, tmp_path)
    data = min((target / PARTS_FOLDER).glob("*.text.bin"))
    content = bytearray(data.read_bytes())
    content[10] ^= 0xFF
    data.write_bytes(bytes(content))
    cache = FeatureCache.open(target)  # sizes still match: caught when read
    with pytest.raises(CorruptCacheError, match="text checksum mismatch"):
        for utterance_id in cache.ids:
            cache.get(utterance_id)
    extract(target)
    assert folder_digest(target) == folder_digest(reference)


def test_leftovers_of_a_killed_writer_are_ignored_then_removed(reference, tmp_path, extract):
    target = copy_of(reference, tmp_path)
    parts = target / PARTS_FOLDER
    index = max(parts.glob("p*.json"))
    index.unlink()  # the part's data files were renamed into place, its index was not
    (parts / f".{index.name}.1234.tmp").write_bytes(b'{"part": ')
    cache = FeatureCache.open(target)
    assert len(cache.ids) == 11 - 4  # the last part's 4 rows are not there
    report = extract(target)
    assert report.parts_written == 1 and report.parts_reused == 2
    assert folder_digest(target) == folder_digest(reference)
