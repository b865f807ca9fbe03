"""A timeline as CSV (one row per segment) and as a PNG plot.

CSV columns: file, start, end, label, score, one `p_<class>` per class, transcript, then one
`gate_<layer>` per deep layer (empty where the gate does not apply).

The plot (`plot_timeline`, matplotlib, no display needed): the class probabilities over time
as a stacked band (each segment drawn over its span; gaps between segments left blank), the
segment boundaries as thin lines, the label above each segment, and the transcript's words
below where they fit in the segment's width.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

PLOT_WIDTH_INCHES = 14.0
PLOT_HEIGHT_INCHES = 4.0
CHARACTER_INCHES = 0.075  # width of one character of the 7-point transcript text


def timeline_csv(timeline: dict[str, Any]) -> str:
    """The CSV text of a timeline (header + one row per segment)."""
    labels = timeline["labels"]
    layers = max((len(segment["gates"]) for segment in timeline["segments"]), default=0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["file", "start", "end", "label", "score", *(f"p_{name}" for name in labels),
                     "transcript", *(f"gate_{layer + 1}" for layer in range(layers))])
    for segment in timeline["segments"]:
        gates = ["" if value is None else value for value in segment["gates"]]
        writer.writerow([timeline["file"], segment["start"], segment["end"], segment["label"],
                         segment["score"], *(segment["probabilities"][name] for name in labels),
                         segment["transcript"] or "", *gates])
    return out.getvalue()


def _fitting(text: str, inches: float) -> str:
    """`text` cut at a word boundary to fit `inches` of the plot ("…" when cut)."""
    room = int(inches / CHARACTER_INCHES)
    if len(text) <= room:
        return text
    words, kept = text.split(), ""
    for word in words:
        if len(kept) + len(word) + 2 > room:
            break
        kept = f"{kept} {word}".strip()
    return f"{kept}…" if kept else ""


def plot_timeline(timeline: dict[str, Any], path: str | Path) -> Path:
    """Draw the timeline into `path` (a PNG); returns the path."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    labels, segments = timeline["labels"], timeline["segments"]
    duration = max(timeline["duration"], 1e-3)
    figure, axes = plt.subplots(figsize=(PLOT_WIDTH_INCHES, PLOT_HEIGHT_INCHES))
    colours = plt.get_cmap("tab10")
    for segment in segments:
        bottom = 0.0
        for number, name in enumerate(labels):
            height = segment["probabilities"][name]
            axes.fill_between([segment["start"], segment["end"]], bottom, bottom + height,
                              color=colours(number % 10), linewidth=0)
            bottom += height
        for edge in (segment["start"], segment["end"]):
            axes.axvline(edge, color="black", linewidth=0.4)
        middle = (segment["start"] + segment["end"]) / 2
        inches = (segment["end"] - segment["start"]) / duration * PLOT_WIDTH_INCHES * 0.8
        axes.text(middle, 1.03, _fitting(segment["label"], inches), ha="center", va="bottom",
                  fontsize=7)
        if segment["transcript"]:
            axes.text(middle, -0.06, _fitting(segment["transcript"], inches), ha="center",
                      va="top", fontsize=7, style="italic")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours(n % 10)) for n in range(len(labels))]
    axes.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
                frameon=False)
    axes.set_xlim(0, duration)
    axes.set_ylim(0, 1)
    axes.set_xlabel("seconds", labelpad=14)
    axes.set_ylabel("probability")
    dominant = timeline["summary"]["dominant"] or "none"
    axes.set_title(f"{Path(timeline['file']).name}: {len(segments)} segments, mostly "
                   f"{dominant}", fontsize=10, pad=16)
    figure.tight_layout()
    figure.savefig(path, dpi=100, format="png")
    plt.close(figure)
    return Path(path)


__all__ = ["plot_timeline", "timeline_csv"]
