"""`wavfusion data ...`: prepare a manifest from a raw release, check a manifest.

wavfusion data prepare iemocap --root IEMOCAP_full_release --out iemocap.csv [--classes 6]
wavfusion data prepare meld    --root MELD.Raw --out meld.csv
wavfusion data prepare ravdess --root RAVDESS --out ravdess.csv [--channel speech]
wavfusion data check manifest.csv [--labels iemocap4] [--report problems.csv]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from wavfusion.asr.transcripts import add_transcribe_options
from wavfusion.data.datasets import PrepareResult, prepare_iemocap, prepare_meld, prepare_ravdess
from wavfusion.data.datasets.iemocap import PROTOCOLS
from wavfusion.data.datasets.labels import LABEL_SETS, parse_label_set
from wavfusion.data.datasets.ravdess import CHANNEL_CHOICES
from wavfusion.data.errors import DataError
from wavfusion.data.manifest import SPLITS, write_manifest
from wavfusion.data.media import DEFAULT_MAX_SECONDS, MIN_SECONDS
from wavfusion.data.report import problem_table, table, write_problems


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `data` command group to the top-level parser's sub-commands."""
    data = subparsers.add_parser("data", help="prepare and check dataset manifests")
    commands = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    prepare = commands.add_parser("prepare", help="turn a raw dataset release into a manifest")
    datasets = prepare.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    iemocap = _dataset_parser(datasets, "iemocap", "IEMOCAP_full_release", _prepare_iemocap)
    iemocap.add_argument(
        "--classes",
        type=int,
        choices=(4, 6),
        default=4,
        help="4: neutral/happy(+excited)/sad/angry; 6: adds excited, frustrated",
    )
    iemocap.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="session5",
        help="session5: session 5 is test; loso: split empty, fold = session",
    )
    iemocap.add_argument("--no-video", action="store_true", help="leave the video column empty")
    iemocap.add_argument(
        "--marker-side",
        choices=("left", "right"),
        default="left",
        help="half of the dialog video showing the marker-wearing actor",
    )
    _dataset_parser(datasets, "meld", "MELD.Raw", _prepare_meld)
    ravdess = _dataset_parser(datasets, "ravdess", "the RAVDESS folder", _prepare_ravdess)
    ravdess.add_argument(
        "--channel",
        choices=CHANNEL_CHOICES,
        default="all",
        help="vocal channel to keep (default: all)",
    )
    ravdess.add_argument(
        "--test-actors",
        type=_actor_list,
        default=None,
        help="comma list of test actors (default: the highest 20%%)",
    )
    ravdess.add_argument(
        "--val-actors",
        type=_actor_list,
        default=None,
        help="comma list of val actors (default: the next 10%%)",
    )
    ravdess.add_argument(
        "--folds",
        type=int,
        default=None,
        help="also write a `fold` column (1..K, actor-disjoint) for `wavfusion cv --protocol "
        "loso`: speaker-independent K-fold cross-validation",
    )

    synthetic = datasets.add_parser(
        "synthetic", help="the demo's synthetic corpus (voice, face, transcript) → manifest",
        description="Generate the synthetic three-modality corpus of `wavfusion demo` (4 "
        "classes, speaker-independent splits) into OUT: audio/*.wav, video/*.mp4, "
        "manifest.csv and corpus.json. The same options give byte-identical files.")
    synthetic.add_argument("--out", type=Path, required=True, help="folder to write into")
    synthetic.add_argument("--per-class", type=int, default=40,
                           help="clips per class (default %(default)s)")
    synthetic.add_argument("--speakers", type=int, default=8,
                           help="synthetic speakers, at least 3 (default %(default)s)")
    synthetic.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    synthetic.add_argument("--no-progress", action="store_true", help="no progress bar")
    synthetic.set_defaults(handler=_prepare_synthetic)

    check = commands.add_parser("check", help="validate a manifest and summarise it")
    check.add_argument("manifest", type=Path, help="manifest CSV")
    check.add_argument(
        "--labels",
        help=f"accept only these labels: {', '.join(LABEL_SETS)} or a comma list (default: "
        "the manifest's own label names, listed with their counts)",
    )
    check.add_argument(
        "--max-seconds",
        type=float,
        default=DEFAULT_MAX_SECONDS,
        help="longer clips are noted (they are truncated when loaded)",
    )
    check.add_argument(
        "--min-seconds", type=float, default=MIN_SECONDS, help="shorter clips are bad rows"
    )
    check.add_argument("--report", type=Path, help="write every bad row and note to this CSV")
    check.add_argument("--all", action="store_true", help="print every bad row and note")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    check.set_defaults(handler=_check)


