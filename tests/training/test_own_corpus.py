"""A user's own manifest: rows the extraction skipped never crash a later step, and a cache
entry is never served for a row that changed since it was extracted."""

from __future__ import annotations

import csv
import os
import shutil

import numpy as np
import pytest

from tests.data.clips import write_audio
from tests.training.test_train import _settings
from wavfusion.cli import main
from wavfusion.features.cache import FeatureCache
from wavfusion.training.run import evaluate, train

BAD_KINDS = {  # kind -> (how the file is made, the reason the extraction records)
    "missing": "file not found",
    "undecodable": "",
    "silent": "silent",
}


def _copy_corpus(tiny_manifest, folder):
    """The tiny corpus in `folder` (its own files: the tests edit them) and its rows."""
    shutil.copytree(tiny_manifest.parent, folder)
    with (folder / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(folder, rows):
    path = folder / "manifest.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def corpus_with_bad_rows(tiny_manifest, tmp_path):
    """The tiny corpus plus, in each split, a missing, an undecodable and a silent file."""
    folder = tmp_path / "corpus"
    rows = _copy_corpus(tiny_manifest, folder)
    for split in ("train", "val", "test"):
        for kind in BAD_KINDS:
            name = f"{split}-{kind}"
            if kind == "undecodable":
                (folder / f"{name}.wav").write_bytes(b"RIFF....WAVEfmt not really audio")
            elif kind == "silent":
                write_audio(folder / f"{name}.wav", np.zeros((1, 8000), "float32"), 16000)
            rows.append({**rows[0], "id": name, "audio": f"{name}.wav", "label": "sad",
                         "split": split, "text": ""})
    return _write(folder, rows)


def test_skipped_rows_are_left_out_of_train_and_evaluate_and_named_once(
        corpus_with_bad_rows, tiny_backbone, tmp_path, capsys):
    settings = _settings(corpus_with_bad_rows, tiny_backbone, tmp_path / "run", epochs=1)
    results = train(settings)
    out = capsys.readouterr().out
    bad = [f"{split}-{kind}" for split in ("train", "val", "test") for kind in BAD_KINDS]
    for name in bad:  # named once, on one line of the left-out table
        assert sum(f" {name} " in line for line in out.splitlines()) == 1, (name, out)
    assert "left out 9 row(s)" in out
    assert "file not found" in out and "silent" in out
    assert results["test"]["num_samples"] == 6 and results["val"]["num_samples"] == 6
    with (settings.out / "left-out.csv").open(encoding="utf-8") as handle:
        assert sorted(row["item"] for row in csv.DictReader(handle)) == sorted(bad)

    scored = evaluate(settings.out, corpus_with_bad_rows, "test", settings.cache,
                      tmp_path / "eval", 4, progress=False)
    assert scored["test"]["num_samples"] == 6
    assert "left out 3 row(s)" in capsys.readouterr().out


def test_the_train_command_runs_on_a_manifest_with_bad_rows(corpus_with_bad_rows,
                                                            tiny_backbone, tmp_path, capsys):
    code = main(["train", "--manifest", str(corpus_with_bad_rows), "--out",
                 str(tmp_path / "run"), "--epochs", "1", "--batch-size", "6",
                 "--audio-backbone", str(tiny_backbone), "--deep-layers", "2",
                 "--modalities", "audio,text", "--no-progress", "--threads", "1"])
    assert code == 0
    assert "left out 9 row(s)" in capsys.readouterr().out


def _train_and_cache(tiny_manifest, tiny_backbone, tmp_path):
    folder = tmp_path / "corpus"
    rows = _copy_corpus(tiny_manifest, folder)
    settings = _settings(_write(folder, rows), tiny_backbone, tmp_path / "run", epochs=1)
    train(settings)
    return folder, rows, settings


def _extract(manifest, cache, tiny_backbone, capsys):
    code = main(["extract", "--manifest", str(manifest), "--out", str(cache),
                 "--audio-backbone", str(tiny_backbone), "--deep-layers", "2",
                 "--no-progress", "--workers", "0", "--threads", "1"])
    return code, capsys.readouterr().out


def test_edited_rows_are_extracted_again_and_counted(tiny_manifest, tiny_backbone, tmp_path,
                                                     capsys):
    folder, rows, settings = _train_and_cache(tiny_manifest, tiny_backbone, tmp_path)
    cache = settings.cache
    before = FeatureCache.open(cache)
    old_text = np.array(before.get(rows[1]["id"]).text)  # copies: the part is rewritten
    old_audio = np.array(before.get(rows[7]["id"]).audio)
    code, out = _extract(folder / "manifest.csv", cache, tiny_backbone, capsys)
    assert code == 0 and "reused 30" in out and "re-extracted 0" in out  # nothing changed

    edited = {rows[1]["id"]: "transcript", rows[7]["id"]: "audio file"}
    rows[1]["text"] = "a new transcript"
    replaced = folder / rows[7]["audio"]
    write_audio(replaced, 0.2 * np.ones((1, 9000), "float32"), 16000)
    os.utime(replaced, ns=(1, 1))  # another mtime for sure, whatever the clock's resolution
    removed = rows[20]
    (folder / removed["audio"]).unlink()
    code, out = _extract(_write(folder, rows), cache, tiny_backbone, capsys)
    assert code == 0
    for row_id, what in edited.items():
        assert f"{row_id}" in out and what in out
    assert removed["id"] in out and "file not found" in out
    after = FeatureCache.open(cache)
    assert removed["id"] not in after and removed["id"] in {p.item for p in after.problems}
    assert len(after) == 29
    assert not np.array_equal(old_text, np.asarray(after.get(rows[1]["id"]).text))
    assert not np.array_equal(old_audio, np.asarray(after.get(rows[7]["id"]).audio))


def test_train_and_evaluate_reextract_a_row_edited_since_the_cache(tiny_manifest, tiny_backbone,
                                                                   tmp_path, capsys):
    folder, rows, settings = _train_and_cache(tiny_manifest, tiny_backbone, tmp_path)
    capsys.readouterr()
    test_row = next(row for row in rows if row["split"] == "test")
    test_row["text"] = "an edited transcript"
    manifest = _write(folder, rows)
    evaluate(settings.out, manifest, "test", settings.cache, tmp_path / "eval", 4,
             progress=False)
    out = capsys.readouterr().out
    assert "extracting the features of 1 row(s)" in out and "only the 6 rows" in out
    cache = FeatureCache.open(settings.cache)
    assert cache.sources[test_row["id"]]["text"] != ""  # recorded for the edited text


def test_a_cache_entry_that_no_longer_matches_its_row_is_refused(tiny_manifest, tiny_backbone,
                                                                 tmp_path):
    from wavfusion.data.manifest import read_manifest
    from wavfusion.features.source import ChangedRowError
    from wavfusion.training.features import usable_rows

    folder, rows, settings = _train_and_cache(tiny_manifest, tiny_backbone, tmp_path)
    rows[3]["text"] = "changed after extraction"
    manifest = read_manifest(_write(folder, rows))
    with pytest.raises(ChangedRowError, match=rf"{rows[3]['id']}.*transcript"):
        usable_rows(manifest, manifest.rows, FeatureCache.open(settings.cache))


def test_data_check_and_train_agree_on_the_usable_rows(corpus_with_bad_rows, tiny_backbone,
                                                      tmp_path):
    from wavfusion.data.check import check_manifest

    report = check_manifest(corpus_with_bad_rows, progress=False)
    settings = _settings(corpus_with_bad_rows, tiny_backbone, tmp_path / "run", epochs=1)
    results = train(settings)
    with (settings.out / "left-out.csv").open(encoding="utf-8") as handle:
        left_out = {row["item"] for row in csv.DictReader(handle)}
    assert {problem.item for problem in report.bad} == left_out
    used = sum(results[split]["num_samples"] for split in ("val", "test")) + sum(
        row.split == "train" for row in report.usable)
    assert used == len(report.usable) == 30
