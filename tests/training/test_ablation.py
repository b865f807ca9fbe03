"""`wavfusion ablate`: all four tables from one cache, resumable, honest per-split caches."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from tests.data.clips import face_image, write_video
from wavfusion import WavFusionConfig
from wavfusion.cli import main
from wavfusion.data.manifest import read_manifest, write_manifest
from wavfusion.features import extract
from wavfusion.features.cache import FeatureCache
from wavfusion.features.extract import ExtractionJob, extract_features
from wavfusion.training import ablation, run
from wavfusion.training.ablation import run_ablations
from wavfusion.training.ablation_cache import derive_prefix_cache, extract_base_cache
from wavfusion.training.run import TrainSettings

EXPECTED_ROWS = {
    "3": ["A", "T", "V", "A+T", "A+V", "A+T+V"],
    "4": ["without LVC", "with LVC"],
    "5": ["0", "0.01", "0.1", "1", "10"],
    "6": ["4/0 (concat)", "3/1", "2/2", "1/3"],  # the tiny backbone has 4 layers
}
MOUTHS = {"neutral": 0, "happy": 12, "sad": -12}  # face position per class (a visual cue)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from a second thread, and on a shared, oversubscribed machine
    OpenMP threads waiting for each other made these tests 3.5x slower (measured)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def manifest_with_video(tiny_manifest, tmp_path_factory):
    """The tiny manifest with a short face video on every other row."""
    folder = tmp_path_factory.mktemp("ablation-corpus")
    source = read_manifest(tiny_manifest)
    rows = []
    for index, row in enumerate(source.rows):
        audio = source.path_of(row.audio)
        values = dataclasses.replace(row, audio=str(audio))
        if index % 2 == 0:
            frames = [face_image(centre=(160 + 3 * k, 120 + MOUTHS[row.label])) for k in range(3)]
            values = dataclasses.replace(values, video=write_video(
                folder / f"{row.id}.mp4", frames, fps=6).name)
        rows.append(values)
    return write_manifest(folder / "manifest.csv", rows)


def _settings(manifest, backbone, cache, **changes) -> TrainSettings:
    model = WavFusionConfig(audio_backbone=str(backbone), deep_layers=2, text_hidden=8,
                            visual_hidden=8, lvc_codewords=4, encoder_heads=2, shared_dim=8,
                            classifier_hidden=8, dropout=0.0)
    values = {"manifest": manifest, "out": cache.parent / "unused", "cache": cache,
              "epochs": 1, "batch_size": 18, "progress": False, "model": model,
              "learning_rate": 1e-3}
    return TrainSettings(**{**values, **changes})


@pytest.fixture(scope="module")
def base_cache(manifest_with_video, tiny_backbone, tmp_path_factory):
    """The base cache of `_settings`, extracted once for the tests that do not count."""
    settings = _settings(manifest_with_video, tiny_backbone,
                         tmp_path_factory.mktemp("ablation-cache") / "cache")
    return extract_base_cache(read_manifest(manifest_with_video), settings.model,
                              settings.cache, progress=False)


def test_the_default_split_shares_the_base_run_with_its_table6_row(tiny_backbone):
    """No split given: a quarter of the 4 layers are deep (3/1), and that row of Table 6 is
    the base configuration, so it is one run, not two."""
    base = WavFusionConfig(audio_backbone=str(tiny_backbone))
    runs = ablation.plan_runs(base, [3, 4, 5, 6], [0])
    assert len(runs) == 14  # 6 + 2 + 5 + 4 rows, the base configuration counted once
    shared = next(r for r in runs if len(r.rows) == 4)
    assert [f"{row.table} {row.name}" for row in shared.rows] == ["3 A+T+V", "4 with LVC",
                                                                   "5 1", "6 3/1"]
    assert (shared.config.shallow_layers, shared.config.deep_layers) == (3, 1)


def _count_calls(monkeypatch, module, name) -> list:
    calls: list = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_ablate_writes_all_four_tables_from_one_extraction_and_resumes(
        manifest_with_video, tiny_backbone, tmp_path, monkeypatch):
    out = tmp_path / "ablation"
    settings = _settings(manifest_with_video, tiny_backbone, tmp_path / "cache")
    extractions = _count_calls(monkeypatch, extract, "extract_features")
    trainings = _count_calls(monkeypatch, ablation, "train")
    lines: list[str] = []
    document = run_ablations(settings, [3, 4, 5, 6], [0], out, announce=lines.append)

    assert document["failed"] == []
    assert {table: [row["setting"] for row in rows]
            for table, rows in document["tables"].items()} == EXPECTED_ROWS
    for rows in document["tables"].values():
        for row in rows:
            assert row["n"] == 1 and row["acc_std"] == 0.0 and row["wf1_std"] == 0.0
            assert 0.0 <= row["acc_mean"] <= 100.0 and 0.0 <= row["wf1_mean"] <= 100.0
    # The full model (A+T+V, LVC, lambda 1, 2/2) is one run standing for four rows.
    shared = {row["runs"][0] for table, name in (("3", "A+T+V"), ("4", "with LVC"), ("5", "1"),
                                                 ("6", "2/2"))
              for row in document["tables"][table] if row["setting"] == name}
    assert shared == {"table3-A+T+V-seed0"}
    assert len(trainings) == len(document["runs"]) == 6 + 1 + 4 + 3
    run_lines = [line for line in lines if line.startswith("[")]
    assert len(run_lines) == 14 and run_lines[0].startswith("[1/14] table 3 A, seed 0:")
    assert "test ACC" in run_lines[-1]

    # One extraction (the base cache); Table 6's other splits are derived, not extracted.
    assert len(extractions) == 1
    assert sorted(path.name for path in (out / "caches").iterdir()) == [
        "shallow-1", "shallow-3", "shallow-4"]
    for split_run in ("table6-4-0-concat-seed0", "table6-1-3-seed0"):
        assert json.loads((out / "runs" / split_run / "run.json").read_text())["cache"] in {
            str(out / "caches" / name) for name in ("shallow-1", "shallow-4")}
    written = {json.loads((out / "ablation.json").read_text())["markdown"]}
    assert written == {(out / "ablation.md").read_text()} == {document["markdown"]}
    assert "| A+T | " in document["markdown"] and "## Table 6" in document["markdown"]
    assert not (out / "runs" / "table3-A-seed0" / "model.safetensors").exists()

    # Rerun: every run is read back, nothing trained or extracted, caches untouched.
    cache_files = sorted(p for p in tmp_path.rglob("*.bin"))
    stamps = [p.stat().st_mtime_ns for p in cache_files]
    again = run_ablations(settings, [3, 4, 5, 6], [0], out, announce=lines.append)
    assert len(trainings) == 14 and len(extractions) == 1
    assert [p.stat().st_mtime_ns for p in cache_files] == stamps
    assert again["tables"] == document["tables"]
    assert all(line.endswith("(finished before, skipped)") for line in lines[-14:])


def test_a_failed_run_is_reported_and_the_others_complete(manifest_with_video, tiny_backbone,
                                                          base_cache, tmp_path, monkeypatch):
    original = run.train

    def failing(settings, **kwargs):
        if not settings.model.use_lvc:
            raise RuntimeError("diverged")
        return original(settings, **kwargs)

    monkeypatch.setattr(ablation, "train", failing)
    out = tmp_path / "ablation"
    settings = _settings(manifest_with_video, tiny_backbone, base_cache.folder)
    lines: list[str] = []
    document = run_ablations(settings, [4], [0], out, announce=lines.append)
    assert [item["run"] for item in document["failed"]] == ["table4-without-LVC-seed0"]
    assert "RuntimeError: diverged" in document["failed"][0]["error"]
    rows = {row["setting"]: row for row in document["tables"]["4"]}
    assert rows["without LVC"]["n"] == 0 and rows["without LVC"]["acc_mean"] is None
    assert rows["with LVC"]["n"] == 1
    assert "| without LVC | failed | failed | 0 |" in document["markdown"]
    assert "[1/2] table 4 without LVC, seed 0: FAILED" in lines[1]
    assert lines[-1].startswith("1 of 2 runs failed: table4-without-LVC-seed0")
    # The rerun retries only the failed run.
    monkeypatch.setattr(ablation, "train", original)
    trainings = _count_calls(monkeypatch, ablation, "train")
    again = run_ablations(settings, [4], [0], out, announce=lambda line: None)
    assert again["failed"] == [] and len(trainings) == 1


def test_a_derived_split_cache_equals_a_direct_extraction(manifest_with_video, tiny_backbone,
                                                         base_cache, tmp_path):
    """Table 6's derived cache (text and visual copied, audio recomputed) holds exactly what
    `wavfusion extract` writes for that split."""
    manifest, base = read_manifest(manifest_with_video), base_cache
    base_config = _settings(manifest_with_video, tiny_backbone, base.folder).model
    split = dataclasses.replace(base_config, shallow_layers=3, deep_layers=1)
    assert derive_prefix_cache(base, manifest, split, tmp_path / "derived") == 1
    assert derive_prefix_cache(base, manifest, split, tmp_path / "derived") == 0  # resumes
    extract_features(ExtractionJob(manifest=manifest_with_video, out=tmp_path / "direct",
                                   config=split, workers=0, progress=False))
    derived = FeatureCache.open(tmp_path / "derived")
    direct = FeatureCache.open(tmp_path / "direct")
    assert derived.settings == direct.settings and derived.settings != base.settings
    assert derived.ids == direct.ids == base.ids
    for utterance_id in direct.ids:
        mine, theirs = derived.get(utterance_id), direct.get(utterance_id)
        for modality in ("audio", "text", "visual"):
            a, b = getattr(mine, modality), getattr(theirs, modality)
            assert (a is None) == (b is None), (utterance_id, modality)
            if a is not None:
                np.testing.assert_array_equal(a, b)


def test_ablate_command_line_runs_one_table(manifest_with_video, tiny_backbone, base_cache,
                                            tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["ablate", "--manifest", str(manifest_with_video), "--out", str(out),
                 "--tables", "4", "--seeds", "2", "--epochs", "1", "--batch-size", "18",
                 "--no-progress", "--audio-backbone", str(tiny_backbone),
                 "--deep-layers", "2", "--cache", str(base_cache.folder)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "[4/4] table 4 with LVC, seed 1:" in printed and "| with LVC | " in printed
    document = json.loads((out / "ablation.json").read_text())
    assert [row["n"] for row in document["tables"]["4"]] == [2, 2]
    assert sorted(document["runs"]) == ["table4-with-LVC-seed0", "table4-with-LVC-seed1",
                                        "table4-without-LVC-seed0", "table4-without-LVC-seed1"]
