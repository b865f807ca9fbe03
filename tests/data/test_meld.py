"""MELD adapter: the real CSVs from ../shared/data, and a generated release tree with clips."""

from __future__ import annotations

from collections import Counter

import pytest

from wavfusion.cli import main
from wavfusion.data import read_manifest
from wavfusion.data.check import check_manifest
from wavfusion.data.datasets import prepare_meld
from wavfusion.data.datasets.meld import read_meld_csv
from wavfusion.data.datasets.text import clean_text

PUBLISHED_TRAIN = {
    "neutral": 4710,
    "joy": 1743,
    "surprise": 1205,
    "anger": 1109,
    "sadness": 683,
    "disgust": 271,
    "fear": 268,
}


@pytest.mark.real_data
def test_real_csvs_give_the_published_class_counts(shared_data):
    folder = shared_data / "meld-text"
    train = read_meld_csv(folder / "train_sent_emo.csv")
    assert Counter(u.emotion for u in train) == PUBLISHED_TRAIN
    assert len(read_meld_csv(folder / "dev_sent_emo.csv")) == 1109
    test = read_meld_csv(folder / "test_sent_emo.csv")
    assert len(test) == 2610
    first = train[0]
    assert (first.dialogue, first.utterance, first.speaker) == (0, 0, "Chandler")
    assert first.text.startswith("also I was the point person on my company’s transition")
    assert first.clip_name == "dia0_utt0.mp4"
    texts = [u.text for u in train + test]
    assert not any("â€" in text or "\x92" in text or "Ã" in text for text in texts)


@pytest.mark.real_data
def test_real_csvs_without_clips_report_every_missing_clip(shared_data, tmp_path, capsys):
    root = tmp_path / "MELD.Raw"
    root.mkdir()
    for name in ("train", "dev", "test"):
        (root / f"{name}_sent_emo.csv").symlink_to(
            shared_data / "meld-text" / f"{name}_sent_emo.csv"
        )
    for folder in ("train_splits", "dev_splits_complete", "output_repeated_splits_test"):
        (root / folder).mkdir()
    result = prepare_meld(root, tmp_path / "m.csv")
    assert result.rows == [] and len(result.problems) == 9989 + 1109 + 2610
    assert (
        main(["data", "prepare", "meld", "--root", str(root), "--out", str(tmp_path / "m.csv")])
        == 1
    )
    printed = capsys.readouterr().out
    assert "train: 9989 utterance(s) without a clip" in printed and "and 13688 more" in printed


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("companyâ€™s", "company’s"),
        ("NestlÃ© â€œToll Houseâ€\x9d", "Nestlé “Toll House”"),
        ("You must\x92ve", "You must’ve"),
        ("bad \udc92 byte", "bad ’ byte"),  # a raw 0x92 byte read with surrogateescape
        ("So…  So…here’s", "So… So…here’s"),
        ("Adiós. Mr. Big……ot. hear——Mother", "Adiós. Mr. Big……ot. hear——Mother"),
        ("Â\xa0Hi ", "Hi"),
    ],
)
def test_clean_text_restores_the_intended_characters(raw, clean):
    assert clean_text(raw) == clean


def test_prepare_uses_official_splits_and_reports_missing_clips(meld_release, tmp_path):
    result = prepare_meld(meld_release.parent, tmp_path / "m.csv")
    rows = {row.id: row for row in result.rows}
    assert {row_id: row.split for row_id, row in rows.items()} == {
        "train_dia0_utt0": "train",
        "train_dia0_utt1": "train",
        "dev_dia0_utt0": "val",
        "test_dia0_utt0": "test",
    }
    assert rows["train_dia0_utt0"].text.endswith("my company’s transition")
    assert rows["train_dia0_utt1"].text == "You must’ve had your hands full."
    assert (rows["dev_dia0_utt0"].label, rows["dev_dia0_utt0"].extra["original_label"]) == (
        "surprised",
        "surprise",
    )
    assert rows["test_dia0_utt0"].audio == ""  # the clip's audio track is the audio
    assert rows["test_dia0_utt0"].video.endswith("output_repeated_splits_test/dia0_utt0.mp4")
    reasons = {problem.item.rsplit("/", 1)[-1]: problem.reason for problem in result.problems}
    assert reasons == {
        "dia0_utt2.mp4": "clip missing from the release",
        "train_sent_emo.csv:5": "unreadable MELD row: too few fields "
        "(Emotion, Sentiment, Dialogue_ID, Utterance_ID, Season, Episode, "
        "StartTime, EndTime missing)",
    }


def test_prepared_manifest_checks_clean_and_decodes_six_channel_audio(meld_release, tmp_path):
    out = tmp_path / "meld.csv"
    assert main(["data", "prepare", "meld", "--root", str(meld_release), "--out", str(out)]) == 0
    report = check_manifest(out, progress=False)
    assert len(report.usable) == 4 and report.bad == []
    manifest = read_manifest(out)
    test_row = next(row for row in manifest.rows if row.split == "test")
    assert manifest.load_audio(test_row).size == pytest.approx(16_000, abs=700)
    assert manifest.load_frames(test_row, 3, size=64).shape == (3, 64, 64, 3)


def test_prepare_names_a_missing_root_and_exits_non_zero(tmp_path, capsys):
    out = tmp_path / "m.csv"
    assert (
        main(["data", "prepare", "meld", "--root", str(tmp_path / "nope"), "--out", str(out)]) == 1
    )
    assert f"{tmp_path / 'nope'}: folder not found" in capsys.readouterr().out
    assert not out.exists()
