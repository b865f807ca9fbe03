"""Start-up of the command line: wall seconds of `wavfusion --help`, `wavfusion data check
--help` and `wavfusion predict --help` in a fresh process (best of 3), i.e. what a user waits
before anything runs. Building the parser imports no torch (see tests/test_cli_options.py)."""

from __future__ import annotations

import subprocess
import sys
import time

from results import record  # benchmarks/ is on sys.path: run as a script

COMMANDS = [["--help"], ["data", "check", "--help"], ["predict", "--help"]]
REPEATS = 3


def wall(arguments: list[str]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wavfusion.cli", *arguments], check=True,
                       stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    rows = [[f"wavfusion {' '.join(arguments)}", round(wall(arguments), 2)]
            for arguments in COMMANDS]
    for row in rows:
        print(f"{row[0]:<32} {row[1]:.2f} s")
    record("startup", "Command-line start-up", "python benchmarks/startup.py",
           ["command", "wall s (best of 3)"], rows,
           notes="fresh process each time; includes the Python interpreter's own start")


if __name__ == "__main__":
    main()
