"""benchmarks/results.py writes one JSON per benchmark; benchmarks/render.py turns them into a page."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


results = load("results")
render = load("render")


def test_record_writes_the_documented_fields(tmp_path):
    path = results.record("step-time", "Step time", "python benchmarks/x.py --n 2",
                          ["case", "s"], [["raw", 1.25], ["cached", 0.5]], notes="n=2",
                          folder=tmp_path)
    assert path == tmp_path / "step-time.json"
    data = json.loads(path.read_text())
    assert set(data) == {"name", "title", "command", "commit", "machine", "date", "columns",
                         "rows", "notes"}
    assert data["rows"] == [["raw", 1.25], ["cached", 0.5]]
    assert data["columns"] == ["case", "s"] and data["notes"] == "n=2"
    assert data["commit"] == "unknown" or data["commit"].split("+")[0].isalnum()
    assert data["machine"]["cores"] >= 1 and len(data["machine"]["load_average"]) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["step-time.json"]  # no temporary left


def test_record_refuses_ragged_rows_and_bad_names_and_keeps_the_old_file(tmp_path):
    results.record("a", "A", "cmd", ["x", "y"], [[1, 2]], folder=tmp_path)
    before = (tmp_path / "a.json").read_text()
    with pytest.raises(ValueError, match="row 0 has 1 cells, expected 2"):
        results.record("a", "A", "cmd", ["x", "y"], [[1]], folder=tmp_path)
    with pytest.raises(ValueError, match="name"):
        results.record("../a", "A", "cmd", ["x"], [[1]], folder=tmp_path)
    assert (tmp_path / "a.json").read_text() == before


def test_commit_marks_a_dirty_tree(tmp_path):
    import subprocess
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run(git[:5] + ["init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("1")
    subprocess.run(git + ["add", "f"], check=True)
    subprocess.run(git + ["commit", "-qm", "c"], check=True)
    clean = results.commit(tmp_path)
    assert clean and "+dirty" not in clean
    (tmp_path / "f").write_text("2")
    assert results.commit(tmp_path) == clean + "+dirty"


def test_render_makes_one_table_per_benchmark_with_its_provenance(tmp_path):
    results.record("b-second", "Zeta timing", "python benchmarks/z.py", ["case", "s"],
                   [["a|b", 0.123456]], folder=tmp_path)
    results.record("a-first", "Alpha accuracy", "python benchmarks/a.py --k 4", ["fold", "acc"],
                   [[1, 0.5], [2, None]], notes="two folds", folder=tmp_path)
    out = render.render(tmp_path, tmp_path / "page" / "benchmarks.md")
    text = out.read_text()
    assert text.index("## Alpha accuracy") < text.index("## Zeta timing")
    assert text.count("- commit: `") == 2 and text.count("- machine: ") == 2
    assert "`python benchmarks/a.py --k 4`" in text and "two folds" in text
    assert "| a\\|b | 0.1235 |" in text and "| 2 |  |" in text


def test_render_names_a_broken_result_file(tmp_path):
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SystemExit, match="bad.json"):
        render.render(tmp_path, tmp_path / "out.md")
    (tmp_path / "bad.json").write_text('{"name": "bad"}')
    with pytest.raises(SystemExit, match="missing title"):
        render.render(tmp_path, tmp_path / "out.md")


def test_render_of_no_results_says_how_to_make_them(tmp_path):
    text = render.render(tmp_path, tmp_path / "out.md").read_text()
    assert "make bench" in text
