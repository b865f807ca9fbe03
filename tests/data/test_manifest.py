"""The manifest format: read, validate, write, and load a row's media."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.data.clips import face_image, side_by_side, tone, write_audio, write_video
from wavfusion.data import ManifestError, ManifestRow, read_manifest, write_manifest
from wavfusion.data.manifest import relative_path


def test_write_then_read_keeps_every_field_and_extra_column(tmp_path):
    rows = [
        ManifestRow(
            "a",
            "clips/a.wav",
            "",
            "It’s “fine”, really,\nsaid she 🙂",
            "happy",
            "s1",
            "train",
            extra={"sentiment": "positive", "fold": "1"},
        ),
        ManifestRow("b", "", "/abs/b.mp4", "", "sad", "", "", extra={"sentiment": "", "fold": "2"}),
    ]
    path = write_manifest(tmp_path / "m.csv", rows)
    assert path.read_text(encoding="utf-8").splitlines()[0] == (
        "id,audio,video,text,label,speaker,split,sentiment,fold"
    )
    manifest = read_manifest(path)
    assert manifest.problems == []
    assert manifest.extra_columns == ["sentiment", "fold"]
    for written, read in zip(rows, manifest.rows):
        assert (
            read.id,
            read.audio,
            read.video,
            read.text,
            read.label,
            read.speaker,
            read.split,
            read.extra,
        ) == (
            written.id,
            written.audio,
            written.video,
            written.text,
            written.label,
            written.speaker,
            written.split,
            written.extra,
        )
    assert [row.line for row in manifest.rows] == [3, 4]  # the quoted newline spans two lines


def test_paths_resolve_against_the_manifest_folder(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    write_manifest(
        tmp_path / "data" / "m.csv",
        [ManifestRow("a", "clips/a.wav", str(tmp_path / "v.mp4"), label="sad")],
    )
    monkeypatch.chdir(tmp_path)
    manifest = read_manifest("data/m.csv")
    row = manifest.rows[0]
    assert manifest.path_of(row.audio) == tmp_path / "data" / "clips" / "a.wav"
    assert manifest.path_of(row.video) == tmp_path / "v.mp4"
    assert manifest.path_of("") is None
    assert relative_path(tmp_path / "data" / "clips" / "a.wav", tmp_path / "data" / "m.csv") == (
        "clips/a.wav"
    )
    assert relative_path(tmp_path / "x.wav", tmp_path / "data" / "m.csv") == "../x.wav"
    # sharing only the filesystem root: absolute, not a chain of ../..
    assert relative_path("/elsewhere/x.wav", tmp_path / "m.csv") == "/elsewhere/x.wav"


def test_text_speaker_and_split_columns_may_be_left_out(tmp_path):
    (tmp_path / "m.csv").write_text("\ufeffid,audio,video,label\na,a.wav,,sad\n", encoding="utf-8")
    row = read_manifest(tmp_path / "m.csv").rows[0]
    assert (row.id, row.text, row.speaker, row.split) == ("a", "", "", "")


@pytest.mark.parametrize(
    "content, reason",
    [
        ("", "empty file: no header line"),
        ("id,audio,text\n", "header lacks column(s) label;"),
        ("label,id,text\n", "header lacks column(s) audio or video;"),
        ("id,audio,video,la\x92bel\n", "the header line is not valid UTF-8"),
    ],
)
def test_an_unreadable_manifest_raises_naming_the_file(tmp_path, content, reason):
    path = tmp_path / "m.csv"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(ManifestError, match=re.escape(reason)) as caught:
        read_manifest(path)
    assert str(path) in str(caught.value)


def test_a_missing_manifest_raises_naming_the_file(tmp_path):
    with pytest.raises(ManifestError, match="nope.csv: manifest file not found"):
        read_manifest(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    "row, reason",
    [
        ("x,a.wav,,t,sad,s,dev,,,", "split 'dev' is not one of train, val, test"),
        ("x,,v.mp4,t,sad,s,,one,2,", "start/end are not numbers"),
        ("x,,v.mp4,t,sad,s,,2,1,", "end 1 s is not after start 2 s"),
        ("x,a.wav,,t,sad,s,,1,2,", "start/end given but no video"),
        ("x,,v.mp4,t,sad,s,,1,2,middle", "face_region 'middle' is not one of left, right"),
        (",a.wav,,t,sad,s,,,,", "empty id"),
        ("x,a.wav,,t,sad,s,,,,,", "11 fields, the header has 10"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_skipped(tmp_path, row, reason):
    header = "id,audio,video,text,label,speaker,split,start,end,face_region"
    good = "ok,a.wav,,t,sad,s,train,,,"
    (tmp_path / "m.csv").write_text(f"{header}\n{good}\n{row}\n{good.replace('ok', 'ok2')}\n")
    manifest = read_manifest(tmp_path / "m.csv")
    assert [r.id for r in manifest.rows] == ["ok", "ok2"]
    [problem] = manifest.problems
    assert reason in problem.reason and problem.line == 3


def test_a_row_loads_its_audio_and_face_frames(tmp_path):
    write_audio(tmp_path / "own.wav", tone(0.5, 16_000), 16_000)
    frame = side_by_side(face_image(240, 240, scale=0.8), np.full((240, 240, 3), 90, np.uint8))
    write_video(tmp_path / "dialog.mp4", [frame] * 30, fps=10, audio=(tone(3.0, 16_000), 16_000))
    rows = [
        ManifestRow(
            "own",
            "own.wav",
            "dialog.mp4",
            label="sad",
            extra={"start": "1.0", "end": "2.0", "face_region": "left"},
        ),
        ManifestRow(
            "track",
            "",
            "dialog.mp4",
            label="sad",
            extra={"start": "1.0", "end": "2.0", "face_region": ""},
        ),
        ManifestRow(
            "audio-only",
            "own.wav",
            "",
            label="sad",
            extra={"start": "", "end": "", "face_region": ""},
        ),
    ]
    manifest = read_manifest(write_manifest(tmp_path / "m.csv", rows))
    own, track, audio_only = manifest.rows
    assert manifest.load_audio(own).shape == (8000,)  # the own file is the utterance
    assert manifest.load_audio(track).size == pytest.approx(16_000, abs=2)  # window of track
    frames = manifest.load_frames(own, 4, size=64)
    assert frames.shape == (4, 64, 64, 3)
    assert manifest.load_frames(audio_only) is None


@pytest.mark.parametrize("header", ["label,audio,id", "video,id,label", "id,label,text,audio"])
def test_only_id_label_and_one_media_column_are_required_in_any_order(tmp_path, header):
    path = tmp_path / "m.csv"
    cells = {"id": "a", "label": "sad", "audio": "a.wav", "video": "a.mp4", "text": "hi"}
    names = header.split(",")
    path.write_text(header + "\n" + ",".join(cells[name] for name in names) + "\n")
    manifest = read_manifest(path)
    assert not manifest.problems
    row = manifest.rows[0]
    assert (row.id, row.label) == ("a", "sad")
    assert (row.audio, row.video) == (cells["audio"] if "audio" in names else "",
                                      cells["video"] if "video" in names else "")
