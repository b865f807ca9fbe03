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
    lightning_devices,
    resolve_device,
)
from wavfusion.training.recipe import SCHEDULES, SELECTIONS

MODEL_OPTIONS = {
    # flag: (WavFusionConfig field, type, help)
    "--audio-backbone": ("audio_backbone", str, ("backbone name, folder or cached hub id "
                         "(default: the bundled Whisper tiny.en)")),
    "--deep-layers": ("deep_layers", int, ("deep (fusion) layers; 0 = concat baseline "
                      "(default: a quarter of the backbone's layers, 1 of tiny.en's 4)")),
    "--shallow-layers": ("shallow_layers", int, "frozen prefix layers (default: depth - deep)"),
    "--modalities": ("modalities", lambda s: s.split(","), "comma list of audio,text,visual"),
    "--margin-weight": ("margin_weight", float, "lambda of Eq 15 (default 1)"),
    "--margin": ("margin", float, "alpha of Eq 13 (default 0.5)"),
    "--dropout": ("dropout", float, "dropout of the trainable parts"),
}


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model (WavFusionConfig)")
    for flag, (_, kind, text) in MODEL_OPTIONS.items():
        group.add_argument(flag, type=kind, help=text)
    group.add_argument("--no-lvc", action="store_true", help="visual encoder without LVC "
                       "(Table 4)")


def add_training_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", type=Path, required=True, help="manifest CSV")
    parser.add_argument("--cache", type=Path, help="feature cache folder (default: OUT/cache; "
                        "extracted on first use, refused if made with other settings)")
    parser.add_argument("--out", type=Path, required=True, help="run folder to write")
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=int, default=12, help="most epochs to train")
    group.add_argument("--batch-size", type=int, default=16, help="clips per batch")
    group.add_argument("--lr", type=float, default=1e-3,
                       help="AdamW learning rate of the new modules (peak of the schedule)")
    group.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay")
    group.add_argument("--patience", type=int, default=0,
                       help="early stopping: epochs without a better --select metric (0: off)")
    group.add_argument("--backbone-lr-scale", type=float, default=0.1,
                       help="learning-rate multiplier of the pretrained deep-layer weights "
                       "(new modules learn at --lr)")
    group.add_argument("--warmup", type=float, default=0.1,
                       help="fraction of the steps with a linear learning-rate warm-up")
    group.add_argument("--schedule", choices=SCHEDULES, default="cosine",
                       help="learning rate after the warm-up: constant, or cosine/linear "
                       "decay to 0 at the last step of --epochs")
    group.add_argument("--label-smoothing", type=float, default=0.0,
                       help="label smoothing of the training cross-entropy")
    group.add_argument("--ema", type=float, default=0.0, help="validate and keep an "
                       "exponential moving average of the weights, this decay per step "
                       "(0: off)")
    group.add_argument("--select", choices=list(SELECTIONS), default="val_wf1",
                       help="the epoch kept: best val weighted F1, lowest val loss, or last")
    group.add_argument("--seed", type=int, default=0, help="random seed (weights, batches)")
    group.add_argument("--class-weighting", action="store_true",
                       help="inverse-frequency class weights in the cross-entropy")
    group.add_argument("--accumulate", type=int, default=1, help="gradient accumulation steps")
    group.add_argument("--precision", default="32-true", help="Lightning precision, e.g. "
                       "bf16-mixed")
    add_device_option(group)
    group.add_argument("--devices", type=int, default=1,
                       help="processes: GPUs with --device cuda/auto, CPU processes with "
                       "--device cpu (DDP when > 1)")
    group.add_argument("--strategy", default="auto", help="Lightning strategy, e.g. ddp")
    group.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    add_threads_option(group)
    group.add_argument("--raw-audio", action="store_true",
                       help="decode and run the frozen prefix every step instead of caching it")
    group.add_argument("--no-progress", action="store_true",
                       help="no progress bar (the line per epoch stays)")
    group.add_argument("--probe", action="store_true", help="also run `wavfusion probe` on "
                       "the same cache and splits (into OUT/probe) and print its test WF1 "
                       "beside this run's (printed anyway when a probe was run on them)")
    add_model_options(parser)


