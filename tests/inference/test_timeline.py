"""The emotion timeline of a long recording: segments where the speech is, the JSON / CSV / SRT
shapes, the summary, batching, refusals, the plot, subtitles, bad input."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.data.clips import face_image, tone, write_audio, write_video
from wavfusion.cli import main
from wavfusion.data.media import load_audio
from wavfusion.data.synthetic.samples import write_recording
from wavfusion.inference import PredictionError
from wavfusion.inference.segments import DEFAULT_CONTEXT, Segment, heard_spans
from wavfusion.inference.timeline import TimelineOptions, TimelineRefused

SLACK = 0.25  # seconds a segment may reach past its clip's span at each end
SEGMENT_FIELDS = {"start", "end", "heard", "label", "score", "probabilities", "transcript", "gates"}
CLIPS = 8


@pytest.fixture(scope="module")
def recording(sample_rows, tmp_path_factory) -> tuple[Path, list[tuple[float, float]]]:
    """A ~35-s WAV: the sample voice clip 8 times with 0.5-2 s pauses of low noise between;
    with the span of each clip."""
    voice = load_audio(sample_rows["wav"].extra["path"])
    path = tmp_path_factory.mktemp("timeline") / "recording.wav"
    repeated = np.concatenate([voice] * 4)  # 3.2 s: the 0.8-s sample said four times
    spans = write_recording(path, [repeated * (0.5 + 0.1 * k) for k in range(CLIPS)], seed=3)
    return path, spans


def check_segments_match_clips(segments: list[dict], spans: list[tuple[float, float]],
                               share: float) -> None:
    """At least `share` of the clips overlap exactly one segment; no segment spans two clips;
    every segment lies inside its clip's span (SLACK each end)."""
    def overlaps(segment, span):
        return min(segment["end"], span[1]) - max(segment["start"], span[0]) > 0

    found = sum(sum(overlaps(segment, span) for segment in segments) == 1 for span in spans)
    assert found >= share * len(spans), (found, len(spans))
    for segment in segments:
        touched = [span for span in spans if overlaps(segment, span)]
        assert len(touched) == 1, (segment["start"], segment["end"], touched)
        assert touched[0][0] - SLACK <= segment["start"] and segment["end"] <= touched[0][1] + SLACK


def test_speech_segments_are_found_where_the_speech_is(predictor, recording):
    path, spans = recording
    timeline = predictor.predict_timeline(path, segments="vad")
    assert timeline["segmentation"] == "vad"
    assert len(timeline["segments"]) == CLIPS
    check_segments_match_clips(timeline["segments"], spans, share=1.0)


def test_json_shape_and_summary_by_speaking_time(predictor, recording):
    path, _ = recording
    timeline = predictor.predict_timeline(path)  # auto: longer than max_seconds? no: 35 > 30
    assert timeline["segmentation"] == "vad"
    assert math.isclose(timeline["duration"], load_audio(path, max_seconds=None).size / 16000,
                        abs_tol=1e-3)
    for segment in timeline["segments"]:
        assert set(segment) == SEGMENT_FIELDS
        assert list(segment["probabilities"]) == predictor.labels
        assert math.isclose(sum(segment["probabilities"].values()), 1.0, abs_tol=1e-4)
        assert segment["score"] == segment["probabilities"][segment["label"]]
        assert segment["gates"] == [None, None]  # audio only: no gate
    summary = timeline["summary"]
    assert math.isclose(sum(summary["shares"].values()), 1.0, abs_tol=1e-3)
    assert summary["segments"] == len(timeline["segments"])
    assert summary["dominant"] == max(summary["shares"], key=summary["shares"].get)
    seconds = sum(s["end"] - s["start"] for s in timeline["segments"]
                  if s["label"] == summary["dominant"])
    assert math.isclose(summary["shares"][summary["dominant"]],
                        seconds / summary["speech_seconds"], abs_tol=1e-3)
    assert {"decode", "vad", "encoders", "model", "total"} <= set(timeline["timings"])
    json.loads(json.dumps(timeline, allow_nan=False))


def test_segments_are_predicted_in_batches(predictor, recording, monkeypatch):
    path, _ = recording
    calls = []
    forward = type(predictor)._forward
    monkeypatch.setattr(type(predictor), "_forward",
                        lambda self, items: calls.append(len(items)) or forward(self, items))
    predictor.predict_timeline(path, "vad", TimelineOptions(batch_size=16))
    assert calls == [CLIPS]  # one forward for all the segments
    calls.clear()
    predictor.predict_timeline(path, "vad", TimelineOptions(batch_size=3))
    assert calls == [3, 3, 2]


def test_a_segment_gets_what_predict_gives_the_audio_it_heard(predictor, recording, tmp_path):
    path, _ = recording
    segments = predictor.predict_timeline(path, "vad")["segments"]
    segment = segments[2]
    start, end = segment["heard"]  # the segment and up to `context` s around it
    gap_before = segment["start"] - segments[1]["end"]
    assert start == pytest.approx(max(segment["start"] - DEFAULT_CONTEXT,
                                      segment["start"] - gap_before / 2), abs=1e-3)
    assert segment["start"] - start > 0 and end - segment["end"] > 0
    alone = tmp_path / "segment.wav"
    samples = load_audio(path, start=start, end=end)
    write_audio(alone, samples[None], 16000, codec="pcm_f32le")
    expected = predictor.predict(alone)["probabilities"]
    for name, value in segment["probabilities"].items():
        assert math.isclose(value, expected[name], abs_tol=1e-4)


