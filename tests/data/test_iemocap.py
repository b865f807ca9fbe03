"""IEMOCAP adapter, on a generated tree in the release layout (tests/data/releases.py)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from tests.data.releases import FEMALE_SKIN, MALE_SKIN
from wavfusion.cli import main
from wavfusion.data import read_manifest
from wavfusion.data.datasets import prepare_iemocap
from wavfusion.data.datasets.iemocap import face_region, speaker_gender
from wavfusion.data.datasets.splits import apply_fold


def test_four_classes_merge_excited_into_happy_and_drop_the_rest(iemocap_release, tmp_path):
    result = prepare_iemocap(iemocap_release.parent, tmp_path / "m.csv", classes=4)
    labels = Counter(row.label for row in result.rows)
    # 5 sessions × (neu, hap, exc→happy, sad, ang), less Session1's missing sad wav
    assert labels == {"neutral": 5, "happy": 10, "sad": 4, "angry": 5}
    assert result.dropped == {"fru": 5, "xxx": 5}
    excited = [row for row in result.rows if row.extra["original_label"] == "exc"]
    assert {row.label for row in excited} == {"happy"}


def test_six_classes_keep_excited_and_frustrated(iemocap_release, tmp_path):
    result = prepare_iemocap(iemocap_release, tmp_path / "m.csv", classes=6)
    assert Counter(row.label for row in result.rows) == {
        "neutral": 5,
        "happy": 5,
        "excited": 5,
        "frustrated": 5,
        "sad": 4,
        "angry": 5,
    }
    assert result.dropped == {"xxx": 5}


def test_defects_are_reported_not_fatal(iemocap_release, tmp_path):
    result = prepare_iemocap(iemocap_release, tmp_path / "m.csv")
    reasons = {problem.item.rsplit("/", 1)[-1]: problem.reason for problem in result.problems}
    assert reasons["Ses01F_impro01_M002.wav"] == "file not found"
    assert "unreadable evaluation line" in reasons["Ses03F_script01_1.txt:24"]
    assert len(result.problems) == 2  # the AppleDouble ._ file is not read as a dialog
    rows = {row.id: row for row in result.rows}
    assert rows["Ses01F_impro01_F003"].text == ""  # transcript missing: text left empty
    assert rows["Ses01F_impro01_M000"].text == "Do you have your forms?"
    assert any("1 utterance(s) have no transcript" in note for note in result.notes)


def test_rows_carry_times_vad_and_the_speakers_half_of_the_dialog_video(iemocap_release, tmp_path):
    rows = {row.id: row for row in prepare_iemocap(iemocap_release, tmp_path / "m.csv").rows}
    female = rows["Ses05F_impro01_F000"]
    assert female.video.endswith("Session5/dialog/avi/DivX/Ses05F_impro01.avi")
    assert (female.extra["start"], female.extra["end"]) == ("0.2000", "0.6000")
    assert female.extra["face_region"] == "left"  # she wears the markers in Ses05F
    assert rows["Ses05F_impro01_M000"].extra["face_region"] == "right"
    assert rows["Ses02M_impro01_M000"].extra["face_region"] == "left"  # he does in Ses02M
    assert rows["Ses02M_impro01_F000"].extra["face_region"] == "right"
    assert rows["Ses01F_impro01_F000"].video == ""  # Session1 has no dialog video
    assert female.speaker == "Ses05_F" and female.extra["fold"] == "5"
    assert female.extra["valence"] == "2.5000"


def test_utterance_ids_name_speaker_and_half():
    assert speaker_gender("Ses01F_script01_1_M023") == "M"
    assert face_region("Ses01F_impro01_F000", "Ses01F_impro01") == "left"
    assert face_region("Ses01F_impro01_F000", "Ses01F_impro01", marker_side="right") == "right"


def test_session5_protocol_tests_on_session5_with_speaker_disjoint_val(iemocap_release, tmp_path):
    rows = prepare_iemocap(iemocap_release, tmp_path / "m.csv").rows
    by_split = {
        split: {row.speaker for row in rows if row.split == split}
        for split in ("train", "val", "test")
    }
    assert by_split["test"] == {"Ses05_F", "Ses05_M"}
    assert by_split["val"] and not by_split["val"] & by_split["train"]
    assert not (by_split["val"] | by_split["train"]) & by_split["test"]


def test_loso_protocol_leaves_split_empty_and_each_fold_holds_out_a_session(
    iemocap_release, tmp_path
):
    rows = prepare_iemocap(iemocap_release, tmp_path / "m.csv", protocol="loso").rows
    assert {row.split for row in rows} == {""}
    assert {row.extra["fold"] for row in rows} == {"1", "2", "3", "4", "5"}
    for fold in "12345":
        apply_fold(rows, fold)
        test = {row.extra["fold"] for row in rows if row.split == "test"}
        val = {row.speaker for row in rows if row.split == "val"}
        train = {row.speaker for row in rows if row.split == "train"}
        assert test == {fold} and val and not val & train


def test_prepare_cli_writes_a_manifest_whose_face_crops_show_the_speaker(
    iemocap_release, tmp_path, capsys
):
    out = tmp_path / "out" / "iemocap.csv"
    assert (
        main(
            [
                "data",
                "prepare",
                "iemocap",
                "--root",
                str(iemocap_release),
                "--out",
                str(out),
                "--classes",
                "6",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "wrote" in printed and "29 rows" in printed and "xxx 5" in printed
    manifest = read_manifest(out)
    rows = {row.id: row for row in manifest.rows}
    for utterance, skin in (
        ("Ses05F_impro01_F000", FEMALE_SKIN),
        ("Ses05F_impro01_M000", MALE_SKIN),
        ("Ses02M_impro01_F000", FEMALE_SKIN),
        ("Ses02M_impro01_M000", MALE_SKIN),
    ):
        frames = manifest.load_frames(rows[utterance], 2, size=96)
        middle = np.median(frames[:, 30:66, 30:66].reshape(-1, 3), axis=0)
        other = MALE_SKIN if skin == FEMALE_SKIN else FEMALE_SKIN
        assert np.abs(middle - skin).sum() < np.abs(middle - other).sum(), utterance
    assert manifest.load_audio(rows["Ses05F_impro01_F000"]).size == pytest.approx(6400, abs=2)
