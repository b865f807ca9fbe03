"""The tables of `wavfusion ablate`: one row per setting, ACC and WF1 as mean ± std over seeds.

Shaped like the paper's Tables 3-6 (a setting column, then ACC and WF1), plus `n`, the number
of seeds behind each row. The std is the population std (numpy's default), as in `cv`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wavfusion.training.cv import mean_std, summarise
from wavfusion.training.recipe import epochs_text

if TYPE_CHECKING:
    from wavfusion.data.manifest import Manifest
    from wavfusion.training.ablation import PlannedRun
    from wavfusion.training.run import TrainSettings

TITLES = {
    3: ("Table 3: modalities", "Modality"),
    4: ("Table 4: the visual encoder without / with LVC", "LVC"),
    5: ("Table 5: λ, the weight of the margin loss (Eq 15)", "λ"),
    6: ("Table 6: shallow (frozen) / deep (fusion) layers", "Shallow/Deep"),
}
METRICS = {"acc": "accuracy", "wf1": "weighted_f1"}  # row key -> metrics.json key


def reported_split(manifest: Manifest) -> str:
    """The split the tables report: test, or val when the manifest has no labelled test row."""
    return "test" if any(row.split == "test" and row.label for row in manifest.rows) else "val"


def table_rows(table: int, plan: list[PlannedRun], results: dict[str, dict[str, Any]],
               split: str) -> list[dict[str, Any]]:
    """{setting, acc_mean, acc_std, wf1_mean, wf1_std, n, runs} per row of `table`, in
    order; means are None for a row none of whose runs finished."""
    settings = sorted({setting for run in plan for setting in run.rows if setting.table == table},
                      key=lambda setting: setting.position)
    rows = {setting.name: {"setting": setting.name, "per_seed": {}} for setting in settings}
    for run in plan:
        for setting in run.rows:
            if setting.table != table:
                continue
            row = rows[setting.name]
            if run.name in results and split in results[run.name]:
                row["per_seed"][str(run.seed)] = results[run.name]
                row.setdefault("runs", []).append(run.name)
    summaries = []
    for row in rows.values():
        summary = summarise(row.pop("per_seed"), split)
        for key, metric in METRICS.items():
            entry = summary.get(metric, {})
            row[f"{key}_mean"], row[f"{key}_std"] = entry.get("mean"), entry.get("std")
        row["n"] = len(summary.get("accuracy", {}).get("folds", []))
        row.setdefault("runs", [])
        summaries.append(row)
    return summaries


def markdown(tables: dict[str, list[dict[str, Any]]], heading: str,
             failed: list[dict[str, str]]) -> str:
    """ablation.md: `heading`, then one markdown table per ablation table."""
    lines = ["# Ablations (paper Tables 3–6)", "", heading, ""]
    for table, rows in tables.items():
        title, column = TITLES[int(table)]
        lines += [f"## {title}", "", f"| {column} | ACC | WF1 | n |", "|---|---|---|---|"]
        for row in rows:
            cells = [mean_std({"mean": row[f"{key}_mean"], "std": row[f"{key}_std"]})
                     if row["n"] else "failed" for key in METRICS]
            lines.append(f"| {row['setting']} | {cells[0]} | {cells[1]} | {row['n']} |")
        lines.append("")
    if failed:
        lines += ["## Failed runs", ""] + [f"- `{item['run']}`: {item['error']}"
                                           for item in failed] + [""]
    return "\n".join(lines)


def report(plan: list[PlannedRun], results: dict[str, dict[str, Any]],
           failed: list[dict[str, str]], tables: list[int], seeds: list[int],
           settings: TrainSettings, manifest: Manifest) -> dict[str, Any]:
    """The ablation.json document: the tables, every run's val/test metrics, the failures
    and the markdown of ablation.md."""
    split = reported_split(manifest)
    summaries = {str(table): table_rows(table, plan, results, split) for table in tables}
    samples = next((record[split]["num_samples"] for record in results.values()
                    if split in record), 0)
    heading = (f"Manifest `{settings.manifest}`, {split} split ({samples} samples); mean ± std "
               f"(population) over seeds {', '.join(map(str, seeds))}; each run: up to "
               f"{epochs_text(settings)} (early stopping, patience {settings.patience}), "
               f"batch {settings.batch_size}, learning rate {settings.learning_rate:g}, "
               f"audio backbone `{settings.model.audio_backbone}`.")
    runs = {run.name: {"seed": run.seed, "rows": [[row.table, row.name] for row in run.rows],
                       **{key: value for key, value in results[run.name].items()
                          if key != "identity"},
                       "model": results[run.name]["identity"]["model"]}
            for run in plan if run.name in results}
    return {"manifest": str(settings.manifest), "split": split, "seeds": list(seeds),
            "tables": summaries, "runs": runs, "failed": failed,
            "markdown": markdown(summaries, heading, failed)}
