"""The timeline side of `wavfusion predict`: its options and how one file's timeline is
printed (json / csv / srt / table, and --plot).

A file becomes a timeline when it is longer than the model's `max_seconds` (`--segments
auto`, the default), when `--segments vad|fixed` is given, or when the output needs segments
(`--format csv|srt`, `--plot`, `--subtitles`). Otherwise it is one prediction, as before; a
file too long for that is refused with the limit and the flag (`--segments off`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from wavfusion.inference.segments import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONTEXT,
    DEFAULT_MAX_DURATION,
    MODES,
    SegmentOptions,
    TimelineOptions,
)

TIMELINE_FORMATS = ("csv", "srt")
_DEFAULTS = SegmentOptions()


def add_timeline_options(parser: argparse.ArgumentParser) -> None:
    """--segments and its cutting options, --subtitles, --plot, --batch-size, --max-duration."""
    group = parser.add_argument_group("recordings of any length (an emotion timeline)")
    group.add_argument("--segments", choices=MODES, default="auto",
                       help="auto (default): speech segments (as vad) when FILE is longer than "
                       "the model's max_seconds, else one prediction; vad: speech segments "
                       "(Silero VAD); fixed: windows of --window s; off: one prediction "
                       "(refused for a file longer than max_seconds)")
    group.add_argument("--min-segment", type=float, default=_DEFAULTS.min_seconds,
                       metavar="S", help="vad: shorter speech is dropped (default %(default)s)")
    group.add_argument("--max-segment", type=float, default=_DEFAULTS.max_seconds,
                       metavar="S", help="vad: longer speech is split at its quietest point "
                       "(default %(default)s, at most the model's max_seconds)")
    group.add_argument("--padding", type=float, default=_DEFAULTS.padding, metavar="S",
                       help="vad: seconds added each side of a segment (default %(default)s)")
    group.add_argument("--context", type=float, default=DEFAULT_CONTEXT, metavar="S",
                       help="the model hears up to this many seconds around each segment "
                       "(never past half-way to the next), as a training clip has its "
                       "margins; the segment's start and end stay as found "
                       "(default %(default)s)")
    group.add_argument("--merge-gap", type=float, default=_DEFAULTS.merge_gap, metavar="S",
                       help="vad: speech regions closer than this are one segment "
                       "(default %(default)s)")
    group.add_argument("--window", type=float, default=_DEFAULTS.window, metavar="S",
                       help="fixed: window length (default %(default)s)")
    group.add_argument("--overlap", type=float, default=_DEFAULTS.overlap, metavar="S",
                       help="fixed: overlap of consecutive windows (default %(default)s)")
    group.add_argument("--subtitles", type=Path, metavar="FILE.srt|.vtt",
                       help="transcripts of the segments from a subtitle file (one FILE)")
    group.add_argument("--plot", type=Path, metavar="PNG",
                       help="draw the timeline into this PNG (one FILE)")
    group.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                       help="segments per model forward (default %(default)s)")
    group.add_argument("--max-duration", type=float, default=DEFAULT_MAX_DURATION,
                       metavar="S", help="longest recording taken, in seconds "
                       "(default %(default)s)")


def timeline_options(args: argparse.Namespace) -> TimelineOptions:
    """The TimelineOptions of the command line (ValueError for inconsistent values)."""
    cut = SegmentOptions(min_seconds=args.min_segment, max_seconds=args.max_segment,
                         padding=args.padding, merge_gap=args.merge_gap, window=args.window,
                         overlap=args.overlap)
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {args.batch_size}")
    return TimelineOptions(cut=cut, batch_size=args.batch_size, max_duration=args.max_duration,
                           context=args.context)


def option_problem(args: argparse.Namespace) -> str | None:
    """Why the timeline options cannot be used together (None when they can)."""
    single = [name for name, value in (("--plot", args.plot), ("--subtitles", args.subtitles),
                                       ("--format srt", args.format == "srt")) if value]
    if single and len(args.files) > 1:
        return f"{', '.join(single)}: one FILE at a time"
    if args.subtitles is not None and (args.transcript or args.transcripts or args.transcribe):
        return "--subtitles gives the transcripts: not with --transcript(s) or --transcribe"
    return None


def wants_timeline(args: argparse.Namespace) -> bool:
    """True when every file is predicted as a timeline, whatever its length."""
    return (args.segments in ("vad", "fixed") or args.format in TIMELINE_FORMATS
            or args.plot is not None or args.subtitles is not None)


def _table(timeline: dict[str, Any]) -> str:
    lines = [(f"{timeline['file']}: {timeline['duration']:.1f} s, "
             f"{timeline['summary']['segments']} segments, mostly "
             f"{timeline['summary']['dominant']}")]
    for segment in timeline["segments"]:
        text = f"  {segment['transcript']}" if segment["transcript"] else ""
        lines.append(f"  {segment['start']:8.2f} {segment['end']:8.2f}  {segment['label']:<10} "
                     f"{segment['score']:.2f}{text}")
    lines += [f"  note: {note}" for note in timeline["notes"]]
    return "\n".join(lines)


def print_timeline(timeline: dict[str, Any], args: argparse.Namespace, first: bool) -> None:
    """Print one file's timeline in args.format (CSV: the header for the first file only);
    draw args.plot."""
    from wavfusion.inference.subtitles import timeline_srt
    from wavfusion.inference.timeline_formats import plot_timeline, timeline_csv

    if args.format == "json":
        print(json.dumps(timeline, ensure_ascii=False, allow_nan=False), flush=True)
    elif args.format == "csv":
        text = timeline_csv(timeline)
        print(text if first else text.split("\n", 1)[1], end="", flush=True)
    elif args.format == "srt":
        print(timeline_srt(timeline), end="", flush=True)
    else:
        print(_table(timeline), flush=True)
    if args.plot is not None:
        plot_timeline(timeline, args.plot)


__all__ = ["add_timeline_options", "option_problem", "print_timeline", "timeline_options",
           "wants_timeline"]
