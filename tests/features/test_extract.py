"""What `extract` stores: Eq 7 as the model computes it, bucketing-independent, shardable,
bad rows reported, nothing stored for a trainable backbone; the command line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.features.conftest import folder_digest
from tests.features.tiny import IMAGE_PLUGIN, SILENT_ROW
from wavfusion.cli import main
from wavfusion.config import WavFusionConfig
from wavfusion.data.manifest import read_manifest, write_manifest
from wavfusion.features.audio import audio_config, length_buckets
from wavfusion.features.cache import FeatureCache
from wavfusion.features.cli import DEFAULT_AUDIO_BACKBONE
from wavfusion.features.extract import FrozenEncoders
from wavfusion.features.plan import Shard, resolve_shard

FP16 = {"rtol": 2e-3, "atol": 2e-3}  # float16 rounding of O(1) features


@pytest.fixture
def reference(reference_cache):
    return reference_cache


def as_float(array):
    return None if array is None else np.asarray(array, dtype=np.float32)


def test_cached_audio_equals_the_models_audio_prefix(reference, corpus, tiny_encoders):
    cache = FeatureCache.open(reference)
    manifest = read_manifest(corpus)
    model = tiny_encoders.audio.model
    for row in manifest.rows:
        if row.id not in cache:
            continue
        wave = torch.from_numpy(manifest.load_audio(row))[None]
        with torch.no_grad():
            expected, mask = model.audio_prefix(wave, torch.ones_like(wave, dtype=torch.bool))
        assert mask.all()
        np.testing.assert_allclose(as_float(cache.get(row.id).audio), expected[0].numpy(), **FP16)


def test_bucketed_and_one_by_one_extraction_agree(reference, tmp_path, extract):
    extract(tmp_path / "single", batch_size=1, workers=0)
    bucketed, single = FeatureCache.open(reference), FeatureCache.open(tmp_path / "single")
    assert bucketed.ids == single.ids
    for utterance_id in bucketed.ids:
        a, b = bucketed.get(utterance_id), single.get(utterance_id)
        for name in ("audio", "text", "visual"):
            left, right = as_float(getattr(a, name)), as_float(getattr(b, name))
            assert (left is None) == (right is None), (utterance_id, name)
            if left is not None:
                np.testing.assert_allclose(left, right, **FP16)


def test_shards_merge_to_the_same_cache(reference, tmp_path, extract):
    first = extract(tmp_path / "cache", shard=Shard(0, 2))
    second = extract(tmp_path / "cache", shard=Shard(1, 2))
    assert (first.parts_written, second.parts_written) == (2, 1)
    assert first.available + second.available == 11
    assert folder_digest(tmp_path / "cache") == folder_digest(reference)


def test_shard_comes_from_the_options_or_torchrun():
    assert resolve_shard(None, None, {"RANK": "2", "WORLD_SIZE": "4"}) == Shard(2, 4)
    assert resolve_shard(1, 3, {"RANK": "0", "WORLD_SIZE": "4"}) == Shard(1, 3)
    assert resolve_shard(None, None, {}) == Shard(0, 1)
    with pytest.raises(ValueError, match="shard index 3 is not in 0..2"):
        resolve_shard(3, 3, {})


def test_length_buckets_sort_by_length_then_index():
    assert length_buckets([5, 1, 3, 1, 9], 2) == [[1, 3], [2, 0], [4]]


def test_bad_rows_are_skipped_and_reported(reference, corpus):
    cache = FeatureCache.open(reference)
    assert [problem.item for problem in cache.problems] == [f"u{SILENT_ROW:02d}"]
    assert "silent" in cache.problems[0].reason


def test_trainable_backbone_stores_no_audio(tmp_path, extract, tiny_options):
    config = audio_config("embedded-small")  # random weights: the whole backbone trains
    encoders = FrozenEncoders.load(config, tiny_options)
    assert not encoders.settings.audio_stored and encoders.settings.shallow_layers is None
    report = extract(tmp_path / "cache", encoders=encoders)
    cache = FeatureCache.open(tmp_path / "cache", expected=encoders.settings)
    assert report.available == 11
    assert all(cache.get(i).audio is None for i in cache.ids)
    assert cache.get("u01").text is not None and cache.get("u01").visual is not None


def test_command_line_exit_code_is_1_only_when_nothing_was_extracted(
    tmp_path, corpus, tiny_backbone, tiny_text, capsys
):
    rows = read_manifest(corpus).rows
    arguments = ["extract", "--audio-backbone", str(tiny_backbone), "--shallow-layers", "1",
                 "--text-encoder", str(tiny_text), "--max-text-tokens", "16",
                 "--image-encoder", IMAGE_PLUGIN, "--frames", "4", "--no-progress"]
    cases = (([rows[SILENT_ROW]], 1), (rows[SILENT_ROW : SILENT_ROW + 2], 0))
    for rows_kept, expected_code in cases:
        for row in rows_kept:
            row.audio = str(corpus.parent / row.audio)
        manifest = write_manifest(tmp_path / f"m{expected_code}.csv", rows_kept)
        code = main([*arguments, "--manifest", str(manifest), "--out",
                     str(tmp_path / f"cache{expected_code}"), "--report",
                     str(tmp_path / "skipped.csv")])
        output = capsys.readouterr().out
        assert code == expected_code, output
        assert "skipped 1 row:" in output and "silent" in output
        assert ("nothing could be extracted" in output) == (expected_code == 1)
    assert "silent" in (tmp_path / "skipped.csv").read_text()


def test_command_line_reports_a_stale_cache(reference, corpus, tiny_backbone, tiny_text, capsys):
    code = main(["extract", "--manifest", str(corpus), "--out", str(reference),
                 "--audio-backbone", str(tiny_backbone), "--shallow-layers", "2",
                 "--text-encoder", str(tiny_text), "--max-text-tokens", "16",
                 "--image-encoder", IMAGE_PLUGIN, "--frames", "4", "--no-progress"])
    assert code == 1
    assert "shallow_layers: cache 1, expected 2" in capsys.readouterr().out


def test_help_explains_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    text = capsys.readouterr().out
    for option in ("--shallow-layers", "--deep-layers", "--shard-index", "--num-shards",
                   "RANK/WORLD_SIZE", "NOT stored", "--workers", "--batch-size"):
        assert option in text
    assert DEFAULT_AUDIO_BACKBONE == WavFusionConfig().audio_backbone