def settings_from(args: argparse.Namespace):
    from wavfusion import WavFusionConfig
    from wavfusion.training.run import TrainSettings

    apply_threads(args.threads)  # process-wide, before any model is built
    values = {field: getattr(args, flag[2:].replace("-", "_"))
              for flag, (field, _, _) in MODEL_OPTIONS.items()}
    values = {k: v for k, v in values.items() if v is not None}
    if args.no_lvc:
        values["use_lvc"] = False
    accelerator, devices = lightning_devices(args.device, args.devices)
    return TrainSettings(
        manifest=args.manifest, out=args.out, cache=args.cache, epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.lr, weight_decay=args.weight_decay,
        patience=args.patience, backbone_lr_scale=args.backbone_lr_scale,
        warmup=args.warmup, schedule=args.schedule, label_smoothing=args.label_smoothing,
        ema=args.ema, select=args.select, seed=args.seed, class_weighting=args.class_weighting,
        accumulate=args.accumulate, precision=args.precision, accelerator=accelerator,
        devices=devices, strategy=args.strategy, num_workers=args.workers,
        raw_audio=args.raw_audio, progress=not args.no_progress, probe=args.probe,
        model=WavFusionConfig(**values),
    )


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
    from wavfusion.training.run import train

    results = train(settings_from(args))
    if results:
        _print_metrics(results)
        print(f"wrote {args.out}/ (model.safetensors, config.json, metrics.json, confusion.png)")
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
    from wavfusion.training.cv import cross_validate, markdown_table

    result = cross_validate(settings_from(args), args.protocol)
    print(markdown_table(result["folds"], result["summary"]))
    print(f"wrote {args.out}/cv.json and cv.md")
    return 0


def table_numbers(text: str) -> list[int]:
    """`--tables 3,4,5,6` -> [3, 4, 5, 6]."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma list of table numbers: {text!r}") from None


@reported
def run_ablate(args: argparse.Namespace) -> int:
    from wavfusion.training.ablation import run_ablations

    settings = settings_from(args)
    seeds = [settings.seed + offset for offset in range(args.seeds)]
    try:
        document = run_ablations(settings, args.tables, seeds, args.out,
                                 keep_models=args.keep_models)
    except KeyboardInterrupt:
        print(f"interrupted: the finished runs are kept in {args.out}/runs/; the same "
              "command resumes from there")
        return 130
    print(document["markdown"])
    print(f"wrote {args.out}/ablation.md and ablation.json")
    return 1 if document["failed"] else 0


def register(subparsers) -> None:
    train = subparsers.add_parser(
        "train", help="train WavFusion on a manifest",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Train on the manifest's train split, select the epoch with the best "
        "validation weighted F1 (early stopping), and evaluate it on val and test. Writes "
        "OUT/config.json, model.safetensors, metrics.json, confusion.png, logs/, run.json, "
        "command.txt. Frozen features are read from (or first extracted into) the cache.")
    add_training_options(train)
    train.set_defaults(handler=run_train)

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

    cv = subparsers.add_parser(
        "cv", help="cross-validate (folds, mean ± std)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="given: the manifest's split; session5: fold 5 is test; loso: each "
        "`fold` value in turn (IEMOCAP sessions). Writes OUT/fold-*/, cv.json, cv.md.")
    cv.add_argument("--protocol", choices=["given", "session5", "loso"], default="given")
    add_training_options(cv)
    cv.set_defaults(handler=run_cv)

    ablate = subparsers.add_parser(
        "ablate", help="the paper's ablation tables 3-6 (mean ± std over seeds)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Table 3: modalities; 4: without/with LVC; 5: lambda of the margin "
        "loss; 6: shallow/deep splits of the audio backbone. Each varies one setting of the "
        "base configuration given by the other options. Writes OUT/ablation.md, "
        "OUT/ablation.json and one folder per run under OUT/runs/ (finished runs are skipped "
        "when rerun). One feature cache serves every run; Table 6 adds an audio-only cache "
        "per other split under OUT/caches/.")
    ablate.add_argument("--tables", type=table_numbers, default=[3, 4, 5, 6],
                        help="comma list of tables out of 3,4,5,6 (default: all)")
    ablate.add_argument("--seeds", type=int, default=3,
                        help="seeds per setting: --seed, --seed + 1, ... (default 3)")
    ablate.add_argument("--keep-models", action="store_true",
                        help="keep each run's model.safetensors (default: deleted once "
                        "evaluated)")
    add_training_options(ablate)
    ablate.set_defaults(handler=run_ablate)
