"""Start-up of the command line: wall seconds of `wavfusion --help`, `wavfusion data check
--help` and `wavfusion predict --help` in a fresh process (best of 3), i.e. what a user waits
before anything runs. Building the parser imports no torch (see tests/test_cli_options.py).

Then one clip: `wavfusion predict CLIP --model RUN` in a fresh process (an untrained default
model, a 3-s WAV; best of 3), against what the same process must spend anyway, measured
inside a fresh interpreter: the imports the prediction needs, loading the model and the
prediction itself. Target: wall at most 2x load + compute. Twice: the ONNX fast path (RUN
exported first, `wavfusion export`: numpy, PyAV and onnxruntime; load = the record, the
sha256 of the run files and the onnxruntime session), and the torch path beside it (before
the export: torch, transformers' model code, the encoders; load = `Predictor.from_run`),
with `import torch` alone in a fresh interpreter, the floor of any prediction with torch.

`--print-only`: print the numbers, record nothing (a machine busy with other jobs)."""

from __future__ import annotations

import argparse
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
from wavfusion.inference.{module} import {name}
imported = time.perf_counter()
predictor = {name}.from_run(sys.argv[1])
loaded = time.perf_counter()
predictor.predict(sys.argv[2])
done = time.perf_counter()
print(json.dumps({{"imports": imported - started, "load": loaded - imported,
                  "compute": done - loaded, "torch": float("torch" in sys.modules)}}))
"""
PATHS = {"onnx": ("onnx_predictor", "OnnxPredictor"), "torch": ("predictor", "Predictor")}


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


def parts(path: str, run: Path, clip: Path) -> dict[str, float]:
    """Best-of-3 imports, load and compute of one prediction by `path` ("onnx", "torch"),
    each in a fresh interpreter; `torch`: whether that interpreter imported torch."""
    module, name = PATHS[path]
    seconds: dict[str, float] = {}
    for _ in range(REPEATS):
        found = json.loads(subprocess.run(
            [sys.executable, "-c", PARTS.format(module=module, name=name), str(run),
             str(clip)], check=True, capture_output=True, text=True).stdout.strip()
            .splitlines()[-1])
        for part, value in found.items():
            seconds[part] = min(seconds.get(part, float("inf")), value)
    return seconds


def one_clip() -> dict[str, dict[str, float]]:
    """Per path ("torch", "onnx"): the best-of-3 wall of a one-clip `predict` and the
    best-of-3 parts in a fresh process; "torch" also has `import torch` alone."""
    from wavfusion.data.synthetic.samples import write_sample_clips
    from wavfusion.inference.onnx_export import export_onnx

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        clip = folder / write_sample_clips(folder, CLIP_SECONDS)["wav"].audio
        run = untrained_run(folder)
        command = ["predict", str(clip), "--model", str(run)]
        seconds = {"torch": {"wall": wall(command), **parts("torch", run, clip),
                             "import_torch": import_seconds("torch")}}
        export_onnx(run)
        seconds["onnx"] = {"wall": wall(command), **parts("onnx", run, clip)}
    return seconds


def summary(path: str, seconds: dict[str, float]) -> str:
    needed = seconds["load"] + seconds["compute"]
    ratio = seconds["wall"] / needed
    return (f"one-clip predict, {path} path: wall {seconds['wall']:.2f} s; in a fresh process: "
            f"imports {seconds['imports']:.2f} s, load {seconds['load']:.2f} s, compute "
            f"{seconds['compute']:.2f} s; wall / (load + compute) = {ratio:.2f} "
            f"({'ok' if ratio <= RATIO_TARGET else 'over'} the {RATIO_TARGET:g}x target); "
            f"wall / (imports + load + compute) = {seconds['wall'] / (needed + seconds['imports']):.2f}"
            f"; torch imported: {seconds['torch'] > 0}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print-only", action="store_true",
                        help="print the numbers, record nothing in docs/benchmarks")
    save = not parser.parse_args().print_only
    rows = [[f"wavfusion {' '.join(arguments)}", round(wall(arguments), 2)]
            for arguments in COMMANDS]
    for row in rows:
        print(f"{row[0]:<32} {row[1]:.2f} s")
    if save:
        record("startup", "Command-line start-up", "python benchmarks/startup.py",
               ["command", "wall s (best of 3)"], rows,
               notes="fresh process each time; includes the Python interpreter's own start")
    measured = one_clip()
    for path in ("onnx", "torch"):
        print(summary(path, measured[path]))
    torch_alone = measured["torch"]["import_torch"]
    fast = measured["onnx"]
    print(f"`import torch` alone {torch_alone:.2f} s = "
          f"{torch_alone / (fast['load'] + fast['compute']):.2f}x the fast path's load + compute")
    table = []
    for path in ("onnx", "torch"):
        seconds = measured[path]
        needed = seconds["load"] + seconds["compute"]
        table.append([path, round(seconds["wall"], 2), round(seconds["imports"], 2),
                      round(seconds["load"], 2), round(seconds["compute"], 2),
                      round(seconds["wall"] / needed, 2),
                      round(seconds["wall"] / (needed + seconds["imports"]), 2)])
    if save:
        record("startup_predict", "One-clip predict: wall against what it needs",
               "python benchmarks/startup.py",
               ["path", "wall s", "imports s", "load s", "compute s",
                "wall / (load + compute)", "wall / (imports + load + compute)"], table,
               notes=f"untrained default model, {CLIP_SECONDS:g}-s WAV, best of {REPEATS} "
                     "fresh processes each; onnx: RUN exported (wavfusion export), imports = "
                     "numpy, PyAV, onnxruntime; torch: before the export, imports = torch and "
                     f"transformers; `import torch` alone {torch_alone:.2f} s; target wall "
                     "<= 2x load + compute")


if __name__ == "__main__":
    main()
