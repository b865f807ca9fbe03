"""The options of `train`, `cv` and `ablate`, as one jsonargparse parser per command.

Every option is a key of a YAML config file (`--config FILE.yaml`); options given on the
command line after `--config` override the file's values. The keys are TrainSettings' fields
(`epochs`, `batch_size`, `learning_rate`, ...), `model:` (WavFusionConfig's fields),
`extraction:` (ExtractionOptions' fields: the frozen text and image encoders), and the
command's own (`protocol` for cv; `tables`, `seeds`, `keep_models` for ablate; `device`
and `threads`).
The defaults are written once, in those dataclasses: this module only lists the flags.

A run folder keeps the resolved configuration as `config.yaml`, so that
`wavfusion train --config RUN/config.yaml` reruns it and `wavfusion train --resume RUN`
continues it (see docs/configs.md). jsonargparse and PyYAML are imported only when a command
parses its options: `wavfusion --help` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path
from typing import Any

from wavfusion.cli_options import DEVICE_HELP, THREADS_HELP, device_spec, lightning_devices
from wavfusion.config import WavFusionConfig
from wavfusion.features.settings import ExtractionOptions
from wavfusion.training.recipe import SCHEDULES, SELECTIONS
from wavfusion.training.settings import TrainSettings

if typing.TYPE_CHECKING:
    from jsonargparse import ArgumentParser, Namespace

CONFIG_NAME = "config.yaml"  # the resolved configuration, in every run folder
COMMANDS = ("train", "cv", "ablate")
PROTOCOLS = ("given", "session5", "loso")  # wavfusion.training.cv.PROTOCOLS (kept light)

# flag(s) -> (TrainSettings field, help). The field's type and default are TrainSettings',
# except where CHOICES narrows the type.
TRAINING_FLAGS: dict[tuple[str, ...], tuple[str, str]] = {
    ("--manifest",): ("manifest", "manifest CSV (see `wavfusion data prepare`)"),
    ("--out",): ("out", "run folder to write"),
    ("--cache",): ("cache", ("feature cache folder (default: OUT/cache; extracted on first "
                   "use, refused if made with other settings)")),
    ("--dataset",): ("dataset", ("name of the data for the model card (RUN/README.md): "
                     "iemocap, meld, ravdess or free text (default: guessed from the "
                     "manifest's path)")),
    ("--epochs",): ("epochs", ("epochs to train (default: 12, or more for a small corpus, "
                    "to make --min-steps optimiser steps)")),
    ("--min-steps",): ("min_steps", ("without --epochs: at least this many optimiser steps "
                       "(a small corpus trains more epochs)")),
    ("--batch-size",): ("batch_size", "clips per batch"),
    ("--lr", "--learning-rate"): ("learning_rate", ("AdamW learning rate of the new modules "
                                  "(peak of the schedule)")),
    ("--weight-decay",): ("weight_decay", "AdamW weight decay"),
    ("--patience",): ("patience", ("early stopping: epochs without a better --select metric "
                      "(0: off)")),
    ("--backbone-lr-scale",): ("backbone_lr_scale", ("learning-rate multiplier of the "
                               "pretrained deep-layer weights (new modules learn at --lr)")),
    ("--warmup",): ("warmup", "fraction of the steps with a linear learning-rate warm-up"),
    ("--schedule",): ("schedule", ("learning rate after the warm-up: constant, or "
                      "cosine/linear decay to 0 at the last step of --epochs")),
    ("--label-smoothing",): ("label_smoothing", "label smoothing of the training cross-entropy"),
    ("--time-mask",): ("time_mask", ("share of each clip's cached prefix frames zeroed while "
                       "training, in 0.2-s spans (SpecAugment-style; 0: off)")),
    ("--channel-mask",): ("channel_mask", ("share of the prefix features' channels zeroed "
                          "while training, one band per clip (0: off)")),
    ("--crop",): ("crop", ("at most this share of each clip's cached prefix frames cut off its "
                 "start and end while training, as a segment of a long recording is heard "
                 "(0: off)")),
    ("--ema",): ("ema", ("validate and keep an exponential moving average of the weights, this "
                 "decay per step (0: off)")),
    ("--select",): ("select", ("the epoch kept: best val weighted F1, lowest val loss, or "
                    "last")),
    ("--seed",): ("seed", "random seed (weights, batches)"),
    ("--accumulate",): ("accumulate", "gradient accumulation steps"),
    ("--precision",): ("precision", "Lightning precision, e.g. bf16-mixed"),
    ("--devices",): ("devices", ("processes: GPUs with --device cuda/auto, CPU processes with "
                     "--device cpu (DDP when > 1)")),
    ("--strategy",): ("strategy", "Lightning strategy, e.g. ddp"),
    ("--workers",): ("num_workers", "DataLoader worker processes"),
}
CHOICES: dict[str, Any] = {"schedule": typing.Literal[SCHEDULES],
                           "select": typing.Literal[tuple(SELECTIONS)], "devices": int}
SWITCHES: dict[str, tuple[str, str]] = {
    # --flag / --no-flag -> (TrainSettings field, help)
    "--class-weighting": ("class_weighting", ("inverse-frequency class weights in the "
                          "cross-entropy")),
    "--raw-audio": ("raw_audio", ("decode and run the frozen prefix every step instead of "
                    "caching it")),
    "--progress": ("progress", "progress bar (--no-progress: none; the line per epoch stays)"),
    "--probe": ("probe", ("also run `wavfusion probe` on the same cache and splits (into "
                "OUT/probe) and print its test WF1 beside this run's (printed anyway when a "
                "probe was run on them)")),
}


def _split_commas(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


class CommaList:
    """jsonargparse type of `--modalities audio,text` (a list given in a file stays one);
    shown as `comma list` in --help."""

    __name__ = "comma list"

    def __call__(self, text: str | list[str]) -> list[str]:
        return _split_commas(text) if isinstance(text, str) else list(text)

    def __repr__(self) -> str:
        return self.__name__


# Short flags for the model settings most often changed (each is also `--model.FIELD`);
# as plain argparse (flag -> (field, type, help)) they are `wavfusion probe`'s too.
MODEL_OPTIONS: dict[str, tuple[str, Any, str]] = {
    "--audio-backbone": ("audio_backbone", str, ("backbone name, folder or cached hub id "
                         "(default: the bundled Whisper tiny.en)")),
    "--deep-layers": ("deep_layers", int, ("deep (fusion) layers; 0 = concat baseline "
                      "(default: a quarter of the backbone's layers, 1 of tiny.en's 4)")),
    "--shallow-layers": ("shallow_layers", int, "frozen prefix layers (default: depth - deep)"),
    "--modalities": ("modalities", _split_commas, "comma list of audio,text,visual"),
    "--margin-weight": ("margin_weight", float, "lambda of Eq 15"),
    "--margin": ("margin", float, "alpha of Eq 13"),
    "--dropout": ("dropout", float, "dropout of the trainable parts"),
}
MODEL_SKIPPED = {"audio_backbone_config", "labels", "num_classes"}  # filled in by training
NOT_STORED = ("config", "resume", "print_config")  # never part of a resolved config.yaml


def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _default(cls, name: str) -> Any:
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None  # required (manifest, out): checked after parsing, so --resume can do without


def _tables(text: str | list[int] | int) -> list[int]:
    if isinstance(text, int):
        return [text]
    if isinstance(text, list):
        return [int(value) for value in text]
    return [int(part) for part in str(text).split(",") if part.strip()]


def build_parser(command: str) -> ArgumentParser:
    """The parser of `wavfusion COMMAND` (train, cv or ablate)."""
    from jsonargparse import ActionConfigFile, ActionYesNo, ArgumentParser

    if command not in COMMANDS:
        raise ValueError(f"no options for {command!r}; choose from {COMMANDS}")
    parser = ArgumentParser(prog=f"wavfusion {command}", description=DESCRIPTIONS[command])
    parser.add_argument("--config", action=ActionConfigFile,
                        help="a YAML file of these options (keys as in --print_config); "
                        "options after it override its values")
    parser.add_argument("--resume", type=Path | None, default=None, metavar="RUN",
                        help="continue the run in folder RUN from its last finished epoch "
                        "(its config.yaml; with cv / ablate: the fold or run it was in)")
    hints = _hints(TrainSettings)
    for flags, (name, text) in TRAINING_FLAGS.items():
        kind = CHOICES.get(name, hints[name])
        if name in ("manifest", "out"):
            kind = Path | None  # required, unless --resume names the run
        parser.add_argument(*flags, dest=name, type=kind,
                            default=_default(TrainSettings, name), help=text)
    for flag, (name, text) in SWITCHES.items():
        parser.add_argument(flag, dest=name, action=ActionYesNo(no_prefix="no-"),
                            default=_default(TrainSettings, name), help=text)
    parser.add_argument("--device", type=str, default="auto", help=DEVICE_HELP)
    parser.add_argument("--threads", type=int | None, default=None,
                        help=THREADS_HELP.format(default="torch's own, one per core"))
    if command == "cv":
        parser.add_argument("--protocol", type=typing.Literal[PROTOCOLS], default="given",
                            help="given: the manifest's split; session5: fold 5 is test; "
                            "loso: each `fold` value in turn")
    if command == "ablate":
        parser.add_argument("--tables", type=list[int] | str, default=[3, 4, 5, 6],
                            help="comma list of tables out of 3,4,5,6 (default: all)")
        parser.add_argument("--seeds", type=int, default=3,
                            help="seeds per setting: seed, seed + 1, ... (default 3)")
        parser.add_argument("--keep-models", dest="keep_models", action=ActionYesNo(
            no_prefix="no-"), default=False, help="keep each run's model.safetensors "
            "(default: deleted once evaluated)")
    parser.add_class_arguments(WavFusionConfig, "model", skip=MODEL_SKIPPED)
    model_hints = _hints(WavFusionConfig)
    for flag, (name, _, text) in MODEL_OPTIONS.items():
        kind = CommaList() if name == "modalities" else model_hints[name]
        parser.add_argument(flag, dest=f"model.{name}", type=kind, help=f"{text} (= "
                            f"--model.{name})", default=_default(WavFusionConfig, name))
    parser.add_argument("--no-lvc", dest="model.use_lvc", action="store_false",
                        help="visual encoder without LVC, Table 4 (= --model.use_lvc false)")
    parser.add_class_arguments(ExtractionOptions, "extraction")
    # titled here: jsonargparse 4.30 (the floor) takes no help= in add_class_arguments
    parser.groups["model"].title = "model (WavFusionConfig; the short flags set the same keys)"
    parser.groups["extraction"].title = "frozen feature extraction (must match the cache)"
    return parser


DESCRIPTIONS = {
    "train": "Train on the manifest's train split, keep the epoch chosen by --select on the "
    "val split, and evaluate it on val and test. Writes OUT/config.yaml "
    "(the resolved options), config.json + model.safetensors (the model), metrics.json, "
    "confusion.png, README.md (the model card), logs/, run.json, command.txt, and while "
    "training last.ckpt (resume with --resume OUT). Frozen features are read from (or first "
    "extracted into) the cache.",
    "cv": "given: the manifest's split; session5: fold 5 is test; loso: each `fold` value in "
    "turn (IEMOCAP sessions). Writes OUT/config.yaml, OUT/fold-*/, cv.json, cv.md.",
    "ablate": "Table 3: modalities; 4: without/with LVC; 5: lambda of the margin loss; 6: "
    "shallow/deep splits of the audio backbone. Each varies one setting of the base "
    "configuration given by the other options. Writes OUT/config.yaml, OUT/ablation.md, "
    "OUT/ablation.json and one folder per run under OUT/runs/ (finished runs are skipped "
    "when rerun). One feature cache serves every run; Table 6 adds an audio-only cache per "
    "other split under OUT/caches/.",
}


def parse(command: str, argv: list[str]) -> Namespace:
    """Parse `argv` (the arguments after the command); `--resume RUN` reads RUN/config.yaml
    first (options given beside it still override it). Exits with a message on bad input."""
    parser = build_parser(command)
    resume = _resume_folder(argv)
    if resume is not None:
        stored = resume / CONFIG_NAME
        if not stored.is_file():
            parser.error(f"--resume {resume}: no {CONFIG_NAME} there (not a run folder)")
        argv = ["--config", str(stored), *argv]
    namespace = parser.parse_args(argv)
    if resume is not None:
        namespace.out = resume
    for name in ("manifest", "out"):
        if namespace.get(name) is None:
            parser.error(f"--{name} is required (or --config FILE, or --resume RUN)")
    try:
        namespace.device = device_spec(namespace.device)
    except argparse.ArgumentTypeError as error:
        parser.error(f"--device: {error}")
    if command == "ablate":
        try:
            namespace.tables = _tables(namespace.tables)
        except ValueError:
            parser.error(f"--tables: not a comma list of table numbers: {namespace.tables!r}")
    return namespace


def _resume_folder(argv: list[str]) -> Path | None:
    for index, part in enumerate(argv):
        if part == "--resume" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if part.startswith("--resume="):
            return Path(part.split("=", 1)[1])
    return None


def resolved_config(command: str, namespace: Namespace) -> str:
    """The YAML of every option's value (what `--config` reads back), without --config and
    --resume."""
    import yaml

    values = _plain(namespace.as_dict())
    for name in NOT_STORED:
        values.pop(name, None)
    return (f"# wavfusion {command}: the resolved options of this run. Rerun it with\n"
            f"#   wavfusion {command} --config {CONFIG_NAME}   (from this folder's parent: "
            f"--config {values['out']}/{CONFIG_NAME})\n"
            f"# or continue it after an interruption with: wavfusion {command} --resume "
            f"{values['out']}\n" + yaml.safe_dump(values, sort_keys=False))


def _plain(value: Any, paths: bool = True) -> Any:
    """Plain YAML values (`paths`: as text), without jsonargparse's `__path__` metadata."""
    if isinstance(value, dict):
        return {key: _plain(item, paths) for key, item in value.items()
                if not key.startswith("__")}
    if isinstance(value, list | tuple):
        return [_plain(item, paths) for item in value]
    if isinstance(value, Path) and paths:
        return str(value)
    return value


def settings_from(namespace: Namespace, resume: bool = False) -> TrainSettings:
    """TrainSettings of a parsed namespace (`model` and `extraction` built; --device and
    --devices as Lightning's accelerator and devices, which refuses `cuda` without a GPU)."""
    values = _plain(namespace.as_dict(), paths=False)
    names = {field.name for field in dataclasses.fields(TrainSettings)}
    chosen = {name: values[name] for name in names if name in values}
    chosen["model"] = WavFusionConfig(**values["model"])
    chosen["extraction"] = ExtractionOptions(**values["extraction"])
    chosen["resume"] = resume
    chosen["accelerator"], chosen["devices"] = lightning_devices(values["device"],
                                                                 values["devices"])
    return TrainSettings(**chosen)


def load_config(path: str | Path, command: str = "train") -> Namespace:
    """Parse a config file alone (as `wavfusion COMMAND --config PATH` would)."""
    return parse(command, ["--config", str(path)])
