"""`wavfusion demo`: generate a corpus, train, compare, ablate, predict, report (see
wavfusion.recipes.demo.pipeline)."""

from __future__ import annotations

import argparse
from pathlib import Path

from wavfusion.cli_options import add_threads_option
from wavfusion.recipes.demo.settings import ABLATION_TABLES, DemoSettings


def _tables(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def settings_from(args: argparse.Namespace) -> DemoSettings:
    """DemoSettings from the parsed options: the defaults (or --quick's), with every option
    given on the command line applied on top."""
    given = {name: value for name, value in vars(args).items()
             if name in DemoSettings.__dataclass_fields__ and value is not None}
    given["progress"] = not args.no_progress
    return DemoSettings.quick(**given) if args.quick else DemoSettings(**given)


def run_demo_command(args: argparse.Namespace) -> int:
    from wavfusion.recipes.demo.pipeline import run_demo

    settings = settings_from(args)
    try:
        run_demo(settings)
    except KeyboardInterrupt:
        print(f"\ninterrupted; run the same command again to resume from {settings.out}/")
        return 130
    return 0


def register(subparsers) -> None:
    defaults = DemoSettings()
    parser = subparsers.add_parser(
        "demo", help="the whole system on a generated corpus, offline, in minutes",
        description="Generate a small synthetic corpus (voice, face video, transcript), "
        "extract features once, train the full model, the concat baseline and each single "
        "modality over seeds, run the paper's ablation tables, predict one held-out clip, "
        "and write OUT/report.md and OUT/report.json. Rerunning reuses the corpus, the "
        "feature cache and every finished run. Defaults take about 7 minutes on 2 CPU "
        "cores; --quick about 2.")
    parser.add_argument("--out", type=Path, default=defaults.out,
                        help=f"output folder (default: {defaults.out})")
    parser.add_argument("--seeds", type=int, help="training seeds of the comparison "
                        f"(default {defaults.seeds})")
    parser.add_argument("--per-class", type=int, help="corpus clips per emotion "
                        f"(default {defaults.per_class})")
    parser.add_argument("--quick", action="store_true", help="smaller and faster: "
                        f"{DemoSettings.quick().per_class} clips per class, one seed, "
                        "Tables 3 and 6")
    advanced = parser.add_argument_group("advanced (defaults sized for under 10 minutes)")
    advanced.add_argument("--epochs", type=int, help=f"default {defaults.epochs}")
    advanced.add_argument("--deep-layers", type=int, help="fusion layers of Whisper tiny.en's "
                          f"4 (default {defaults.deep_layers})")
    advanced.add_argument("--tables", type=_tables, help="ablation tables, comma list of "
                          f"{','.join(map(str, ABLATION_TABLES))}; empty for none")
    advanced.add_argument("--ablation-seeds", type=int,
                          help=f"seeds of the ablation tables (default {defaults.ablation_seeds})")
    advanced.add_argument("--speakers", type=int, help="synthetic speakers (>= 3; default "
                          f"{defaults.speakers})")
    add_threads_option(advanced, shown=str(defaults.threads))
    advanced.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(handler=run_demo_command)
