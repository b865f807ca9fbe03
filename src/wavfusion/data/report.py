"""Plain-text tables for what batch jobs print: counts, and problems with their reasons."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from wavfusion.data.errors import Problem

SHOWN_PROBLEMS = 20  # problems printed before "... and N more" (all go to --report)


def table(header: Sequence[str], rows: Sequence[Sequence[object]], indent: str = "  ") -> str:
    """Left-aligned first column, right-aligned numbers, columns padded to fit."""
    cells = [[str(value) for value in row] for row in [header, *rows]]
    widths = [max(len(row[col]) for row in cells) for col in range(len(header))]
    lines = []
    for row in cells:
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append(indent + "  ".join(parts).rstrip())
    return "\n".join(lines)


def problem_table(problems: Sequence[Problem], limit: int | None = SHOWN_PROBLEMS,
                  more_in: str = "--report FILE") -> str:
    """Problems as `line  item  reason` lines, at most `limit` of them (the rest: `more_in`)."""
    shown = problems if limit is None else problems[:limit]
    with_lines = any(problem.line for problem in shown)
    rows = [([p.line or ""] if with_lines else []) + [p.item, p.reason] for p in shown]
    header = (["line"] if with_lines else []) + ["item", "reason"]
    widths = [max(len(str(row[col])) for row in [header, *rows]) for col in range(len(header))]
    lines = [
        "  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
        for row in [header, *rows]
    ]
    if len(problems) > len(shown):
        lines.append(f"  ... and {len(problems) - len(shown)} more (all in {more_in})")
    return "\n".join(lines)


def write_problems(path: str | Path, groups: dict[str, Sequence[Problem]]) -> None:
    """Every problem as CSV `kind,line,item,reason` (UTF-8), `kind` being the group's name
    (e.g. "bad", "note"): what a batch job's --report writes."""
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["kind", "line", "item", "reason"])
        for kind, problems in groups.items():
            for problem in problems:
                writer.writerow([kind, problem.line or "", problem.item, problem.reason])
