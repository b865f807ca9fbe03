"""`wavfusion demo` end to end in a tiny setting: every stage runs, the report has its
sections, and a rerun reuses the corpus, the cache and every run."""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from wavfusion.cli import main
from wavfusion.recipes.demo.pipeline import STAGES

TINY = ["--per-class", "3", "--speakers", "3", "--seeds", "1", "--epochs", "1",
        "--tables", "3", "--no-progress"]  # 12 clips: one speaker (4 clips) per split
COMPARED = ["full", "concat", "A", "T", "V"]
SECTIONS = [
    "## Does the full model beat the concat baseline and each single modality?",
    "## The trained model (seed 0)",
    "## Single-modality evidence",
    "## Prediction on a held-out test clip",
    "## Ablations (paper Tables 3–6)",
    "### Table 3: modalities",
    "## Time",
]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """(output folder, printed output) of one tiny demo run."""
    out = tmp_path_factory.mktemp("demo")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["demo", "--out", str(out), *TINY]) == 0
    return out, printed.getvalue()


def test_demo_prints_every_stage_with_elapsed_time_and_the_prediction(demo_run):
    _, printed = demo_run
    for number in range(1, STAGES + 1):
        assert re.search(rf"== \[{number}/{STAGES}\] .+ \(\d+:\d\d elapsed\)", printed)
    assert printed.count("done in") == STAGES
    assert '"label":' in printed and '"gates":' in printed


def test_demo_report_md_has_every_section_and_the_confusion_image(demo_run):
    out, _ = demo_run
    text = (out / "report.md").read_text(encoding="utf-8")
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    for name in ("WavFusion, A+T+V, 3/1", "concat baseline, A+T+V, 4/0", "audio only (A)",
                 "text only (T)", "video only (V)"):
        assert f"| {name} |" in text
    image = re.search(r"!\[confusion matrix\]\(([^)]+)\)", text).group(1)
    assert (out / image).is_file()


def test_demo_report_json_answers_the_closing_question(demo_run):
    out, _ = demo_run
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    rows = {row["setting"]: row for row in document["comparison"]}
    assert list(rows) == COMPARED
    for name in COMPARED[1:]:
        assert rows[name]["wf1_gain"] == [rows["full"]["wf1"][0] - rows[name]["wf1"][0]]
        assert rows[name]["full_wins"] in (0, 1)
    assert rows["concat"]["split"] == "4/0" and rows["full"]["split"] == "3/1"
    assert set(document["ablation"]["tables"]) == {"3"}
    prediction = document["prediction"]
    assert prediction["label"] in document["corpus"]["labels"]
    assert prediction["modalities"] == ["audio", "text", "visual"]  # a video with transcript
    assert set(document["timings"]["stages"]) == {"corpus", "evidence", "features", "compare",
                                                  "ablations", "predict"}
    assert document["settings"]["per_class"] == 3 and document["corpus"]["rows"] == 12


def test_demo_rerun_reuses_corpus_cache_and_every_run(demo_run, capsys):
    out, _ = demo_run
    before = (out / "report.json").read_text(encoding="utf-8")
    assert main(["demo", "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "reusing" in printed
    trained = [line for line in printed.splitlines()
               if re.search(r"\[\d+/\d+\] .*seed 0:", line) and "finished before" not in line]
    assert trained == []
    first, again = json.loads(before), json.loads((out / "report.json").read_text())
    assert first["comparison"] == again["comparison"]
