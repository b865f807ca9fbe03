"""`wavfusion predict FILE... --model RUN`: the emotion of your own clips.

One JSON object per file on stdout (one per line, as each finishes), or a table with
`--format table`. A file that cannot be predicted is named on stderr with the reason and
skipped; the others are still predicted, and the exit code is 1 when any file failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from wavfusion.asr.transcripts import add_transcribe_options
from wavfusion.cli_options import (
    add_device_option,
    add_threads_option,
    apply_threads,
    resolve_device,
)
from wavfusion.data.errors import DataError, Problem


def _transcript_source(args: argparse.Namespace):
    """file -> given transcript (or None): from --transcript, --transcripts CSV, or nothing."""
    if args.transcripts is not None:
        from wavfusion.inference.transcripts import read_transcripts

        table = read_transcripts(args.transcripts)
        return table.get
    return lambda file: args.transcript


def run_predict(args: argparse.Namespace) -> int:
    if args.transcript is not None and len(args.files) > 1:
        print("wavfusion predict: error: --transcript gives one text for one file; for "
              "several files use --transcripts CSV", file=sys.stderr)
        return 2
    from wavfusion.inference.predictor import Predictor
    from wavfusion.inference.table import format_table
    from wavfusion.quiet import quiet_third_party

    quiet_third_party()  # e.g. transformers' "Loading weights" bars on every run
    apply_threads(args.threads)
    try:
        transcript_of = _transcript_source(args)
        predictor = Predictor.from_run(args.model, transcribe=args.transcribe,
                                       language=args.language, asr_model=args.asr_model,
                                       device=resolve_device(args.device))
    except (DataError, FileNotFoundError, ValueError) as error:
        print(f"wavfusion predict: error: {error}", file=sys.stderr)
        return 2
    results, failures = [], []
    for file in args.files:
        try:
            result = predictor.predict(file, transcript_of(file))
        except DataError as error:
            failures.append(Problem(str(file), error.reason))
            print(f"wavfusion predict: {file}: {error.reason} (skipped)", file=sys.stderr)
            continue
        results.append(result)
        if args.format == "json":
            print(json.dumps(result, ensure_ascii=False, allow_nan=False), flush=True)
    if args.format == "table":
        print(format_table(results))
    if failures:
        print(f"wavfusion predict: {len(results)} of {len(args.files)} files predicted; "
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
        "what is there, and said so.")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--model", type=Path, required=True, help="a run folder")
    text = parser.add_mutually_exclusive_group()
    text.add_argument("--transcript", help="what is said in FILE (one file)")
    text.add_argument("--transcripts", type=Path, metavar="CSV",
                      help="CSV with columns file,transcript (file: path or base name)")
    add_transcribe_options(parser, "a missing transcript")
    parser.add_argument("--format", choices=["json", "table"], default="json",
                        help="json: one object per line (default); table: for people")
    add_device_option(parser)
    add_threads_option(parser)
    parser.set_defaults(handler=run_predict)
