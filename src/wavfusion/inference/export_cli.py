"""`wavfusion export RUN`: RUN/model.onnx, the graph of the `predict` fast path.

Writes RUN/model.onnx (atomically) and RUN/model.onnx.json (the sha256 of the run files it
came from); see onnx_export.py. `wavfusion predict` then predicts audio-only clips without
torch; it ignores a model.onnx whose run files changed since (export again).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from wavfusion.cli_options import add_threads_option, apply_threads


def run_export(args: argparse.Namespace) -> int:
    try:
        import onnx  # noqa: F401  (torch.onnx's exporter writes with it)
    except ModuleNotFoundError:
        print("wavfusion export: error: the onnx package is not installed (pip install "
              "'wavfusion[train]', or pip install onnx)", file=sys.stderr)
        return 2
    from wavfusion.inference.onnx_export import ExportError, export_onnx
    from wavfusion.quiet import quiet_third_party

    quiet_third_party()
    apply_threads(args.threads)
    started = time.perf_counter()
    try:
        path = export_onnx(args.run)
    except (ExportError, FileNotFoundError, ValueError) as error:
        print(f"wavfusion export: error: {error}", file=sys.stderr)
        return 2
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s)")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export", help="export a trained RUN to ONNX, for a torch-free `predict`",
        description="Export RUN's model (config.json + model.safetensors) for one audio-only "
        "clip to RUN/model.onnx, with RUN/model.onnx.json recording the sha256 of the run "
        "files it came from. `wavfusion predict` then predicts audio files without a "
        "transcript with onnxruntime, without loading torch; with a transcript, a video the "
        "model uses, a timeline, a GPU, or a stale model.onnx, it uses torch as before.")
    parser.add_argument("run", type=Path, metavar="RUN", help="a run folder (wavfusion train)")
    add_threads_option(parser)
    parser.set_defaults(handler=run_export)
