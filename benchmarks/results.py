"""Record a benchmark's table as `docs/benchmarks/<name>.json` (rendered by `render.py`).

Every benchmark script ends with one `record(...)` call, so the numbers on the benchmarks page
come from a run, with the commit, machine and command that produced them, never typed by hand.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "benchmarks"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def commit(repo: Path = REPO) -> str:
    """`git rev-parse --short HEAD`, with "+dirty" when tracked files differ; "unknown" outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, check=True,
                              capture_output=True, text=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=repo, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if status.strip() else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """Cores, CPU model, torch threads (when torch is importable) and the 1/5/15-min load."""
    info: dict = {"cores": os.cpu_count(), "cpu": cpu_model()}
    try:
        import torch
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        info["torch_threads"] = None
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        info["load_average"] = None
    return info


def record(name: str, title: str, command: str, columns: list[str], rows: list[list],
           notes: str = "", folder: Path | None = None) -> Path:
    """Write the table atomically to `<folder>/<name>.json` (default docs/benchmarks/).

    `rows` is a list of rows, each as long as `columns`; cells are numbers or strings.
    """
    if not NAME.match(name):
        raise ValueError(f"benchmark name {name!r}: use lower-case letters, digits, '-' and '_'")
    columns = [str(c) for c in columns]
    rows = [list(row) for row in rows]
    for i, row in enumerate(rows):
        if len(row) != len(columns):
            raise ValueError(f"benchmark {name!r}: row {i} has {len(row)} cells, "
                             f"expected {len(columns)} ({', '.join(columns)})")
    folder = Path(folder) if folder is not None else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "name": name, "title": title, "command": command, "commit": commit(),
        "machine": machine(),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "columns": columns, "rows": rows, "notes": notes,
    }
    target = folder / f"{name}.json"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1)
            handle.write("\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"recorded {target}")
    return target
