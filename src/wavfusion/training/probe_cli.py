"""`wavfusion probe`: logistic regression on the frozen backbone's pooled output."""

from __future__ import annotations

import argparse
from pathlib import Path

from wavfusion.cli_options import add_threads_option, apply_threads


def parse_c_grid(text: str) -> tuple[float, ...]:
    """`--c-grid 0.01,0.1,1` -> (0.01, 0.1, 1.0)."""
    try:
        values = tuple(sorted(float(part) for part in text.split(",") if part.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma list of numbers: {text!r}") from None
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"C values must be positive: {text!r}")
    return values


def run_probe(args: argparse.Namespace) -> int:
    from wavfusion import WavFusionConfig
    from wavfusion.training.cli import MODEL_OPTIONS
    from wavfusion.training.probe import ProbeSettings, probe

    apply_threads(args.threads)
    values = {field: getattr(args, flag[2:].replace("-", "_"))
              for flag, (field, _, _) in MODEL_OPTIONS.items()
              if field in ("audio_backbone", "deep_layers", "shallow_layers")}
    settings = ProbeSettings(manifest=args.manifest, out=args.out, cache=args.cache,
                             c_grid=args.c_grid, progress=not args.no_progress,
                             model=WavFusionConfig(**{k: v for k, v in values.items()
                                                      if v is not None}))
    results = probe(settings)
    for split in ("val", "test"):
        if split in results:
            m = results[split]
            print(f"{split:>5}: n={m['num_samples']}  acc {m['accuracy']:.2f}  "
                  f"WF1 {m['weighted_f1']:.2f}  UAR {m['uar']:.2f}")
    print(f"C={results['C']:g} (best val WF1); wrote {args.out}/ (metrics.json, probe.json, "
          "confusion.png)")
    return 0


def register(subparsers) -> None:
    from wavfusion.config import PROBE_C_GRID as C_GRID
    from wavfusion.training.cli import MODEL_OPTIONS

    parser = subparsers.add_parser(
        "probe", help="baseline: logistic regression on the frozen backbone's output",
        description="The frozen pretrained audio backbone's last-layer output (its deep "
        "layers run as pretrained on the cached prefix: no second extraction), mean + std "
        "pooled over frames, standardised, classified by logistic regression. C is chosen on "
        "the val weighted F1, then the model is refitted on train + val and scored on test. "
        "Writes OUT/metrics.json (the shape `train` writes), probe.json, confusion.png, "
        "command.txt, and a record in the cache that `train` on the same cache and splits "
        "prints beside its own test WF1.")
    parser.add_argument("--manifest", type=Path, required=True, help="manifest CSV")
    parser.add_argument("--cache", type=Path, help="feature cache folder (default: OUT/cache; "
                        "extracted on first use)")
    parser.add_argument("--out", type=Path, required=True, help="run folder to write")
    parser.add_argument("--c-grid", type=parse_c_grid, default=C_GRID,
                        help="comma list of inverse regularisation strengths tried on val "
                        f"(default {','.join(f'{c:g}' for c in C_GRID)})")
    add_threads_option(parser)
    parser.add_argument("--no-progress", action="store_true")
    for flag in ("--audio-backbone", "--deep-layers", "--shallow-layers"):
        _, kind, text = MODEL_OPTIONS[flag]
        parser.add_argument(flag, type=kind, help=text + " (as given to `train`)")
    parser.set_defaults(handler=run_probe)
