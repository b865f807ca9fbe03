"""`wavfusion predict FILE... --model RUN`: the emotion of your own clips and recordings.

One JSON object per file on stdout (one per line, as each finishes), or a table with
`--format table`. A recording longer than the model's `max_seconds` becomes an emotion
timeline (segments, each predicted; see timeline_cli.py and docs/timeline.md). A file that cannot be predicted is named on stderr with the reason and
skipped; the others are still predicted, and the exit code is 1 when any file failed.

Fast path: when RUN holds a fresh model.onnx (`wavfusion export RUN`) and every file is an
audio-only clip the graph answers exactly (no transcript, no timeline, on the CPU), the files
are predicted with onnxruntime, without importing torch (onnx_predictor.py); otherwise, or
when onnxruntime is not installed, with the torch Predictor, as before.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from wavfusion.asr.transcripts import add_transcribe_options
from wavfusion.cli_options import (
    add_device_option,
    add_threads_option,
    apply_threads,
    cuda_device_present,
    resolve_device,
)
from wavfusion.data.errors import DataError, Problem
from wavfusion.inference.timeline_cli import (
    add_timeline_options,
    option_problem,
    print_timeline,
    timeline_options,
    wants_timeline,
)


def _transcript_source(args: argparse.Namespace):
    """file -> given transcript (or None): from --transcript, --transcripts CSV, or nothing."""
    if args.transcripts is not None:
        from wavfusion.inference.transcripts import read_transcripts

        table = read_transcripts(args.transcripts)
        return table.get
    return lambda file: args.transcript


def _is_timeline(args: argparse.Namespace, predictor, file: Path) -> bool:
    """Whether `file` is predicted as a timeline (timeline_cli.py's rule). A file too long
    for one prediction with --segments off is refused here (TimelineRefused), never cut."""
    from wavfusion.inference.recording import declared_seconds
    from wavfusion.inference.timeline import TimelineRefused, resolve_mode

    if wants_timeline(args):
        return True
    model_seconds = predictor.encoders.options.max_seconds
    seconds = declared_seconds(file)
    if args.segments == "off" and seconds is not None and seconds > model_seconds:
        raise TimelineRefused(file, f"the recording lasts {seconds:.1f} s, longer than the "
                              f"{model_seconds:g} s the model hears at once (max_seconds); "
                              "cut it with --segments auto, vad or fixed")
    return resolve_mode(args.segments, seconds, model_seconds) != "off"


def _fast_predictor(args: argparse.Namespace):
    """RUN's OnnxPredictor when this request is one its model.onnx answers exactly (every
    file an audio-only clip within max_seconds, no transcript, no timeline, on the CPU);
    None otherwise: the torch path predicts."""
    on_cpu = args.device == "cpu" or (args.device == "auto" and not cuda_device_present())
    if (args.transcript is not None or args.transcripts is not None or args.transcribe
            or wants_timeline(args) or not on_cpu):
        return None
    try:
        from wavfusion.inference.onnx_predictor import OnnxPredictor
    except ImportError:  # onnxruntime is not installed
        return None
    try:
        predictor = OnnxPredictor.from_run(args.model, args.threads)
    except (RuntimeError, OSError) as error:  # onnxruntime refused the file
        print(f"wavfusion predict: {args.model}/model.onnx cannot be loaded ({error}); "
              "predicting with torch", file=sys.stderr)
        return None
    if predictor is None or not all(predictor.answers(file) for file in args.files):
        return None
    return predictor


def _torch_predict(args: argparse.Namespace) -> Callable[[Path], dict | None] | int:
    """The torch Predictor's prediction of one file (None: it printed a timeline), or the
    exit code 2 when RUN cannot be loaded."""
    from wavfusion.inference.predictor import Predictor
    from wavfusion.quiet import quiet_third_party

    quiet_third_party()  # e.g. transformers' "Loading weights" bars on every run
    apply_threads(args.threads)
    try:
        transcript_of = _transcript_source(args)
        options = timeline_options(args)
        predictor = Predictor.from_run(args.model, transcribe=args.transcribe,
                                       language=args.language, asr_model=args.asr_model,
                                       device=resolve_device(args.device))
    except (DataError, FileNotFoundError, ValueError) as error:
        print(f"wavfusion predict: error: {error}", file=sys.stderr)
        return 2
    timelines = 0

    def predict(file: Path) -> dict | None:
        nonlocal timelines
        if _is_timeline(args, predictor, file):
            print_timeline(predictor.predict_timeline(file, args.segments, options,
                                                      args.subtitles), args, timelines == 0)
            timelines += 1
            return None
        return predictor.predict(file, transcript_of(file))

    return predict


def run_predict(args: argparse.Namespace) -> int:
    if args.transcript is not None and len(args.files) > 1:
        print("wavfusion predict: error: --transcript gives one text for one file; for "
              "several files use --transcripts CSV", file=sys.stderr)
        return 2
    problem = option_problem(args)
    if problem is not None:
        print(f"wavfusion predict: error: {problem}", file=sys.stderr)
        return 2
    from wavfusion.inference.table import format_table

    fast = _fast_predictor(args)
    predict = fast.predict if fast is not None else _torch_predict(args)
    if isinstance(predict, int):
        return predict
    results, failures, timelines = [], [], 0
    for file in args.files:
        try:
            result = predict(file)
        except DataError as error:
            failures.append(Problem(str(file), error.reason))
            print(f"wavfusion predict: {file}: {error.reason} (skipped)", file=sys.stderr)
            continue
        if result is None:  # a timeline, printed
            timelines += 1
            continue
        results.append(result)
        if args.format == "json":
            print(json.dumps(result, ensure_ascii=False, allow_nan=False), flush=True)
    if args.format == "table" and results:
        print(format_table(results))
    if failures:
        print(f"wavfusion predict: {len(results) + timelines} of {len(args.files)} files predicted; "
              f"{len(failures)} failed:", file=sys.stderr)
        for problem in failures:
            print(f"  {problem.item}: {problem.reason}", file=sys.stderr)
        return 1
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="predict the emotion of audio or video files",
        description="Predict with a trained RUN (wavfusion train --out RUN). FILE: any audio "
        "or video file FFmpeg reads (video: its audio track and sampled face frames). Prints "
        "one JSON object per file: label, probabilities, modalities used and missing, mean "
        "fusion gate per deep layer, timings. A missing transcript or video: predicted from "
        "what is there, and said so. Read RUN/README.md first, the run's model card: the data "
        "and labels it was trained on, its scores, intended use and limits.")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--model", type=Path, required=True,
                        help="a run folder (its README.md is the model card)")
    text = parser.add_mutually_exclusive_group()
    text.add_argument("--transcript", help="what is said in FILE (one file)")
    text.add_argument("--transcripts", type=Path, metavar="CSV",
                      help="CSV with columns file,transcript (file: path or base name)")
    add_transcribe_options(parser, "a missing transcript")
    parser.add_argument("--format", choices=["json", "table", "csv", "srt"], default="json",
                        help="json: one object per line (default); table: for people; csv: "
                        "one row per segment; srt: subtitles carrying the emotion")
    add_device_option(parser)
    add_threads_option(parser)
    add_timeline_options(parser)
    parser.set_defaults(handler=run_predict)
