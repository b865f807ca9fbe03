"""Subtitles in and out of a timeline: reading `.srt`/`.vtt` cues, placing them on segments,
writing a timeline as SRT whose text carries the emotion.

    cues = read_cues("talk.srt")                    # [Cue(start, end, text), ...]
    texts = place_cues(cues, segments)              # one transcript (or None) per segment
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from wavfusion.data.errors import DataError, read_utf8_text

# 00:01:02,500 (SRT) or 00:01:02.500 / 01:02.500 (WebVTT)
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_TAG = re.compile(r"<[^>]+>")


class SubtitlesError(DataError):
    """A subtitle file that cannot be used (names the file and the reason)."""


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def _seconds(hours: str | None, minutes: str, seconds: str, fraction: str) -> float:
    return (int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
            + int(fraction.ljust(3, "0")) / 1000)


def read_cues(path: str | Path) -> list[Cue]:
    """The cues of an SRT or WebVTT file, in file order; markup such as `<i>` removed, lines
    of one cue joined by a space. SubtitlesError for a missing or unreadable file, or one
    without any timing line."""
    path = Path(path)
    text = read_utf8_text(path, SubtitlesError, "subtitle file not found")
    cues: list[Cue] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = block.strip().split("\n")
        for number, line in enumerate(lines):
            timing = _TIMING.match(line)
            if timing:
                words = " ".join(_TAG.sub("", rest).strip() for rest in lines[number + 1 :])
                start = _seconds(*timing.groups()[:4])
                end = _seconds(*timing.groups()[4:])
                if words.strip():
                    cues.append(Cue(start, end, " ".join(words.split())))
                break
    if not cues and not _TIMING.search(text.replace("\r\n", "\n")):
        raise SubtitlesError(path, "no cue timings found (expected 00:00:01,000 --> ...)")
    return cues


def place_cues(cues: list[Cue], segments: list) -> list[str | None]:
    """Each cue goes to the segment it overlaps most (none when it overlaps none); a
    segment's transcript is its cues' text in order, None without any. `segments`: objects
    with `start` and `end` seconds."""
    texts: list[list[str]] = [[] for _ in segments]
    for cue in cues:
        overlaps = [min(cue.end, segment.end) - max(cue.start, segment.start)
                    for segment in segments]
        if overlaps and max(overlaps) > 0:
            texts[overlaps.index(max(overlaps))].append(cue.text)
    return [" ".join(parts) if parts else None for parts in texts]


def srt_time(seconds: float) -> str:
    """Seconds -> SRT's `HH:MM:SS,mmm`."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d},{millis % 1000:03d}"


def timeline_srt(timeline: dict) -> str:
    """A timeline as SRT: one cue per segment, its text `[label 0.87] transcript`."""
    blocks = []
    for number, segment in enumerate(timeline["segments"], start=1):
        text = f"[{segment['label']} {segment['score']:.2f}]"
        if segment.get("transcript"):
            text += f" {segment['transcript']}"
        blocks.append(f"{number}\n{srt_time(segment['start'])} --> "
                      f"{srt_time(segment['end'])}\n{text}\n")
    return "\n".join(blocks)


__all__ = ["Cue", "SubtitlesError", "place_cues", "read_cues", "srt_time", "timeline_srt"]
