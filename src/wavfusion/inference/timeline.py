"""The emotion timeline of a recording of any length: segments, each predicted, a summary.

    timeline = predictor.predict_timeline("call.wav")        # or segments="vad"/"fixed"/"off"
    timeline["segments"][0]   # {start, end, heard, label, score, probabilities, transcript,
                              #  gates}
    timeline["summary"]       # {shares (by speaking time, sum 1), dominant, segments, ...}

Steps (each timed in `timings`):
1. the declared duration is read; a file longer than `max_duration` is refused up front
   (TimelineRefused, naming the limit and its option), as is `off` on a file longer than the
   model's `max_seconds`: nothing is truncated silently;
2. `scan` (recording.py) streams the audio once: its real duration and, for `vad`, Silero's
   speech probability per 32-ms chunk; segments.py cuts the segments from them;
3. per batch of `batch_size` segments: what the model hears of each segment decoded again
   (the segment with up to `context` s around it: segments.heard_spans), its face frames
   sampled over that span as training samples a clip, its transcript (cues
   of `subtitles` placed on it, or Whisper run on the segment, in a 10-s window, when the
   predictor transcribes), then the frozen encoders and one WavFusion forward for the whole batch.
A stream that breaks keeps the segments before the break, with a note naming the error.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from wavfusion.asr.vad import CHUNK_SECONDS, SileroVAD
from wavfusion.data import media
from wavfusion.data.errors import DataError
from wavfusion.data.manifest import ManifestRow
from wavfusion.features.extract import DecodedRow, encode_part
from wavfusion.inference.predictor import PredictionError
from wavfusion.inference.recording import declared_seconds, scan, segment_audio
from wavfusion.inference.result import gate_means, gate_note, json_safe
from wavfusion.inference.segments import (
    MODES,
    Segment,
    SegmentOptions,
    TimelineOptions,
    fixed_segments,
    heard_spans,
    speech_segments,
)
from wavfusion.inference.subtitles import place_cues, read_cues

if TYPE_CHECKING:
    from wavfusion.inference.predictor import Predictor

SHARE_DIGITS = 4
SHORT_BY = 0.5  # seconds: a stream shorter than declared by more has broken off
# Whisper's window for a segment (longer segments: their own length): the encoder's cost is
# about a quarter of the 30-s window's, for the same RAVDESS words (docs/timeline.md).
ASR_WINDOW_SECONDS = 10


class TimelineRefused(PredictionError):
    """A recording the timeline will not take (too long for the chosen segmentation)."""


def _timed(timings: dict[str, float], name: str, started: float) -> None:
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - started


def resolve_mode(mode: str, seconds: float | None, model_seconds: float) -> str:
    """`auto` -> `vad` for a recording longer than the model's `max_seconds` (or of unknown
    length), else `off`; other modes as given."""
    if mode not in MODES:
        raise ValueError(f"segments must be one of {', '.join(MODES)}, got {mode!r}")
    if mode != "auto":
        return mode
    return "vad" if seconds is None or seconds > model_seconds else "off"


def _check_length(path, seconds: float | None, mode: str, options: TimelineOptions,
                  model_seconds: float) -> None:
    """TimelineRefused when `seconds` is more than this mode takes (see the module docs)."""
    if seconds is None:
        return
    if seconds > options.max_duration:
        raise TimelineRefused(path, f"the recording lasts {seconds:.1f} s, longer than the "
                              f"{options.max_duration:g} s taken (--max-duration)")
    if mode == "off" and seconds > model_seconds:
        raise TimelineRefused(path, f"the recording lasts {seconds:.1f} s, longer than the "
                              f"{model_seconds:g} s the model hears at once (max_seconds); "
                              "cut it with --segments auto, vad or fixed")


def _cut(path, mode: str, options: TimelineOptions, model_seconds: float,
         timings: dict[str, float]) -> tuple[float, list[Segment], str | None]:
    """Duration, segments and why the stream stopped early (None if it did not)."""
    recording = scan(path, SileroVAD() if mode == "vad" else None, options.max_duration)
    timings["decode"] = timings.get("decode", 0.0) + recording.decode_seconds
    timings["vad"] = recording.vad_seconds
    duration = recording.duration
    _check_length(path, duration, mode, options, model_seconds)
    if mode == "off":
        return duration, [Segment(0.0, round(duration, 3))], recording.stopped_by
    if mode == "fixed":
        if options.cut.window > model_seconds:
            raise TimelineRefused(path, f"--window {options.cut.window:g} s is longer than the "
                                  f"{model_seconds:g} s the model hears at once")
        return duration, fixed_segments(duration, options.cut), recording.stopped_by
    cut = options.cut
    if cut.max_seconds > model_seconds:
        cut = SegmentOptions(**{**cut.__dict__, "max_seconds": model_seconds})
    segments = speech_segments(recording.probabilities, recording.energy, CHUNK_SECONDS,
                               duration, cut)
    return duration, segments, recording.stopped_by


def _transcripts(predictor: Predictor, segments: list[Segment], waves: list[np.ndarray],
                 cues: list | None) -> list[str | None]:
    """The transcript of each segment of a batch: its subtitle cues, else Whisper (when the
    predictor transcribes), else None."""
    if "text" not in predictor.model.config.modalities:
        return [None] * len(segments)
    if cues is not None:
        return place_cues(cues, segments)
    if not predictor.transcribe:
        return [None] * len(segments)
    from wavfusion.asr.transcribe import transcribe

    texts = transcribe(waves, language=predictor.language, model_folder=predictor.asr_model,
                       window_seconds=ASR_WINDOW_SECONDS)
    return [text or None for text in texts]


def _predict_batch(predictor: Predictor, path: Path, segments: list[Segment],
                   heard: list[Segment], video: bool, cues: list | None,
                   timings: dict[str, float]) -> list[dict[str, Any]]:
    """Decode, transcribe, encode and predict one batch of segments (one forward) from what
    the model hears of each (`heard`, the segments with their context)."""
    options = predictor.encoders.options
    started = time.perf_counter()
    waves = [segment_audio(path, span.start, span.end) for span in heard]
    frames = [media.load_frames(path, options.frames_per_clip, start=span.start,
                                end=span.end, crop_faces=options.crop_faces,
                                size=options.frame_size) if video else None
              for span in heard]
    _timed(timings, "decode", started)
    started = time.perf_counter()
    texts = _transcripts(predictor, segments, waves, cues)
    if predictor.transcribe and cues is None:
        _timed(timings, "transcribe", started)
    decoded = [DecodedRow(ManifestRow(id=f"{path.name}@{segment.start:.3f}", audio=str(path),
                                      text=text or ""), wave, frame)
               for segment, wave, frame, text in zip(segments, waves, frames, texts)]
    started = time.perf_counter()
    encoded = encode_part(decoded, predictor.encoders, len(decoded))
    _timed(timings, "encoders", started)
    started = time.perf_counter()
    output = predictor._forward([(wave, arrays) for wave, (_, _, arrays) in zip(waves, encoded)])
    probabilities = torch.softmax(output.logits.float(), dim=-1).tolist()
    _timed(timings, "model", started)
    labels, results = predictor.labels, []
    for row, (segment, span, text) in enumerate(zip(segments, heard, texts)):
        mask = None if output.audio_mask is None else output.audio_mask[row : row + 1]
        best = max(range(len(labels)), key=probabilities[row].__getitem__)
        results.append({
            "start": segment.start, "end": segment.end, "heard": [span.start, span.end],
            "label": labels[best],
            "score": round(probabilities[row][best], 6),
            "probabilities": {name: round(value, 6)
                              for name, value in zip(labels, probabilities[row])},
            "transcript": text,
            "gates": gate_means([gate[row : row + 1] for gate in output.gates], mask),
        })
    return results


def summarise(segments: list[dict[str, Any]], labels: list[str]) -> dict[str, Any]:
    """Shares of each emotion by speaking time (segment seconds with that label over all
    segment seconds: sum 1 when there are segments), the dominant one, the count."""
    seconds = {label: 0.0 for label in labels}
    for segment in segments:
        seconds[segment["label"]] += segment["end"] - segment["start"]
    total = sum(seconds.values())
    shares = {label: round(value / total, SHARE_DIGITS) if total else 0.0
              for label, value in seconds.items()}
    return {"shares": shares, "dominant": max(seconds, key=seconds.get) if total else None,
            "segments": len(segments), "speech_seconds": round(total, 3)}


def predict_timeline(predictor: Predictor, path: str | Path, segments: str = "auto",
                     options: TimelineOptions | None = None,
                     subtitles: str | Path | None = None) -> dict[str, Any]:
    """See `Predictor.predict_timeline` and the module docstring."""
    options = options or TimelineOptions()
    path, timings, started = Path(path), {}, time.perf_counter()
    model_seconds = predictor.encoders.options.max_seconds
    try:
        declared = declared_seconds(path)
        mode = resolve_mode(segments, declared, model_seconds)
        _check_length(path, declared, mode, options, model_seconds)
        video = media.has_video(path) and "visual" in predictor.model.config.modalities
        cues = read_cues(subtitles) if subtitles is not None else None
        duration, cut, stopped_by = _cut(path, mode, options, model_seconds, timings)
        if stopped_by is None and declared is not None and duration < declared - SHORT_BY:
            stopped_by = f"no audio after it, though the file declares {declared:.1f} s"
    except TimelineRefused:
        raise
    except DataError as error:
        raise PredictionError(path, error.reason) from error
    notes = []
    if stopped_by is not None:
        notes.append(f"the audio stream breaks at {duration:.1f} s ({stopped_by}): the "
                     "segments before it are kept")
    if not cut:
        notes.append("no speech found: no segments")
    results: list[dict[str, Any]] = []
    heard = heard_spans(cut, duration, options.context if mode != "off" else 0.0,
                        longest=model_seconds)
    for first in range(0, len(cut), options.batch_size):
        batch = slice(first, first + options.batch_size)
        results += _predict_batch(predictor, path, cut[batch], heard[batch], video, cues,
                                  timings)
    used = [name for name in predictor.model.config.modalities
            if name == "audio" or (name == "visual" and video)
            or (name == "text" and any(segment["transcript"] for segment in results))]
    timings["total"] = time.perf_counter() - started
    return json_safe({
        "file": str(path), "duration": round(duration, 3), "segmentation": mode,
        "labels": predictor.labels, "modalities": used,
        "segments": results, "summary": summarise(results, predictor.labels),
        "gates_note": gate_note(used, len(results[0]["gates"]) if results else 0),
        "notes": notes,
        "timings": {name: round(value, 4) for name, value in timings.items()},
    })


__all__ = ["MODES", "TimelineOptions", "TimelineRefused", "predict_timeline", "resolve_mode",
           "summarise"]
