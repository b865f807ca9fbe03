"""`wavfusion cv`: run the folds of a protocol and summarise them as mean ± std.

Protocols:
  given     the manifest's own train/val/test split (one fold)
  session5  rows whose `fold` column is 5 (IEMOCAP session 5) are test, the rest train/val
  loso      leave one value of the `fold` column out at a time (IEMOCAP: 5 sessions)
The feature cache is shared by every fold: features do not depend on the split.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

from wavfusion.data.datasets.splits import apply_fold
from wavfusion.data.manifest import read_manifest
from wavfusion.training.reports import write_json
from wavfusion.training.run import TrainSettings, train

PROTOCOLS = ("given", "session5", "loso")
SUMMARISED = ("accuracy", "weighted_f1", "uar")


def fold_names(rows, protocol: str) -> list[str]:
    if protocol == "given":
        return ["given"]
    values = sorted({r.extra.get("fold", "") for r in rows} - {""})
    if not values:
        raise ValueError(f"protocol {protocol!r} needs a `fold` column (e.g. the IEMOCAP "
                         "session, written by `wavfusion data prepare iemocap`)")
    if protocol == "session5":
        if "5" not in values:
            raise ValueError(f"protocol session5: no row has fold 5 (folds: {values})")
        return ["5"]
    return values


def summarise(per_fold: dict[str, dict[str, Any]], split: str = "test") -> dict[str, Any]:
    """mean and (population) std over folds of each summarised metric of `split`."""
    summary: dict[str, Any] = {}
    for metric in SUMMARISED:
        values = [fold[split][metric] for fold in per_fold.values() if split in fold]
        if values:
            summary[metric] = {"mean": float(np.mean(values)), "std": float(np.std(values)),
                               "folds": values}
    return summary


def mean_std(entry: dict[str, Any]) -> str:
    """`mean ± std` of one summarised metric (an entry of `summarise`), two decimals."""
    return f"{entry['mean']:.2f} ± {entry['std']:.2f}"


def markdown_table(per_fold: dict[str, dict[str, Any]], summary: dict[str, Any],
                   split: str = "test") -> str:
    header = "| fold | " + " | ".join(SUMMARISED) + " |"
    lines = [header, "|" + "---|" * (len(SUMMARISED) + 1)]
    for name, fold in per_fold.items():
        if split in fold:
            lines.append(f"| {name} | " + " | ".join(f"{fold[split][m]:.2f}" for m in SUMMARISED)
                         + " |")
    lines.append("| **mean ± std** | " + " | ".join(mean_std(summary[m]) for m in SUMMARISED)
                 + " |")
    return "\n".join(lines) + "\n"


def cross_validate(settings: TrainSettings, protocol: str) -> dict[str, Any]:
    """Train one run per fold under settings.out/fold-<name>; write cv.json and cv.md."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose from {PROTOCOLS}")
    manifest = read_manifest(settings.manifest)
    cache = settings.cache or settings.out / "cache"
    per_fold: dict[str, dict[str, Any]] = {}
    for name in fold_names(manifest.rows, protocol):
        rows = copy.deepcopy(manifest.rows)
        if protocol != "given":
            apply_fold(rows, name)
        fold_settings = dataclasses.replace(settings, out=settings.out / f"fold-{name}",
                                            cache=cache)
        per_fold[name] = train(fold_settings, manifest=manifest, rows=rows)
        if per_fold[name].get("interrupted"):  # Ctrl-C: summarise what exists, stop here
            break
    summary = summarise(per_fold)
    result = {"protocol": protocol, "folds": per_fold, "summary": summary,
              "interrupted": any(fold.get("interrupted") for fold in per_fold.values())}
    write_json(settings.out / "cv.json", result)
    (settings.out / "cv.md").write_text(
        f"# Cross-validation: {protocol} ({len(per_fold)} folds, test split)\n\n"
        + markdown_table(per_fold, summary), encoding="utf-8")
    return result