def _dataset_parser(
    datasets, name: str, root_hint: str, handler: Callable
) -> argparse.ArgumentParser:
    parser = datasets.add_parser(name, help=f"{name.upper()} raw release → manifest")
    parser.add_argument("--root", type=Path, required=True, help=f"the release ({root_hint})")
    parser.add_argument("--out", type=Path, required=True, help="manifest CSV to write")
    parser.add_argument("--report", type=Path, help="write every skipped item to this CSV")
    add_transcribe_options(parser, "empty transcripts (marked text_source=asr)")
    parser.set_defaults(handler=lambda args: 1 if _root_missing(args) or _asr_model_missing(args)
                        else handler(args))
    return parser


def _actor_list(text: str) -> set[int]:
    try:
        return {int(part) for part in text.split(",") if part.strip()}
    except ValueError as error:
        message = f"expected comma-separated actor numbers, got {text!r}"
        raise argparse.ArgumentTypeError(message) from error


def _prepare_iemocap(args: argparse.Namespace) -> int:
    result = prepare_iemocap(
        args.root,
        args.out,
        classes=args.classes,
        protocol=args.protocol,
        video=not args.no_video,
        marker_side=args.marker_side,
    )
    return _finish_prepare(args, result)


def _prepare_meld(args: argparse.Namespace) -> int:
    return _finish_prepare(args, prepare_meld(args.root, args.out))


def _prepare_ravdess(args: argparse.Namespace) -> int:
    result = prepare_ravdess(
        args.root,
        args.out,
        channel=args.channel,
        test_actors=args.test_actors,
        val_actors=args.val_actors,
        folds=args.folds,
    )
    return _finish_prepare(args, result)


def _prepare_synthetic(args: argparse.Namespace) -> int:
    from wavfusion.data.synthetic.corpus import generate_corpus

    try:
        manifest = generate_corpus(args.out, per_class=args.per_class, seed=args.seed,
                                   speakers=args.speakers, progress=not args.no_progress)
    except ValueError as error:
        print(f"wavfusion data prepare synthetic: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {manifest} ({args.per_class} clips per class); check it with "
          f"`wavfusion data check {manifest}`")
    return 0


def _root_missing(args: argparse.Namespace) -> bool:
    if args.root.is_dir():
        return False
    print(f"error: {args.root}: folder not found")
    return True


def _asr_model_missing(args: argparse.Namespace) -> bool:
    """Checked before the release is read, so that a wrong --asr-model costs nothing."""
    if not args.transcribe or args.asr_model is None:
        return False
    from wavfusion.asr.transcribe import asr_model_folder

    try:
        asr_model_folder(args.asr_model)
    except FileNotFoundError as error:
        print(f"error: {error}")
        return True
    return False


def _finish_prepare(args: argparse.Namespace, result: PrepareResult) -> int:
    """Write the manifest (if any row) and print what was written and what was left out."""
    if result.rows and getattr(args, "transcribe", False):
        from wavfusion.asr.transcripts import fill_missing_transcripts

        filled, problems = fill_missing_transcripts(result.rows, args.out, args.language,
                                                    model_folder=args.asr_model)
        result.notes.append(f"transcribed {filled} rows that had no transcript")
        result.problems.extend(problems)
    if result.rows:
        write_manifest(args.out, result.rows)
        print(f"wrote {args.out}: {len(result.rows)} rows")
        counts = Counter(row.split for row in result.rows)
        splits = [split for split in (*SPLITS, "") if counts[split]]
        print(table(["split", "rows"], [[split or "(none)", counts[split]] for split in splits]))
    else:
        print(f"no usable rows under {args.root}: {args.out} not written")
    for note in result.notes:
        print(note)
    if result.dropped:
        dropped = ", ".join(f"{code} {n}" for code, n in result.dropped.most_common())
        print(f"dropped {sum(result.dropped.values())} utterances outside the label set: {dropped}")
    if result.problems:
        print(f"skipped {len(result.problems)} items:")
        print(problem_table(result.problems))
    if args.report:
        write_problems(args.report, {"skipped": result.problems})
    return 0 if result.rows else 1


def _check(args: argparse.Namespace) -> int:
    from wavfusion.data.check import check_manifest, format_report  # OpenCV: on use only

    try:
        labels = parse_label_set(args.labels) if args.labels else None
        report = check_manifest(
            args.manifest,
            labels=labels,
            max_seconds=args.max_seconds,
            min_seconds=args.min_seconds,
            progress=not args.no_progress,
        )
    except (DataError, ValueError) as error:
        print(f"error: {error}")
        return 1
    print(format_report(report, show=None if args.all else 20))
    if args.report:
        write_problems(args.report, {"bad": report.bad, "note": report.notes})
    return 0 if report.ok else 1
