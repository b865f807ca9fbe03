"""`wavfusion data prepare synthetic`: the demo corpus from the command line, checked clean."""

from __future__ import annotations

from wavfusion.cli import main
from wavfusion.data.manifest import read_manifest


def test_prepare_synthetic_writes_a_corpus_that_data_check_accepts(tmp_path, capsys):
    out = tmp_path / "corpus"
    assert main(["data", "prepare", "synthetic", "--out", str(out), "--per-class", "2",
                 "--speakers", "3", "--no-progress"]) == 0
    assert "wavfusion data check" in capsys.readouterr().out
    rows = read_manifest(out / "manifest.csv").rows
    assert len(rows) == 8 and {row.label for row in rows} == {"neutral", "happy", "sad", "angry"}
    assert main(["data", "check", str(out / "manifest.csv")]) == 0
    assert "8 usable, 0 bad" in capsys.readouterr().out


def test_prepare_synthetic_names_a_bad_speaker_count(tmp_path, capsys):
    assert main(["data", "prepare", "synthetic", "--out", str(tmp_path), "--speakers", "2",
                 "--no-progress"]) == 2
    assert "at least 3 speakers" in capsys.readouterr().err
