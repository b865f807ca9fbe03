"""What a run leaves on disk: metrics.json, confusion.png, reports, atomically written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from wavfusion import atomic


def write_text(path: Path, text: str) -> None:
    """UTF-8 text, written to a temporary name then renamed (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, text)


def write_json(path: Path, values: Any) -> None:
    """JSON (indented), written atomically like `write_text`."""
    write_text(path, json.dumps(values, indent=2) + "\n")


def plot_confusion(matrix: list[list[int]], labels: list[str], path: Path, title: str) -> None:
    """Row-normalised confusion matrix with counts, as PNG."""
    import matplotlib

    path.parent.mkdir(parents=True, exist_ok=True)
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    counts = np.asarray(matrix)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 1.2 + 0.6 * len(labels)
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for row in range(len(labels)):
        for column in range(len(labels)):
            axes.text(column, row, str(counts[row, column]), ha="center", va="center",
                      color="white" if rates[row, column] > 0.5 else "black", fontsize=8)
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    try:
        atomic.atomic_write(path, lambda temporary: figure.savefig(temporary, dpi=120, format="png"))
    finally:
        plt.close(figure)
