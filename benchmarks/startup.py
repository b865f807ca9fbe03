"""Start-up of the command line: wall seconds of `wavfusion --help`, `wavfusion data check
--help` and `wavfusion predict --help` in a fresh process (best of 3), i.e. what a user waits
before anything runs. Building the parser imports no torch (see tests/test_cli_options.py).

Then one clip: `wavfusion predict CLIP --model RUN` in a fresh process (an untrained default
model, a 3-s WAV; best of 3), against what the same process must spend anyway, measured
inside a fresh interpreter: the imports the prediction needs (torch, transformers' model
code, the encoders), loading the model and encoders (`Predictor.from_run`) and the prediction
itself. Target: wall at most 2x load + compute. Beside it, `import torch` alone in a fresh
interpreter: the floor of any prediction that runs the model with torch."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import record  # benchmarks/ is on sys.path: run as a script
from untrained import untrained_run

COMMANDS = [["--help"], ["data", "check", "--help"], ["predict", "--help"]]
REPEATS = 3
CLIP_SECONDS = 3.0
RATIO_TARGET = 2.0
# run in a fresh interpreter: the parts of one prediction, each timed
PARTS = """
import json, sys, time
started = time.perf_counter()
from wavfusion.inference.predictor import Predictor
imported = time.perf_counter()
predictor = Predictor.from_run(sys.argv[1])
loaded = time.perf_counter()
predictor.predict(sys.argv[2])
done = time.perf_counter()
print(json.dumps({"imports": imported - started, "load": loaded - imported,
                  "compute": done - loaded}))
"""


def wall(arguments: list[str]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wavfusion.cli", *arguments], check=True,
                       stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    return best


def import_seconds(module: str) -> float:
    """Best-of-3 wall of `python -c "import MODULE"` in a fresh interpreter."""
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        best = min(best, time.perf_counter() - started)
    return best


def one_clip() -> dict[str, float]:
    """Best-of-3 wall of a one-clip `predict`, and the best-of-3 parts in a fresh process."""
    from wavfusion.data.synthetic.samples import write_sample_clips

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        clip = folder / write_sample_clips(folder, CLIP_SECONDS)["wav"].audio
        run = untrained_run(folder)
        seconds = {"wall": wall(["predict", str(clip), "--model", str(run)]),
                   "torch": import_seconds("torch")}
        for _ in range(REPEATS):
            parts = json.loads(subprocess.run(
                [sys.executable, "-c", PARTS, str(run), str(clip)], check=True,
                capture_output=True, text=True).stdout.strip().splitlines()[-1])
            for name, value in parts.items():
                seconds[name] = min(seconds.get(name, float("inf")), value)
    return seconds


def main() -> None:
    rows = [[f"wavfusion {' '.join(arguments)}", round(wall(arguments), 2)]
            for arguments in COMMANDS]
    for row in rows:
        print(f"{row[0]:<32} {row[1]:.2f} s")
    record("startup", "Command-line start-up", "python benchmarks/startup.py",
           ["command", "wall s (best of 3)"], rows,
           notes="fresh process each time; includes the Python interpreter's own start")
    seconds = one_clip()
    needed = seconds["load"] + seconds["compute"]
    ratio = seconds["wall"] / needed
    print(f"one-clip predict: wall {seconds['wall']:.2f} s; in a fresh process: imports "
          f"{seconds['imports']:.2f} s, load {seconds['load']:.2f} s, compute "
          f"{seconds['compute']:.2f} s; wall / (load + compute) = {ratio:.2f} "
          f"({'ok' if ratio <= RATIO_TARGET else 'over'} the {RATIO_TARGET:g}x target); "
          f"wall / (imports + load + compute) = {seconds['wall'] / (needed + seconds['imports']):.2f}"
          f"; `import torch` alone {seconds['torch']:.2f} s = {seconds['torch'] / needed:.2f}x "
          "load + compute")
    record("startup_predict", "One-clip predict: wall against what it needs",
           "python benchmarks/startup.py",
           ["wall s", "imports s", "load s", "compute s", "wall / (load + compute)",
            "wall / (imports + load + compute)", "import torch alone s"],
           [[round(seconds["wall"], 2), round(seconds["imports"], 2), round(seconds["load"], 2),
             round(seconds["compute"], 2), round(ratio, 2),
             round(seconds["wall"] / (needed + seconds["imports"]), 2),
             round(seconds["torch"], 2)]],
           notes=f"untrained default model, {CLIP_SECONDS:g}-s WAV, best of {REPEATS} fresh "
                 "processes each; imports = wavfusion.inference.predictor with torch and "
                 "transformers; target wall <= 2x load + compute")


if __name__ == "__main__":
    main()
