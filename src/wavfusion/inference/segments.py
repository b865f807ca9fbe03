"""Cutting a recording into the segments a timeline predicts: speech regions or fixed windows.

- `speech_segments`: Silero VAD's speech probability per 32-ms chunk -> utterance segments.
  A chunk is speech from `threshold` up, and stays speech down to `threshold - HYSTERESIS`
  (no flicker at a region's edge); a region ends at its last chunk above `threshold`. Regions closer than `merge_gap` are merged, padded by
  `padding` on each side (never past the middle of the gap to a neighbour), dropped when
  shorter than `min_seconds`, and a region longer than `max_seconds` is split at its quietest
  chunk (lowest energy, at least `min_seconds` from each end), again until every piece fits.
- `fixed_segments`: windows of `window` seconds every `window - overlap` seconds, the last
  one ending at the recording's end (for audio that is not speech-like).
- `heard_spans`: what the model hears of each segment: the segment and up to `context`
  seconds of the sound around it, never past the middle of the gap to a neighbour. A clip
  the model was trained on has its margins of silence; a segment cut to the speech does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

HYSTERESIS = 0.15  # Silero's own rule: speech ends below threshold - 0.15
SECONDS_DIGITS = 3


@dataclass(frozen=True)
class SegmentOptions:
    """How a recording is cut (seconds). `window`/`overlap` are for `fixed`, the rest for
    `vad`; `max_seconds` is also the longest segment the model is given."""

    min_seconds: float = 0.5
    max_seconds: float = 15.0
    padding: float = 0.2
    merge_gap: float = 0.4
    threshold: float = 0.5
    window: float = 5.0
    overlap: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.min_seconds <= self.max_seconds:
            raise ValueError(f"need 0 < min_seconds <= max_seconds, got {self.min_seconds} "
                             f"and {self.max_seconds}")
        if self.padding < 0 or self.merge_gap < 0:
            raise ValueError("padding and merge_gap must not be negative")
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")
        if not 0 <= self.overlap < self.window:
            raise ValueError(f"need 0 <= overlap < window, got {self.overlap} and {self.window}")


@dataclass(frozen=True)
class Segment:
    """A stretch `[start, end)` of the recording, in seconds."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def fixed_segments(duration: float, options: SegmentOptions) -> list[Segment]:
    """Windows of `options.window` s, `options.overlap` s overlapping, covering `[0,
    duration]`; the last starts so that it ends at `duration` (one window if shorter)."""
    if duration <= options.window:
        return [Segment(0.0, round(duration, SECONDS_DIGITS))] if duration > 0 else []
    step = options.window - options.overlap
    starts = list(np.arange(0.0, duration - options.window, step))
    starts.append(duration - options.window)
    return [Segment(round(float(start), SECONDS_DIGITS),
                    round(float(start) + options.window, SECONDS_DIGITS)) for start in starts]


