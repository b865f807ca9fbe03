"""The demo's closing question: does the full model beat the concat baseline and each single
modality, and by how much, over seeds?

The compared rows are rows of the paper's ablation tables, trained exactly as `wavfusion
ablate` trains them (same run folders, same reuse rule), so that the ablation stage afterwards
finds them finished and the numbers in both reports are the same runs:

    full     Table 3 A+T+V (the demo's shallow/deep split)
    concat   Table 6 D/0: no fusion layer, pooled modality vectors concatenated
    A, T, V  Table 3 single modalities

Differences are paired by seed (full minus the row, same seed, same data), then summarised
as mean ± population std, like every other table here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from wavfusion.data.manifest import Manifest
from wavfusion.features.cache import FeatureCache
from wavfusion.training.ablation import PlannedRun, plan_runs, result_line, run_once
from wavfusion.training.ablation_cache import cache_folders, shallow_depth
from wavfusion.training.run import TrainSettings

FULL = "full"
CONCAT = "(concat)"  # how Table 6 names its D/0 row: "4/0 (concat)"
COMPARED = {FULL: (3, "A+T+V"), "concat": (6, CONCAT), "A": (3, "A"), "T": (3, "T"),
            "V": (3, "V")}
"""Row of the comparison -> (ablation table, setting name)."""
COMPARED_TABLES = [3, 6]
METRICS = {"acc": "accuracy", "wf1": "weighted_f1"}


def _matches(run: PlannedRun, table: int, name: str) -> bool:
    return any(row.table == table and (row.name == name or
                                       (name == CONCAT and row.name.endswith(f" {CONCAT}")))
               for row in run.rows)


def plan_compared(settings: TrainSettings, seeds: list[int]) -> dict[str, list[PlannedRun]]:
    """Comparison row -> its ablation runs, one per seed, in seed order."""
    plan = plan_runs(settings.model, COMPARED_TABLES, seeds)
    return {row: [run for run in plan if _matches(run, table, name)]
            for row, (table, name) in COMPARED.items()}


def run_compared(settings: TrainSettings, manifest: Manifest, seeds: list[int], out: Path,
                 base_cache: FeatureCache, announce: Callable[[str], None]) -> dict[str, list[dict[str, Any]]]:
    """Train (or reuse) every compared run under `out` (the ablation folder); the full model
    of the first seed keeps its weights (prediction and confusion matrix). Returns row -> the
    run records (val/test metrics, seconds), in seed order."""
    planned = plan_compared(settings, seeds)
    runs = [run for row_runs in planned.values() for run in row_runs]
    caches = cache_folders(base_cache, manifest, [run.config for run in runs], out, announce)
    records: dict[str, list[dict[str, Any]]] = {}
    number = 0
    for row, row_runs in planned.items():
        records[row] = []
        for run in row_runs:
            number += 1
            keep = row == FULL and run.seed == seeds[0]
            record, reused = run_once(run, settings, manifest, out,
                                       caches[shallow_depth(run.config)], keep)
            record = {**record, "run": run.name, "seed": run.seed}
            records[row].append(record)
            announce(f"[{number}/{len(runs)}] {row}, seed {run.seed}: {result_line(record)}"
                     + (" (finished before, reused)" if reused else ""))
    return records


def full_model_folder(out: Path, settings: TrainSettings, seed: int) -> Path:
    """The run folder of the full model trained with `seed` (it keeps its weights)."""
    run = plan_compared(settings, [seed])[FULL][0]
    return out / "runs" / run.name


def summarise_compared(records: dict[str, list[dict[str, Any]]],
                       split: str = "test") -> list[dict[str, Any]]:
    """One row per compared setting: its modalities and shallow/deep split, runs, per-seed
    ACC / WF1, their mean and std, and (rows other than full) the paired difference full - row per seed, its mean and std, and in how many
    seeds the full model's WF1 is higher."""
    full = {record["seed"]: record[split] for record in records[FULL] if split in record}
    rows = []
    for name, row_records in records.items():
        per_seed = {record["seed"]: record[split] for record in row_records if split in record}
        model = row_records[0]["identity"]["model"] if row_records else {}
        row: dict[str, Any] = {"setting": name, "seeds": sorted(per_seed),
                               "modalities": model.get("modalities"),
                               "split": f"{model.get('shallow_layers')}/"
                                        f"{model.get('deep_layers')}",
                               "runs": [record["run"] for record in row_records]}
        for key, metric in METRICS.items():
            values = [per_seed[seed][metric] for seed in row["seeds"]]
            row[key] = values
            row[f"{key}_mean"], row[f"{key}_std"] = _mean_std(values)
            if name != FULL:
                paired = [full[seed][metric] - per_seed[seed][metric]
                          for seed in row["seeds"] if seed in full]
                row[f"{key}_gain"] = paired
                row[f"{key}_gain_mean"], row[f"{key}_gain_std"] = _mean_std(paired)
        if name != FULL:
            row["full_wins"] = sum(gain > 0 for gain in row["wf1_gain"])
        rows.append(row)
    return rows


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return float(np.mean(values)), float(np.std(values))
