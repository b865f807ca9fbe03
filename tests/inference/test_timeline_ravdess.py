"""The timeline on real speech: RAVDESS clips joined by pauses of low noise, each clip found as
one segment and predicted as `predict` predicts the audio it heard (the segment and its
context); `--transcribe` gives each segment its own words."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from tests.asr.test_transcribe import RAVDESS_STATEMENTS, words
from tests.data.clips import write_audio
from tests.inference.test_timeline import check_segments_match_clips
from wavfusion.data.media import load_audio
from wavfusion.data.synthetic.samples import write_recording

EVERY = 50  # 24 of the 1200 clips: all 20 actors, every emotion, both statements
SHARE = 0.95  # of the clips found as exactly one segment
TRANSCRIBED = 6  # clips in the --transcribe recording


def ravdess_clips(shared_data: Path, every: int) -> list[Path]:
    return sorted((shared_data / "ravdess-speech-16k").glob("Actor_*/*.flac"))[::every]


@pytest.fixture(scope="module")
def ravdess_recording(shared_data, tmp_path_factory) -> tuple[Path, list, list[Path]]:
    """A ~2-min WAV of 24 RAVDESS clips with 0.5-2 s of low noise after each; their spans."""
    clips = ravdess_clips(shared_data, EVERY)
    path = tmp_path_factory.mktemp("ravdess-timeline") / "recording.wav"
    spans = write_recording(path, (load_audio(clip) for clip in clips), seed=1)
    return path, spans, clips


@pytest.mark.real_data
def test_each_ravdess_clip_is_one_segment_predicted_as_its_audio(predictor, ravdess_recording,
                                                                 tmp_path):
    path, spans, _ = ravdess_recording
    segments = predictor.predict_timeline(path, "vad")["segments"]
    check_segments_match_clips(segments, spans, share=SHARE)
    for number, segment in enumerate(segments):
        alone = tmp_path / f"segment{number}.wav"
        samples = load_audio(path, start=segment["heard"][0], end=segment["heard"][1])
        write_audio(alone, samples[None], 16000, codec="pcm_f32le")
        expected = predictor.predict(alone)
        assert segment["label"] == expected["label"], (segment["start"], segment["end"])
        for name, value in segment["probabilities"].items():
            assert math.isclose(value, expected["probabilities"][name], abs_tol=1e-4)


@pytest.mark.real_data
def test_transcribe_gives_each_segment_the_words_of_its_clip(predictor, shared_data, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv("WAVFUSION_CACHE", str(tmp_path))  # a fresh transcript cache
    clips = ravdess_clips(shared_data, EVERY)[:TRANSCRIBED]
    path = tmp_path / "recording.wav"
    spans = write_recording(path, (load_audio(clip) for clip in clips), seed=2)
    timeline = dataclasses.replace(predictor, transcribe=True).predict_timeline(path, "vad")
    check_segments_match_clips(timeline["segments"], spans, share=1.0)
    said = [words(segment["transcript"] or "") for segment in timeline["segments"]]
    # The verb tells the statements apart; tiny.en hears "door" as "tour" now and then, and
    # VAD may miss a quiet first word.
    verbs = [RAVDESS_STATEMENTS[clip.stem.split("-")[4]].split()[2] for clip in clips]
    assert all(verb in got for verb, got in zip(verbs, said)), said
    assert "text" in timeline["modalities"] and timeline["timings"]["transcribe"] > 0
