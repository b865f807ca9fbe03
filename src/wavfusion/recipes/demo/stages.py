"""Progress of a long pipeline: numbered stage headers with the elapsed time, and each stage's
wall and CPU seconds kept for the report."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def _echo(line: str) -> None:
    print(line, flush=True)


class Stages:
    """`with stages.stage("features", "Extract the frozen features"): ...` prints

        == [3/7] Extract the frozen features (0:41 elapsed)
        ...
           done in 52.3 s (61.0 s CPU)

    and records {"features": {"seconds": 52.3, "cpu_seconds": 61.0}} in `times`."""

    def __init__(self, total: int, echo: Callable[[str], None] = _echo) -> None:
        self.total = total
        self.echo = echo
        self.started = time.perf_counter()
        self.times: dict[str, dict[str, float]] = {}

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def clock(self) -> str:
        """Elapsed time as m:ss."""
        minutes, seconds = divmod(int(self.elapsed()), 60)
        return f"{minutes}:{seconds:02d}"

    def note(self, line: str) -> None:
        """A progress line inside a stage, stamped with the elapsed time."""
        self.echo(f"   [{self.clock()}] {line}")

    @contextmanager
    def stage(self, name: str, title: str) -> Iterator[None]:
        number = len(self.times) + 1
        self.echo(f"\n== [{number}/{self.total}] {title} ({self.clock()} elapsed)")
        sys.stderr.flush()
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
        self.times[name] = {"seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1)}
        self.echo(f"   done in {seconds:.1f} s ({cpu_seconds:.1f} s CPU)")

    def summary(self) -> dict[str, Any]:
        return {"stages": self.times, "total_seconds": round(self.elapsed(), 1)}
