"""Bad input never crashes a batch job and never disappears silently.

Each case: the single-file call raises an error naming the file and the reason, and
`wavfusion data check` over a manifest holding all of them lists each bad row with its reason
while every good row stays usable.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from tests.data.clips import face_image, tone, write_audio, write_video
from wavfusion.cli import main
from wavfusion.data import MediaError, load_audio, load_frames, probe_video
from wavfusion.data.check import check_manifest
from wavfusion.data.datasets.labels import EMOTIONS


def good_wav(folder, name="good.wav"):
    return write_audio(folder / name, tone(0.5, 16_000), 16_000)


def expect_media_error(call, path, *reason_words):
    with pytest.raises(MediaError) as caught:
        call(path)
    message = str(caught.value)
    assert str(path) in message, message
    for word in reason_words:
        assert word in message, message
    return message


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    expect_media_error(load_audio, tmp_path / "empty.wav", "empty file")


def test_truncated_wav_header(tmp_path):
    header = good_wav(tmp_path).read_bytes()[:30]
    (tmp_path / "cut.wav").write_bytes(header)
    expect_media_error(load_audio, tmp_path / "cut.wav", "not a media file FFmpeg can read")


def test_nan_and_inf_samples(tmp_path):
    wave = tone(0.5, 16_000)
    wave[0, 100], wave[0, 200] = np.nan, np.inf
    path = write_audio(tmp_path / "nan.wav", wave, 16_000, "pcm_f32le")
    expect_media_error(load_audio, path, "2 NaN or infinite samples")


def test_silent_clip(tmp_path):
    path = write_audio(tmp_path / "silent.wav", np.zeros((1, 8000), np.float32), 16_000)
    expect_media_error(load_audio, path, "silent")
    assert load_audio(path, allow_silent=True).shape == (8000,)


def test_text_file_named_mp4(tmp_path):
    (tmp_path / "notes.mp4").write_text("this is not a video\n")
    expect_media_error(load_frames, tmp_path / "notes.mp4", "not a media file FFmpeg can read")


def test_mp4_without_audio_track(tmp_path):
    path = write_video(tmp_path / "mute.mp4", [face_image()] * 5)
    expect_media_error(load_audio, path, "no audio stream", "video (mpeg4)")


def test_mp4_without_video_stream(tmp_path):
    path = write_video(tmp_path / "sound.mp4", None, audio=(tone(0.5, 16_000), 16_000))
    expect_media_error(load_frames, path, "no video stream", "audio (aac)")
    assert load_audio(path).size == pytest.approx(8000, abs=1300)  # (+ AAC priming)


@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_zero_frame_video(tmp_path, suffix):
    path = write_video(tmp_path / f"zero{suffix}", [])
    # an AVI keeps the empty stream, an MP4 muxer drops it: both are named and explained
    reason = "has no frames" if suffix == ".avi" else "no video stream"
    expect_media_error(load_frames, path, reason)
    expect_media_error(probe_video, path, reason)


def test_missing_file(tmp_path):
    expect_media_error(load_audio, tmp_path / "nowhere.wav", "file not found")


def test_directory_instead_of_a_file(tmp_path):
    expect_media_error(load_audio, tmp_path, "not a file")


def write_rows(path, rows, header="id,audio,video,text,label,speaker,split"):
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(header + "\n")
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


@pytest.fixture(scope="module")
def bad_manifest(tmp_path_factory):
    """A manifest mixing 4 good rows with one row per kind of bad input."""
    folder = tmp_path_factory.mktemp("batch")
    good_wav(folder)
    nan = tone(0.5, 16_000)
    nan[0, 10] = np.nan
    write_audio(folder / "nan.wav", nan, 16_000, "pcm_f32le")
    write_audio(folder / "silent.wav", np.zeros((1, 8000), np.float32), 16_000)
    write_audio(folder / "long.wav", tone(3.0, 16_000), 16_000)
    write_audio(folder / "mp3.wav", tone(1.0, 16_000), 16_000, "libmp3lame", "mp3")
    write_audio(folder / "tiny.wav", tone(0.02, 16_000), 16_000)
    write_video(folder / "clip.mp4", [face_image()] * 10, audio=(tone(1.0, 16_000), 16_000))
    write_video(folder / "mute.mp4", [face_image()] * 5)
    write_video(folder / "sound.mp4", None, audio=(tone(0.5, 16_000), 16_000))
    write_video(folder / "zero.avi", [])
    (folder / "empty.wav").write_bytes(b"")
    (folder / "cut.wav").write_bytes((folder / "good.wav").read_bytes()[:30])
    (folder / "notes.mp4").write_text("not a video")
    rows = [
        ["ok1", "good.wav", "", "hello", "happy", "s1", "train"],
        ["ok2", "", "clip.mp4", "", "sad", "s2", "val"],
        ["ok3", "long.wav", "", "a long one", "angry", "s3", "test"],
        ["ok4", "mp3.wav", "clip.mp4", "mp3 inside", "neutral", "s4", "train"],
        ["empty", "empty.wav", "", "t", "happy", "s1", "train"],
        ["cut", "cut.wav", "", "t", "happy", "s1", "train"],
        ["nan", "nan.wav", "", "t", "happy", "s1", "train"],
        ["silent", "silent.wav", "", "t", "happy", "s1", "train"],
        ["tiny", "tiny.wav", "", "t", "happy", "s1", "train"],
        ["textmp4", "good.wav", "notes.mp4", "t", "happy", "s1", "train"],
        ["mute", "", "mute.mp4", "t", "happy", "s1", "train"],
        ["novideo", "good.wav", "sound.mp4", "t", "happy", "s1", "train"],
        ["zero", "good.wav", "zero.avi", "t", "happy", "s1", "train"],
        ["missing", "gone.wav", "", "t", "happy", "s1", "train"],
        ["ok1", "good.wav", "", "again", "happy", "s1", "train"],
        ["unknown", "good.wav", "", "t", "happpy", "s1", "train"],
        ["short", "good.wav", "", "happy"],
        ["nothing", "", "", "t", "happy", "s1", "train"],
    ]
    path = write_rows(folder / "manifest.csv", rows)
    with path.open("ab") as handle:  # a Windows-1252 apostrophe: not UTF-8
        handle.write(b"latin,good.wav,,It\x92s fine,happy,s1,train\n")
    return path


EXPECTED_BAD = {
    "empty": "empty file (0 bytes)",
    "cut": "not a media file FFmpeg can read",
    "nan": "NaN or infinite samples",
    "silent": "silent",
    "tiny": "audio too short",
    "textmp4": "video notes.mp4: not a media file",
    "mute": "audio track of video mute.mp4: no audio stream",
    "novideo": "video sound.mp4: no video stream",
    "zero": "video zero.avi: the video stream has no frames",
    "missing": "audio gone.wav: file not found",
    "ok1": "duplicate id (first on line 2)",
    "unknown": "unknown label 'happpy'",
    "short": "4 fields, the header has 7",
    "nothing": "no audio and no video",
    "latin": "bytes that are not UTF-8 in column 'text': b'\\x92'",
}


def test_check_reports_every_bad_row_with_its_reason_and_keeps_the_good(bad_manifest):
    report = check_manifest(bad_manifest, progress=False, labels=EMOTIONS)
    assert sorted(row.id for row in report.usable) == ["ok1", "ok2", "ok3", "ok4"]
    reasons = {problem.item: problem.reason for problem in report.bad}
    assert set(reasons) == set(EXPECTED_BAD)
    for item, words in EXPECTED_BAD.items():
        assert words in reasons[item], (item, reasons[item])
    assert all(problem.line > 1 for problem in report.bad)
    notes = {problem.item: problem.reason for problem in report.notes}
    shorter = check_manifest(bad_manifest, progress=False, max_seconds=2, labels=EMOTIONS)
    assert (
        "3.0 s long: truncated to the first 2 s" in {p.item: p.reason for p in shorter.notes}["ok3"]
    )
    assert "content is mp3, not .wav" in notes["ok4"]
    assert "empty transcript" in notes["ok2"]


def test_data_check_cli_prints_the_bad_rows_and_exits_zero(bad_manifest, tmp_path, capsys):
    report_csv = tmp_path / "problems.csv"
    code = main(["data", "check", str(bad_manifest), "--no-progress", "--report", str(report_csv),
                 "--labels", "all"])
    out = capsys.readouterr().out
    assert code == 0
    assert "19 rows, 4 usable, 15 bad" in out
    for item, words in EXPECTED_BAD.items():
        assert item in out and words.split(":")[0] in out
    written = list(csv.DictReader(report_csv.open(encoding="utf-8")))
    assert sum(row["kind"] == "bad" for row in written) == 15


def test_data_check_exits_non_zero_when_nothing_usable_remains(tmp_path, capsys):
    path = write_rows(tmp_path / "m.csv", [["a", "gone.wav", "", "", "happy", "", ""]])
    assert main(["data", "check", str(path), "--no-progress"]) == 1
    assert "nothing usable remains" in capsys.readouterr().out


def test_data_check_names_a_manifest_it_cannot_read(tmp_path, capsys):
    path = write_rows(tmp_path / "m.csv", [["a", "b"]], header="name,file")
    assert main(["data", "check", str(path), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "m.csv" in out and "lacks column(s) id, label, audio or video" in out


def test_without_labels_the_manifests_own_names_are_its_classes(bad_manifest):
    """`happpy` is a class of its own then, noted as close to the built-in `happy`."""
    report = check_manifest(bad_manifest, progress=False)
    assert sorted(row.id for row in report.usable) == ["ok1", "ok2", "ok3", "ok4", "unknown"]
    notes = {problem.item: problem.reason for problem in report.notes}
    assert "another form of the built-in 'happy'" in notes["label 'happpy'"]


def test_own_label_names_are_listed_and_noted_and_most_bad_rows_explained(tmp_path, capsys):
    write_audio(tmp_path / "a.wav", 0.3 * np.sin(np.arange(16000) / 5)[None], 16000)
    rows = [[f"r{i}", "a.wav", "", "", name, "", ""]
            for i, name in enumerate(["joy", "anger", "anger", "sadness", "bored"])]
    path = write_rows(tmp_path / "m.csv", rows)
    assert main(["data", "check", str(path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "5 rows, 5 usable, 0 bad" in out
    for name, builtin in (("joy", "happy"), ("anger", "angry"), ("sadness", "sad")):
        assert f"label '{name}'" in out and f"built-in '{builtin}'" in out
    assert "label 'bored'" not in out  # not a form of any built-in name
    assert "bored" in out  # but listed in the split x class table

    assert main(["data", "check", str(path), "--no-progress", "--labels", "iemocap4"]) == 1
    out = capsys.readouterr().out
    assert "most rows are bad: 5 of 5 for 'unknown label'" in out
    assert "leave --labels out" in out
