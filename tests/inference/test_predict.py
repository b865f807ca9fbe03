"""`Predictor.predict` and `wavfusion predict`: fields, missing modalities, the cached path's
probabilities, bad files, transcripts CSV, table format."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from wavfusion.cli import main
from wavfusion.data.manifest import read_manifest
from wavfusion.data.synthetic.samples import write_recording
from wavfusion.features.settings import ExtractionOptions
from wavfusion.inference import ClipTooLong, PredictionError, Predictor
from wavfusion.inference.run_features import RunMismatchError, read_run_features
from wavfusion.model.wavfusion import WavFusion
from wavfusion.training.datamodule import EmotionDataModule
from wavfusion.training.features import open_or_extract_cache
from wavfusion.training.module import predict as predict_loader

FIELDS = {"file", "label", "probabilities", "modalities", "missing", "transcript",
          "transcript_source", "gates", "gates_note", "timings"}
STAGES = {"decode", "encoders", "model", "total"}


def _refuse_nan(constant: str):
    raise AssertionError(f"{constant} in JSON output")


def _check_fields(result: dict, labels: list[str]) -> None:
    assert set(result) == FIELDS
    assert list(result["probabilities"]) == labels
    assert math.isclose(sum(result["probabilities"].values()), 1.0, abs_tol=1e-5)
    assert result["label"] == max(result["probabilities"], key=result["probabilities"].get)
    assert set(result["timings"]) >= STAGES and all(v >= 0 for v in result["timings"].values())
    json.loads(json.dumps(result, allow_nan=False))  # valid JSON, no NaN


def test_audio_only_file_without_transcript_says_what_is_missing(predictor, sample_rows):
    result = predictor.predict(sample_rows["wav"].extra["path"])
    _check_fields(result, predictor.labels)
    assert result["modalities"] == ["audio"]
    assert result["missing"] == {"text": "no transcript given", "visual": "audio-only file"}
    assert result["transcript"] is None and result["transcript_source"] is None
    assert result["gates"] == [None, None]  # two deep layers, no gate without text and video
    assert "neither text nor video" in result["gates_note"]


def test_audio_file_with_transcript_uses_text(predictor, sample_rows):
    row = sample_rows["wav"]
    result = predictor.predict(row.extra["path"], transcript=row.text)
    assert result["modalities"] == ["audio", "text"]
    assert result["missing"] == {"visual": "audio-only file"}
    assert result["transcript"] == row.text and result["transcript_source"] == "given"
    assert result["gates"] == [1.0, 1.0]  # text alone drives the fusion


def test_video_file_uses_its_audio_track_and_face_frames(predictor, sample_rows):
    row = sample_rows["mp4"]
    result = predictor.predict(row.extra["path"], transcript=row.text)
    _check_fields(result, predictor.labels)
    assert result["modalities"] == ["audio", "text", "visual"] and result["missing"] == {}
    assert len(result["gates"]) == 2 and all(0.0 < g < 1.0 for g in result["gates"])
    without_text = predictor.predict(row.extra["path"])
    assert without_text["modalities"] == ["audio", "visual"]
    assert without_text["missing"] == {"text": "no transcript given"}
    assert without_text["gates"] == [0.0, 0.0]  # video alone drives the fusion


def test_probabilities_equal_the_cached_evaluation_path(predictor, sample_rows, tiny_run,
                                                        tmp_path):
    """What `evaluate` computes for the same clips from a feature cache (extracted in batches,
    stored in float16, read back, collated): the same probabilities to 1e-3."""
    folder = Path(sample_rows["wav"].extra["path"]).parents[1]  # folder/audio/clip.wav
    manifest = read_manifest(folder / "manifest.csv")
    model = WavFusion.from_pretrained(tiny_run)
    cache, raw_audio = open_or_extract_cache(manifest, model, tmp_path / "cache", False,
                                             progress=False)
    data = EmotionDataModule(manifest, manifest.rows, predictor.labels, cache, raw_audio, 2)
    reference, _, ids = predict_loader(model, data.loader("test"))
    assert reference.max(1).min() - reference.min(1).max() > 0.1  # far from uniform
    for row in sample_rows.values():
        result = predictor.predict(row.extra["path"], transcript=row.text)
        expected = reference[ids.index(row.id)]
        found = np.array([result["probabilities"][name] for name in predictor.labels])
        np.testing.assert_allclose(found, expected, atol=1e-3, err_msg=row.id)


def test_bad_file_raises_an_error_naming_it(predictor, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00not really a wave file" * 10)
    for path, reason in ((tmp_path / "absent.wav", "file not found"), (broken, "")):
        with pytest.raises(PredictionError, match=path.name) as caught:
            predictor.predict(path)
        assert reason in caught.value.reason and caught.value.reason


def test_a_clip_longer_than_max_seconds_is_refused_not_cut(predictor, tmp_path, monkeypatch):
    limit = predictor.encoders.options.max_seconds
    long_clip = tmp_path / "long.wav"
    noise = np.random.default_rng(0).normal(0, 0.05, int((limit + 1) * 16_000))
    write_recording(long_clip, [noise.astype(np.float32)], gap_seconds=(0.0, 0.0))
    with pytest.raises(ClipTooLong, match=r"long\.wav.*31\.0 s.*30 s .*predict_timeline"):
        predictor.predict(long_clip)
    # A container that declares no duration: the decoded length tells.
    monkeypatch.setattr("wavfusion.inference.clip.declared_seconds", lambda path: None)
    with pytest.raises(ClipTooLong, match="--segments auto"):
        predictor.predict(long_clip)


def test_cli_predicts_the_good_files_and_reports_the_bad_ones(tiny_run, sample_rows, tmp_path,
                                                              capsys):
    wav, mp4 = (sample_rows[kind].extra["path"] for kind in ("wav", "mp4"))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 512)
    transcripts = tmp_path / "transcripts.csv"
    with transcripts.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([  # one file by base name, one by full path
            ["file", "transcript"], [Path(mp4).name, sample_rows["mp4"].text],
            [wav, sample_rows["wav"].text]])
    code = main(["predict", wav, str(tmp_path / "absent.wav"), str(broken), mp4,
                 "--model", str(tiny_run), "--transcripts", str(transcripts)])
    out, err = capsys.readouterr()
    assert code == 1
    results = [json.loads(line, parse_constant=_refuse_nan) for line in out.splitlines()]
    assert [r["file"] for r in results] == [wav, mp4]
    assert [r["transcript"] for r in results] == [sample_rows["wav"].text,
                                                  sample_rows["mp4"].text]
    assert results[1]["modalities"] == ["audio", "text", "visual"]
    assert "absent.wav: file not found" in err and "broken.mp4" in err
    assert "2 of 4 files predicted; 2 failed" in err


def test_cli_table_format(tiny_run, sample_rows, capsys):
    wav, mp4 = (sample_rows[kind].extra["path"] for kind in ("wav", "mp4"))
    assert main(["predict", wav, mp4, "--model", str(tiny_run), "--format", "table"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert header[:2] == ["file", "label"] and "seconds" in header
    assert all(name in header for name in WavFusion.from_pretrained(tiny_run).config.labels)
    assert lines[1].startswith(wav) and lines[2].startswith(mp4)
    assert "audio+visual" in lines[2]
    assert lines[3] == f"{wav}: no text (no transcript given); no visual (audio-only file)"
    assert lines[4] == f"{mp4}: no text (no transcript given)"


def test_cli_refuses_one_transcript_for_several_files(tiny_run, sample_rows, capsys):
    wav, mp4 = (sample_rows[kind].extra["path"] for kind in ("wav", "mp4"))
    assert main(["predict", wav, mp4, "--model", str(tiny_run), "--transcript", "hi"]) == 2
    assert "--transcripts CSV" in capsys.readouterr().err


def test_cli_names_a_wrong_asr_model_folder(tiny_run, sample_rows, tmp_path, capsys):
    wav = str(sample_rows["wav"].extra["path"])
    assert main(["predict", wav, "--model", str(tiny_run), "--transcribe",
                 "--asr-model", str(tmp_path)]) == 2
    assert "not a CTranslate2 Whisper folder (no model.bin)" in capsys.readouterr().err


def test_a_run_trained_on_other_encoders_is_refused(tiny_run, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("config.json", "model.safetensors", "run.json"):
        shutil.copy(tiny_run / name, run / name)
    record = json.loads((run / "run.json").read_text())
    record["features"]["text_fingerprint"] = "0" * 64
    (run / "run.json").write_text(json.dumps(record))
    with pytest.raises(RunMismatchError, match="text_fingerprint: here .* trained with 000000"):
        Predictor.from_run(run)


def test_feature_settings_come_from_run_json_then_the_cache_then_defaults(tiny_run, tmp_path):
    assert read_run_features(tiny_run).source == str(tiny_run / "run.json")
    record = json.loads((tiny_run / "run.json").read_text())
    del record["features"]
    (tmp_path / "run.json").write_text(json.dumps({**record, "cache": str(tiny_run / "cache")}))
    from_cache = read_run_features(tmp_path)
    assert from_cache.source.endswith("cache.json")
    assert from_cache.settings == read_run_features(tiny_run).settings
    unknown = read_run_features(tmp_path / "nowhere")
    assert unknown.settings is None and "default encoders assumed" in unknown.source
    assert unknown.options == ExtractionOptions()


@pytest.mark.real_data
def test_transcribe_fills_a_missing_transcript(predictor, shared_data, monkeypatch, tmp_path):
    from tests.asr.test_transcribe import RAVDESS_STATEMENTS, words

    monkeypatch.setenv("WAVFUSION_CACHE", str(tmp_path))  # a fresh transcript cache
    # as published: 48 kHz stereo WAV, statement 02 ("Dogs are sitting by the door")
    clip = shared_data / "ravdess-original-wav" / "Actor_01" / "03-01-08-01-02-02-01.wav"
    result = dataclasses.replace(predictor, transcribe=True).predict(clip)
    assert result["transcript_source"] == "transcribed" and "text" in result["modalities"]
    assert words(result["transcript"]) == RAVDESS_STATEMENTS[clip.stem.split("-")[4]].split()
    assert "transcribe" in result["timings"] and "text" not in result["missing"]