def test_fixed_windows_cover_the_recording(predictor, recording):
    path, _ = recording
    timeline = predictor.predict_timeline(path, "fixed")
    starts = [segment["start"] for segment in timeline["segments"]]
    assert starts[:3] == [0.0, 4.0, 8.0]  # 5-s windows, 1 s overlap
    assert timeline["segments"][-1]["end"] == timeline["duration"]
    assert all(s["end"] - s["start"] == pytest.approx(5.0) for s in timeline["segments"])
    # overlapping windows are heard as they are, but for the first's start and the last's end
    assert all(s["heard"] == [s["start"], s["end"]] for s in timeline["segments"][1:-1])


def test_heard_spans_stop_half_way_to_a_neighbour_and_within_the_longest():
    segments = [Segment(0.3, 2.0), Segment(2.4, 5.0), Segment(8.0, 9.0)]
    heard = heard_spans(segments, duration=9.2, context=0.5)
    assert heard == [Segment(0.0, 2.2), Segment(2.2, 5.5), Segment(7.5, 9.2)]
    assert heard_spans(segments, 9.2, 0.5, longest=2.8)[1] == Segment(2.3, 5.1)
    assert heard_spans(segments, 9.2, 0.0) == segments


def test_cli_csv_and_srt(tiny_run, recording, capsys):
    path, _ = recording
    assert main(["predict", str(path), "--model", str(tiny_run), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == CLIPS
    assert {"file", "start", "end", "label", "score", "transcript", "gate_1"} <= set(rows[0])
    assert main(["predict", str(path), "--model", str(tiny_run), "--format", "srt"]) == 0
    blocks = capsys.readouterr().out.strip().split("\n\n")
    assert len(blocks) == CLIPS
    number, timing, text = blocks[0].split("\n")
    assert number == "1" and " --> " in timing and timing.startswith("00:00:0")
    assert text.startswith("[") and text.split()[0][1:] in rows[0]["label"]


def test_cli_plot_is_a_png(tiny_run, recording, tmp_path, capsys):
    path, _ = recording
    plot = tmp_path / "timeline.png"
    assert main(["predict", str(path), "--model", str(tiny_run), "--plot", str(plot)]) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(capsys.readouterr().out)["summary"]["segments"] == CLIPS


def test_too_long_is_refused_naming_the_limit_and_the_flag(predictor, tiny_run, recording,
                                                           capsys):
    path, _ = recording
    with pytest.raises(TimelineRefused, match=r"--max-duration"):
        predictor.predict_timeline(path, "vad", TimelineOptions(max_duration=10.0))
    assert main(["predict", str(path), "--model", str(tiny_run), "--segments", "off"]) == 1
    err = capsys.readouterr().err
    assert "longer than the 30 s the model hears at once (max_seconds)" in err
    assert "--segments auto, vad or fixed" in err


def test_subtitles_are_placed_on_segments(predictor, recording, tmp_path):
    path, spans = recording
    subtitles = tmp_path / "talk.vtt"
    middle = (spans[1][0] + spans[1][1]) / 2
    subtitles.write_text("WEBVTT\n\n00:00.500 --> 00:02.000\n<i>first</i> words\n\n"
                         f"00:00:{middle:06.3f} --> 00:00:{middle + 0.5:06.3f}\nsecond\n")
    timeline = predictor.predict_timeline(path, "vad", subtitles=subtitles)
    texts = [segment["transcript"] for segment in timeline["segments"]]
    assert texts[:3] == ["first words", "second", None]
    assert "text" in timeline["modalities"]
    assert timeline["segments"][0]["gates"] == [1.0, 1.0]  # text alone drives the fusion


def test_a_recording_without_speech_gives_no_segments(predictor, tmp_path):
    path = write_audio(tmp_path / "hum.wav", tone(40.0, 16000, amplitude=0.01), 16000)
    timeline = predictor.predict_timeline(path)
    assert timeline["segments"] == [] and timeline["summary"]["dominant"] is None
    assert timeline["notes"] == ["no speech found: no segments"]


def test_a_stream_cut_short_keeps_the_segments_before_the_break(predictor, recording,
                                                                 tmp_path):
    path, spans = recording
    flac = write_audio(tmp_path / "whole.flac", load_audio(path, max_seconds=None)[None], 16000,
                       codec="flac")
    cut = tmp_path / "cut.flac"  # a download cut off: STREAMINFO still says the whole length
    cut.write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    timeline = predictor.predict_timeline(cut, "vad")
    kept = [span for span in spans if span[1] < timeline["duration"] - SLACK]
    assert 0 < len(kept) < CLIPS and len(timeline["segments"]) >= len(kept)
    check_segments_match_clips(timeline["segments"][: len(kept)], kept, share=1.0)
    assert timeline["notes"] == [(f"the audio stream breaks at {timeline['duration']:.1f} s "
                                 "(Invalid data found when processing input): the segments "
                                 "before it are kept")]


def test_a_decoding_error_mid_stream_ends_the_scan_with_its_reason(recording, monkeypatch):
    from wavfusion.data import media
    from wavfusion.inference import recording as module

    path, _ = recording
    decode = media.decode_audio

    def failing(*args, start=None, **kwargs):
        decoded = decode(*args, start=start, **kwargs)
        if start and start >= 10.0:
            decoded.stopped_by = "Invalid data found when processing input"
        return decoded

    monkeypatch.setattr(module.media, "decode_audio", failing)
    scanned = module.scan(path, module.SileroVAD(), 1e9, block_seconds=5.0)
    assert scanned.duration == pytest.approx(15.0)
    assert scanned.stopped_by == "Invalid data found when processing input"
    assert scanned.probabilities.size == scanned.energy.size == math.ceil(15.0 * 16000 / 512)


def test_a_video_without_audio_is_refused_with_the_reason(predictor, tmp_path):
    video = write_video(tmp_path / "silent.mp4", [face_image()] * 10)
    with pytest.raises(PredictionError, match="no audio stream"):
        predictor.predict_timeline(video)