def speech_regions(probabilities: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Chunk index ranges `[first, last)` of speech, with hysteresis (module docstring). A
    region ends after its last chunk at or above `threshold`: Silero's probability decays
    over ~0.1 s after the speech stops, and that tail is not speech."""
    regions, start, confident = [], None, 0
    release = threshold - HYSTERESIS
    for index, probability in enumerate(probabilities):
        if probability >= threshold:
            start = index if start is None else start
            confident = index
        elif start is not None and probability < release:
            regions.append((start, confident + 1))
            start = None
    if start is not None:
        regions.append((start, confident + 1))
    return regions


def _split(first: int, last: int, energy: np.ndarray, longest: int, shortest: int) -> list:
    """Chunk range `[first, last)` cut at its quietest chunk until no piece exceeds `longest`."""
    if last - first <= longest:
        return [(first, last)]
    low, high = first + shortest, last - shortest
    if high <= low:  # no room for pieces of `shortest` both sides: cut in the middle
        cut = (first + last) // 2
    else:
        cut = low + int(np.argmin(energy[low:high]))
    return _split(first, cut, energy, longest, shortest) + _split(cut, last, energy, longest,
                                                                   shortest)


def speech_segments(probabilities: np.ndarray, energy: np.ndarray, chunk_seconds: float,
                    duration: float, options: SegmentOptions) -> list[Segment]:
    """Utterance segments from the speech probability `(chunks,)` and the energy `(chunks,)`
    (mean square) of each `chunk_seconds` chunk of a recording of `duration` seconds."""
    merge = options.merge_gap / chunk_seconds
    merged: list[list[int]] = []
    for first, last in speech_regions(probabilities, options.threshold):
        if merged and first - merged[-1][1] < merge:
            merged[-1][1] = last
        else:
            merged.append([first, last])
    # pieces are cut short enough to stay within max_seconds once padded
    longest = max(1, int((options.max_seconds - 2 * options.padding) / chunk_seconds))
    shortest = max(1, int(options.min_seconds / chunk_seconds))
    pieces = [piece for first, last in merged
              for piece in _split(first, last, energy, longest, shortest)]
    segments: list[Segment] = []
    for number, (first, last) in enumerate(pieces):
        start, end = first * chunk_seconds, last * chunk_seconds
        before = pieces[number - 1][1] * chunk_seconds if number else 0.0
        after = pieces[number + 1][0] * chunk_seconds if number + 1 < len(pieces) else duration
        start, end = widened(start, end, before, after, options.padding)
        start, end = max(start, 0.0), min(end, duration)
        if end - start >= options.min_seconds:
            segments.append(Segment(round(start, SECONDS_DIGITS), round(end, SECONDS_DIGITS)))
    return segments


def widened(start: float, end: float, before: float, after: float,
            by: float) -> tuple[float, float]:
    """`[start, end]` widened by `by` seconds on each side, never past the middle of the gap to
    the neighbour that ends at `before` or the one that starts at `after` (and never narrowed
    where a neighbour overlaps it)."""
    return (max(start - by, min(start, (before + start) / 2)),
            min(end + by, max(end, (end + after) / 2)))


def heard_spans(segments: list[Segment], duration: float, context: float,
                longest: float | None = None) -> list[Segment]:
    """Each segment widened by `context` s on each side, never past the middle of the gap to
    its neighbour nor the recording's ends (overlapping segments are not widened there), and
    by less when it would then last more than `longest` s."""
    heard = []
    for number, segment in enumerate(segments):
        room = context if longest is None else max(0.0, (longest - segment.seconds) / 2)
        wide = min(context, room)
        before = segments[number - 1].end if number else -math.inf
        after = segments[number + 1].start if number + 1 < len(segments) else math.inf
        start, end = widened(segment.start, segment.end, before, after, wide)
        heard.append(Segment(round(max(start, 0.0), SECONDS_DIGITS),
                             round(min(end, max(duration, segment.end)), SECONDS_DIGITS)))
    return heard


MODES = ("auto", "vad", "fixed", "off")
DEFAULT_MAX_DURATION = 4 * 3600.0  # seconds: the longest recording predict_timeline takes
DEFAULT_BATCH_SIZE = 16
DEFAULT_CONTEXT = 0.5  # seconds; what it buys: docs/timeline.md


@dataclass(frozen=True)
class TimelineOptions:
    """How a recording is cut (`cut`), how much sound around a segment the model hears
    (`context`, seconds: `heard_spans`), how many segments go through the model at once, and
    the longest recording taken (seconds)."""

    cut: SegmentOptions = field(default_factory=SegmentOptions)
    batch_size: int = DEFAULT_BATCH_SIZE
    max_duration: float = DEFAULT_MAX_DURATION
    context: float = DEFAULT_CONTEXT

    def __post_init__(self) -> None:
        if self.context < 0:
            raise ValueError(f"context must not be negative, got {self.context}")


__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_CONTEXT", "DEFAULT_MAX_DURATION", "MODES", "Segment",
           "SegmentOptions",
           "TimelineOptions", "fixed_segments", "heard_spans", "speech_regions", "speech_segments",
           "widened"]
