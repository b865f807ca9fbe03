"""Render `docs/benchmarks.md` from the `docs/benchmarks/*.json` files that `record()` writes.

    python benchmarks/render.py [--results docs/benchmarks] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEYS = ("name", "title", "command", "commit", "machine", "date", "columns", "rows")

HEADER = """# Benchmarks

Each table below is written by a script in `benchmarks/` (`record()` in `benchmarks/results.py`)
and this page is generated from those files by `benchmarks/render.py`: run `make bench` to
measure again and regenerate it, `make docs` to regenerate it from the recorded files.
Do not edit this page by hand.
"""


def cell(value) -> str:
    if isinstance(value, float):
        text = f"{value:.4g}" if abs(value) < 1e5 else f"{value:.0f}"
    else:
        text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def machine_text(machine) -> str:
    if not isinstance(machine, dict):
        return str(machine)
    parts = [f"{machine.get('cores', '?')} cores", str(machine.get("cpu", "?"))]
    if machine.get("torch_threads") is not None:
        parts.append(f"torch threads {machine['torch_threads']}")
    if machine.get("load_average"):
        parts.append("load " + " / ".join(f"{x:g}" for x in machine["load_average"]))
    return ", ".join(parts)


def load(folder: Path) -> list[dict]:
    results = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise SystemExit(f"{path}: not a readable benchmark result ({error})") from error
        missing = [key for key in KEYS if key not in data]
        if missing:
            raise SystemExit(f"{path}: missing {', '.join(missing)}")
        results.append(data)
    return sorted(results, key=lambda d: d["title"].lower())


def table(data: dict) -> str:
    lines = [f"## {data['title']}", "",
             f"- command: `{data['command']}`",
             f"- commit: `{data['commit']}`",
             f"- machine: {machine_text(data['machine'])}",
             f"- date: {data['date']}", ""]
    lines.append("| " + " | ".join(cell(c) for c in data["columns"]) + " |")
    lines.append("|" + "---|" * len(data["columns"]))
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in data["rows"]]
    if data.get("notes"):
        lines += ["", str(data["notes"]).strip()]
    return "\n".join(lines) + "\n"


def render(folder: Path, out: Path) -> Path:
    results = load(folder)
    body = [HEADER]
    if not results:
        body.append("No benchmark has been recorded yet: run `make bench`.\n")
    body += [table(data) for data in results]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(body))
    os.replace(tmp, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=REPO / "docs" / "benchmarks")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args()
    out = render(args.results, args.out)
    print(f"wrote {out} ({len(load(args.results))} benchmarks)")


if __name__ == "__main__":
    main()
