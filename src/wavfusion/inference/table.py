"""`--format table`: predictions as a plain-text table for people, notes underneath.

    file         label    angry  happy  neutral  sad    used        gates (1 text, 0 video)  seconds
    clip01.mp4   happy    0.021  0.912  0.041    0.026  audio+text  0.71 0.64 0.58           0.212
    clip02.wav   sad      ...
    clip02.wav: no visual (audio-only file)
"""

from __future__ import annotations

from typing import Any

GATES_HEADER = "gates (1 text, 0 video)"


def _gates(values: list[float | None]) -> str:
    if not values or all(value is None for value in values):
        return "-"
    return " ".join("-" if value is None else f"{value:.2f}" for value in values)


def format_table(results: list[dict[str, Any]]) -> str:
    """One line per prediction (file, label, each class's probability, modalities used, mean
    gate per deep layer, total seconds), then one note line per file with missing
    modalities. Classes are those of the first result (one model predicts them all)."""
    if not results:
        return ""
    classes = list(results[0]["probabilities"])
    header = ["file", "label", *classes, "used", GATES_HEADER, "seconds"]
    lines = [header]
    for result in results:
        lines.append([
            result["file"], result["label"],
            *(f"{result['probabilities'][name]:.3f}" for name in classes),
            "+".join(result["modalities"]), _gates(result["gates"]),
            f"{result['timings']['total']:.3f}",
        ])
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
            for line in lines]
    for result in results:
        if result["missing"]:
            reasons = "; ".join(f"no {name} ({why})" for name, why in result["missing"].items())
            text.append(f"{result['file']}: {reasons}")
    return "\n".join(text)


__all__ = ["format_table"]
