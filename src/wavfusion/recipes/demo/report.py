"""DIR/report.md and DIR/report.json of `wavfusion demo`.

report.md answers the closing question first (does the full model beat the concat baseline
and each single modality, by how much, over seeds), then shows the trained model's confusion
matrix, the single-modality evidence of simple classifiers, the held-out prediction, the
ablation tables and where the time went. report.json holds the same numbers and every setting.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from wavfusion.training.reports import write_json, write_text

ROW_TITLES = {"full": "WavFusion, A+T+V", "concat": "concat baseline, A+T+V",
              "A": "audio only (A)", "T": "text only (T)", "V": "video only (V)"}
VERDICT_NAMES = {"concat": "concat baseline", "A": "audio-only model", "T": "text-only model",
                 "V": "video-only model"}
EVIDENCE_COLUMNS = ("audio", "video", "text", "concat", "late_fusion")


def _pm(mean: float | None, std: float | None, sign: bool = False) -> str:
    if mean is None or std is None:
        return "-"
    return f"{mean:+.2f} ± {std:.2f}" if sign else f"{mean:.2f} ± {std:.2f}"


def comparison_table(rows: list[dict[str, Any]]) -> str:
    """The closing question as a markdown table: ACC, WF1 and the paired WF1 gain of the
    full model over each row (mean ± std over seeds)."""
    header = "| Model | ACC | WF1 | WF1 gain of the full model (paired by seed) | full better in |"
    lines = [header, "|---|---|---|---|---|"]
    for row in rows:
        name = row["setting"]
        title = ROW_TITLES.get(name, name) + (f", {row['split']}" if name in ("full", "concat")
                                              else "")
        gain = _pm(row.get("wf1_gain_mean"), row.get("wf1_gain_std"), sign=True)
        wins = f"{row['full_wins']} of {len(row['wf1_gain'])} seeds" if "full_wins" in row \
            else ""
        lines.append(f"| {title} | {_pm(row['acc_mean'], row['acc_std'])} | "
                     f"{_pm(row['wf1_mean'], row['wf1_std'])} | "
                     f"{gain if name != 'full' else ''} | {wins} |")
    return "\n".join(lines)


def verdict(row: dict[str, Any]) -> str:
    """One sentence on whether the full model beats `row`, by how much, how consistently: a
    win needs a positive mean gain larger than its std over seeds and a better WF1 in more
    than half of the seeds."""
    name = VERDICT_NAMES.get(row["setting"], row["setting"])
    gain, std, wins = row["wf1_gain_mean"], row["wf1_gain_std"], row["full_wins"]
    seeds = len(row["wf1_gain"])
    if gain is None:
        return f"- {name}: no paired runs."
    amount = f"{gain:+.2f} ± {std:.2f} WF1 points, better in {wins} of {seeds} seeds"
    if gain > std and 2 * wins > seeds:
        return f"- **beats** the {name}: {amount}."
    if gain > 0:
        return f"- is **not clearly** better than the {name}: {amount} (within seed noise)."
    return f"- does **not** beat the {name}: {amount}."


def evidence_table(evidence: dict[str, Any]) -> str:
    """Accuracy and weighted F1 (percent) of the simple classifiers, per modality."""
    scores = evidence["scores"]
    columns = [name for name in EVIDENCE_COLUMNS if name in scores]
    lines = ["| | " + " | ".join(name.replace("_", " ") for name in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for title, key in (("ACC", "accuracy"), ("WF1", "weighted_f1"),
                       ("ACC on rows with the modality", "present_accuracy")):
        cells = [f"{100 * scores[name][key]:.1f}" if name in ("audio", "video", "text") or
                 key != "present_accuracy" else "" for name in columns]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ablation_section(ablation: dict[str, Any] | None) -> list[str]:
    if not ablation:
        return ["Not run (`--tables` empty)."]
    body = ablation["markdown"].splitlines()
    body = [line for line in body if not line.startswith("# ")]  # its own title
    return ["#" + line if line.startswith("## ") else line for line in body]


def _timing_table(timings: dict[str, Any]) -> list[str]:
    lines = ["| Stage | wall s | CPU s |", "|---|---|---|"]
    for name, values in timings["stages"].items():
        lines.append(f"| {name} | {values['seconds']:.1f} | {values['cpu_seconds']:.1f} |")
    lines.append(f"| **total** | **{timings['total_seconds']:.1f}** | |")
    return lines


def _header(document: dict[str, Any]) -> str:
    settings, corpus, split = document["settings"], document["corpus"], document["corpus"]["split"]
    full = next(row for row in document["comparison"] if row["setting"] == "full")
    seeds = ", ".join(map(str, range(settings["seeds"])))
    return (
        f"Corpus: {corpus['rows']} synthetic clips ({settings['per_class']} per class, "
        f"{', '.join(corpus['labels'])}; train / val / test {split['train']} / {split['val']} "
        f"/ {split['test']}, speaker-independent; {corpus['with_video']} with video, "
        f"{corpus['with_transcript']} with a transcript). Model: WavFusion on the bundled "
        f"Whisper tiny.en, {full['split']} shallow/deep layers; each run up to "
        f"{settings['epochs']} epoch(s) (early stopping on validation WF1, patience "
        f"{settings['patience']}), batch {settings['batch_size']}, learning rate "
        f"{settings['learning_rate']:g}. Test split; ACC and weighted F1 in percent, "
        f"mean ± std (population) over seeds {seeds}. "
        f"Wall time {document['timings']['total_seconds']:.0f} s."
    )


def _model_section(document: dict[str, Any], out: Path) -> list[str]:
    model = document["model"]
    test = model["metrics"].get("test", {})
    folder = os.path.relpath(model["folder"], out)
    title = (f"## The trained model (seed 0): test ACC {test.get('accuracy', 0):.2f}, "
             f"WF1 {test.get('weighted_f1', 0):.2f}, UAR {test.get('uar', 0):.2f}")
    files = "config.json, model.safetensors, metrics.json, confusion.png"
    return [title, "", f"![confusion matrix]({folder}/confusion.png)", "",
            f"Run folder: `{folder}` ({files}).", ""]


def _evidence_section(evidence: dict[str, Any]) -> list[str]:
    text = (f"Logistic regressions on hand-made features (`wavfusion.data.synthetic.evidence`), fit on "
            f"{evidence['train_rows']} train rows, scored on {evidence['test_rows']} test "
            "rows; a row without the modality counts as the majority class. Chance is 25.")
    return ["## Single-modality evidence (simple classifiers, no neural network)", "", text,
            "", evidence_table(evidence), ""]


def _prediction_section(prediction: dict[str, Any], out: Path) -> list[str]:
    text = (f"`{os.path.relpath(prediction['file'], out)}`, true label **{prediction['true_label']}**, predicted "
            f"**{prediction['label']}**:")
    return ["## Prediction on a held-out test clip", "", text, "", "```json",
            json.dumps(prediction, indent=2), "```", ""]


def markdown(document: dict[str, Any], out: Path) -> str:
    """report.md from the report.json document."""
    others = [row for row in document["comparison"] if row["setting"] != "full"]
    lines = [
        "# wavfusion demo report", "", _header(document), "",
        "## Does the full model beat the concat baseline and each single modality?", "",
        comparison_table(document["comparison"]), "",
        "The full model", *[verdict(row) for row in others], "",
        *_model_section(document, out),
        *_evidence_section(document["evidence"]),
        *_prediction_section(document["prediction"], out),
        "## Ablations (paper Tables 3–6)", "", *_ablation_section(document.get("ablation")), "",
        "## Time", "", *_timing_table(document["timings"]), "",
    ]
    return "\n".join(lines)


def write_report(out: Path, document: dict[str, Any]) -> None:
    """Write out/report.json and out/report.md."""
    write_json(out / "report.json", document)
    write_text(out / "report.md", markdown(document, out))
