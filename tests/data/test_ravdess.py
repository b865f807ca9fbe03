"""RAVDESS: decode every real clip in ../shared/data, and the file-name adapter."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from tests.data.clips import face_image, tone, write_audio, write_video
from wavfusion.cli import main
from wavfusion.data.datasets import prepare_ravdess
from wavfusion.data.datasets.labels import LABEL_SETS
from wavfusion.data.datasets.ravdess import parse_name
from wavfusion.data.media import SAMPLE_RATE, decode_audio

STEREO = {"03-01-08-01-02-02-01", "03-01-02-01-01-02-01"}


@pytest.mark.real_data
def test_all_1200_speech_flacs_decode_at_16k_with_sane_durations(ravdess_speech):
    files = sorted(ravdess_speech.glob("Actor_*/*.flac"))
    assert len(files) == 1200
    emotions, actors = Counter(), Counter()
    for path in files:
        decoded = decode_audio(path, max_seconds=None)
        assert (decoded.source_rate, decoded.source_channels) == (SAMPLE_RATE, 1), path
        assert 2.5 < decoded.seconds < 6.0, path
        assert decoded.seconds == pytest.approx(decoded.full_seconds, abs=0.01), path
        assert 0.001 < np.abs(decoded.samples).max() <= 1.0, path  # quietest: 0.009
        fields = parse_name(path)
        assert (fields["modality"], fields["vocal_channel"]) == ("03", "01")
        assert path.parent.name == f"Actor_{fields['actor']}"
        emotions[fields["emotion"]] += 1
        actors[fields["actor"]] += 1
    # 60 clips per actor; neutral has half as many clips as every other emotion
    assert emotions == {"01": 80, **{f"0{code}": 160 for code in range(2, 9)}}
    assert actors == {f"{actor:02d}": 60 for actor in range(1, 21)}


@pytest.mark.real_data
def test_original_48k_wavs_are_resampled_and_mixed_like_the_16k_release(shared_data):
    files = sorted((shared_data / "ravdess-original-wav").glob("Actor_*/*.wav"))
    assert len(files) == 6
    for path in files:
        decoded = decode_audio(path, max_seconds=None)
        assert decoded.source_rate == 48_000 and decoded.container == "wav"
        assert decoded.source_channels == (2 if path.stem in STEREO else 1), path
        assert decoded.seconds == pytest.approx(decoded.full_seconds, abs=0.001)
        reference = decode_audio(
            shared_data / "ravdess-speech-16k" / path.parent.name / f"{path.stem}.flac",
            max_seconds=None,
        ).samples
        ours = decoded.samples
        assert abs(ours.size - reference.size) <= 2, path
        length = min(ours.size, reference.size)
        correlation = np.corrcoef(ours[:length], reference[:length])[0, 1]
        assert correlation > 0.99, (path, correlation)
        assert parse_name(path)["emotion"] == path.stem.split("-")[2]


@pytest.mark.real_data
def test_prepare_and_check_the_real_speech_folder(ravdess_speech, tmp_path, capsys):
    out = tmp_path / "ravdess.csv"
    assert (
        main(["data", "prepare", "ravdess", "--root", str(ravdess_speech), "--out", str(out)]) == 0
    )
    assert "test [17, 18, 19, 20], val [15, 16]" in capsys.readouterr().out
    assert main(["data", "check", str(out), "--labels", "ravdess", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "1200 rows, 1200 usable, 0 bad" in printed
    assert "missing modalities: video 1200, text 0" in printed
    table = {line.split()[0]: line.split()[1:] for line in printed.splitlines()[4:] if line.strip()}
    assert table["label"] == ["train", "val", "test", "total"]
    assert table["neutral"] == ["56", "8", "16", "80"]
    assert table["total"] == ["840", "120", "240", "1200"]


def test_file_name_fields_are_validated():
    assert parse_name("Actor_01/02-01-06-01-02-01-12.mp4")["emotion"] == "06"
    for name, reason in (
        ("03-01-09-01-01-01-01.wav", "unknown emotion code 09"),
        ("04-01-01-01-01-01-01.wav", "unknown modality code 04"),
        ("hello.wav", "does not follow the RAVDESS"),
    ):
        with pytest.raises(ValueError, match=reason):
            parse_name(name)


def test_versions_of_a_recording_merge_and_actors_split_the_data(tmp_path):
    """Audio-only + audio-video twins make one row; a video-only file pairs with its audio-only
    twin; a lonely video-only file and a stray name are reported; song rows can be kept."""

    def add(name, kind):
        folder = tmp_path / f"Actor_{name[-2:]}"
        folder.mkdir(exist_ok=True)
        if kind == "audio":
            return write_audio(folder / f"{name}.wav", tone(0.3, 48_000), 48_000)
        audio = (tone(0.3, 48_000), 48_000) if kind == "av" else None
        return write_video(folder / f"{name}.mp4", [face_image()] * 3, audio=audio)

    for actor in range(1, 11):
        add(f"03-01-03-01-01-01-{actor:02d}", "audio")
        add(f"03-02-04-02-02-01-{actor:02d}", "audio")  # song
    add("01-01-03-01-01-01-01", "av")
    add("02-01-03-01-01-01-02", "video")
    add("02-01-05-01-01-01-03", "video")  # no audio-only twin
    (tmp_path / "Actor_01" / "notes.wav").write_bytes(b"RIFF")
    result = prepare_ravdess(tmp_path, tmp_path / "m.csv", channel="speech")
    rows = {row.id: row for row in result.rows}
    assert len(rows) == 10 and {row.extra["vocal_channel"] for row in rows.values()} == {"speech"}
    merged = rows["01-03-01-01-01-01"]
    assert merged.audio.endswith("03-01-03-01-01-01-01.wav")
    assert merged.video.endswith("01-01-03-01-01-01-01.mp4")
    assert rows["01-03-01-01-01-02"].video.endswith("02-01-03-01-01-01-02.mp4")
    assert (merged.text, merged.label, merged.speaker) == (
        "Kids are talking by the door",
        "happy",
        "Actor_01",
    )
    assert {row.extra["gender"] for row in rows.values()} == {"male", "female"}
    reasons = sorted(problem.reason for problem in result.problems)
    assert reasons == [
        "name does not follow the RAVDESS MM-VV-EE-II-SS-RR-AA convention",
        "video-only recording without an audio-only twin",
    ]
    splits = {row.speaker: row.split for row in rows.values()}
    assert [splits[f"Actor_{a:02d}"] for a in range(1, 11)] == ["train"] * 6 + ["val"] * 2 + [
        "test"
    ] * 2
    everything = prepare_ravdess(tmp_path, tmp_path / "m.csv", test_actors={1}, val_actors={2})
    assert len(everything.rows) == 20 and set(LABEL_SETS["ravdess"]) >= {
        r.label for r in everything.rows
    }
    assert {row.split for row in everything.rows if row.speaker == "Actor_01"} == {"test"}


def test_folds_group_whole_actors_for_speaker_independent_cv(tmp_path):
    """--folds 3 over 10 actors: every actor's clips in one fold, folds of 4/3/3 actors, and
    `cv --protocol loso`'s fold_names sees exactly folds 1-3."""
    from wavfusion.training.cv import fold_names

    for actor in range(1, 11):
        folder = tmp_path / f"Actor_{actor:02d}"
        folder.mkdir()
        for emotion in ("01", "05"):
            write_audio(folder / f"03-01-{emotion}-01-01-01-{actor:02d}.wav", tone(0.2, 16_000),
                        16_000)
    result = prepare_ravdess(tmp_path, tmp_path / "m.csv", folds=3)
    fold_of_actor = {}
    for row in result.rows:
        assert fold_of_actor.setdefault(row.speaker, row.extra["fold"]) == row.extra["fold"]
    assert Counter(fold_of_actor.values()) == {"1": 4, "2": 3, "3": 3}
    assert fold_names(result.rows, "loso") == ["1", "2", "3"]
    with pytest.raises(ValueError, match="--folds"):
        prepare_ravdess(tmp_path, tmp_path / "m.csv", folds=11)
