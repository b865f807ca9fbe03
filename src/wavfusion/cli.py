"""The `wavfusion` command line: one entry point, one sub-command group per concern.

Each concern registers its own sub-commands through a `register(subparsers)` function in its
package (e.g. `wavfusion.data.cli`), so this file stays a table of contents.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# (module, sub-command group) in the order shown by --help; a module that is not written yet
# is simply absent from the help.
COMMAND_MODULES = [
    "wavfusion.data.cli",
    "wavfusion.features.cli",
    "wavfusion.training.cli",
    "wavfusion.training.probe_cli",
    "wavfusion.inference.cli",
    "wavfusion.inference.export_cli",
    "wavfusion.serve.cli",
    "wavfusion.recipes.demo.cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wavfusion",
        description="Multimodal speech emotion recognition with WavFusion "
        "(audio + transcript + face video).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name is None or not module_name.startswith(error.name):
                raise  # a real import error inside the module, not a missing module
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if getattr(args, "takes_rest", False):  # the sub-command parses its own arguments
        args.rest = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from wavfusion.cli_options import OptionError

    try:
        return int(args.handler(args) or 0)
    except OptionError as error:
        print(f"wavfusion {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
