"""`wavfusion train`, `wavfusion evaluate`, `wavfusion cv`, `wavfusion ablate`."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from wavfusion.cli_options import (
    OptionError,
    add_device_option,
    add_threads_option,
    apply_threads,
    resolve_device,
)
from wavfusion.training.config_cli import DESCRIPTIONS, MODEL_OPTIONS

__all__ = ["MODEL_OPTIONS", "register"]  # MODEL_OPTIONS: wavfusion probe's model flags


def _parsed(command: str, args: argparse.Namespace):
    """(jsonargparse namespace, TrainSettings) of `wavfusion COMMAND ...` (args.rest: the
    arguments after the command; see config_cli.py), with --threads applied and the resolved
    configuration written to OUT/config.yaml. `--device cuda` without a GPU: OptionError."""
    from wavfusion.training import config_cli as options
    from wavfusion.training.reports import write_text

    namespace = options.parse(command, args.rest)
    apply_threads(namespace.threads)  # process-wide, before any model is built
    settings = options.settings_from(namespace, resume=namespace.resume is not None)
    settings.out.mkdir(parents=True, exist_ok=True)
    write_text(settings.out / options.CONFIG_NAME, options.resolved_config(command, namespace))
    return namespace, settings


def _print_metrics(results: dict) -> None:
    for split in ("val", "test"):
        if split in results:
            m = results[split]
            base = m.get("baselines") or {}
            against = (f"   (chance {base['chance']:.1f}; always {base['majority_class']!r}: "
                       f"acc {base['majority_accuracy']:.1f}, WF1 "
                       f"{base['majority_weighted_f1']:.1f})" if base else "")
            print(f"{split:>5}: n={m['num_samples']}  acc {m['accuracy']:.2f}  "
                  f"WF1 {m['weighted_f1']:.2f}  UAR {m['uar']:.2f}{against}")
    baseline = results.get("probe", {}).get("test")
    if baseline and "test" in results:
        gain = results["test"]["weighted_f1"] - baseline["weighted_f1"]
        print(f"probe: test WF1 {baseline['weighted_f1']:.2f} (frozen backbone + logistic "
              f"regression, {results['probe']['run']}); this run {gain:+.2f}")


def reported(handler):
    """A handler whose data and settings errors print one line naming the problem (exit 1)
    instead of a traceback."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        from wavfusion.data.errors import DataError

        try:
            return handler(args)
        except OptionError:
            raise  # a usage error: the command line prints it
        except (DataError, ValueError, FileNotFoundError, KeyError) as error:
            print(f"wavfusion {args.command}: error: {error}", file=sys.stderr)
            return 1

    return run


@reported
def run_train(args: argparse.Namespace) -> int:
    _, settings = _parsed("train", args)  # before importing torch: --help stays fast
    from wavfusion.training.run import train

    results = train(settings)
    if results:
        _print_metrics(results)
        print(f"wrote {settings.out}/ (model.safetensors, config.json, README.md (model card), "
              "metrics.json, confusion.png, config.yaml)")
        if results.get("interrupted"):
            print(f"interrupted: continue with wavfusion train --resume {settings.out}")
    return 0


@reported
def run_evaluate(args: argparse.Namespace) -> int:
    from wavfusion.training.run import evaluate

    apply_threads(args.threads)
    results = evaluate(args.model, args.manifest, args.split, args.cache, args.out,
                       args.batch_size, progress=not args.no_progress,
                       device=resolve_device(args.device))
    m = results[args.split]
    print(json.dumps({k: m[k] for k in ("num_samples", "accuracy", "weighted_f1", "uar",
                                        "baselines")}))
    return 0


@reported
def run_cv(args: argparse.Namespace) -> int:
    namespace, settings = _parsed("cv", args)
    from wavfusion.training.cv import cross_validate, markdown_table

    result = cross_validate(settings, namespace.protocol)
    print(markdown_table(result["folds"], result["summary"]))
    print(f"wrote {settings.out}/cv.json and cv.md")
    if result["interrupted"]:
        print(f"interrupted: continue with wavfusion cv --resume {settings.out}")
    return 0


@reported
def run_ablate(args: argparse.Namespace) -> int:
    namespace, settings = _parsed("ablate", args)
    from wavfusion.training.ablation import run_ablations

    seeds = [settings.seed + offset for offset in range(namespace.seeds)]
    try:
        document = run_ablations(settings, namespace.tables, seeds, settings.out,
                                 keep_models=namespace.keep_models)
    except KeyboardInterrupt:
        print(f"interrupted: the finished runs are kept in {settings.out}/runs/; "
              f"wavfusion ablate --resume {settings.out} continues the one it was in")
        return 130
    print(document["markdown"])
    print(f"wrote {settings.out}/ablation.md and ablation.json")
    return 1 if document["failed"] else 0


TRAINING_COMMANDS = {
    # command: (one-line help, handler); each parses its own options (config_cli.py)
    "train": ("train WavFusion on a manifest (--config FILE.yaml, --resume RUN)", run_train),
    "cv": ("cross-validate (folds, mean ± std)", run_cv),
    "ablate": ("the paper's ablation tables 3-6 (mean ± std over seeds)", run_ablate),
}


def register(subparsers) -> None:
    # train / cv / ablate take --config FILE and every option as a key (jsonargparse,
    # config_cli.py): here they are only listed, and `wavfusion COMMAND --help` shows them.
    for command, (text, handler) in TRAINING_COMMANDS.items():
        parser = subparsers.add_parser(command, help=text, add_help=False,
                                       description=DESCRIPTIONS[command])
        parser.set_defaults(handler=handler, takes_rest=True)
        if command == "train":
            _register_evaluate(subparsers)


def _register_evaluate(subparsers) -> None:
    evaluate = subparsers.add_parser(
        "evaluate", help="score a trained model on a manifest split",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Writes metrics.json and confusion.png (default folder: "
        "MODEL/evaluate-SPLIT).")
    evaluate.add_argument("--model", type=Path, required=True, help="a run folder")
    evaluate.add_argument("--manifest", type=Path, required=True)
    evaluate.add_argument("--split", default="test", help="manifest split to score")
    evaluate.add_argument("--cache", type=Path, help="feature cache folder (default: "
                          "OUT/cache, with only SPLIT extracted)")
    evaluate.add_argument("--out", type=Path, help="folder for metrics.json "
                          "(default: MODEL/evaluate-SPLIT)")
    evaluate.add_argument("--batch-size", type=int, default=16, help="clips per batch")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_device_option(evaluate)
    add_threads_option(evaluate)
    evaluate.set_defaults(handler=run_evaluate)
