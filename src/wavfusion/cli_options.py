"""Options shared by several sub-commands, defined once: `--device` and `--threads`.

One device vocabulary for every command: `auto` (a CUDA GPU when there is one, else the
CPU), `cpu`, `cuda` or `cuda:N`. Nothing here imports torch until a value is resolved, so
building the parsers stays fast.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

DEVICE_HELP = ("auto (a CUDA GPU when present, else the CPU), cpu, cuda or cuda:N; under a "
               "distributed launcher, auto and cuda pick cuda:LOCAL_RANK")
THREADS_HELP = ("CPU threads of torch, or of onnxruntime on predict's fast path (default: "
                "{default}); 1 is much faster when other jobs share the cores")
_DEVICE = re.compile(r"^(auto|cpu|cuda|cuda:\d+)$")


class OptionError(ValueError):
    """Options that parse but cannot run here (e.g. `--device cuda` without a GPU); the
    command line prints it as a usage error instead of a traceback."""


def device_spec(text: str) -> str:
    """argparse type of `--device`: one of auto, cpu, cuda, cuda:N."""
    value = text.strip().lower()
    if not _DEVICE.match(value):
        raise argparse.ArgumentTypeError(f"not a device: {text!r} (auto, cpu, cuda or cuda:N)")
    return value


def add_device_option(parser, default: str = "auto") -> None:
    parser.add_argument("--device", type=device_spec, default=default, help=DEVICE_HELP)


def add_threads_option(parser, default: int | None = None, shown: str | None = None) -> None:
    """`--threads N`; `shown` describes the default when the command fills it in later."""
    shown = shown or ("torch's own, one per core" if default is None else str(default))
    parser.add_argument("--threads", type=int, default=default,
                        help=THREADS_HELP.format(default=shown))


def apply_threads(threads: int | None) -> None:
    """Set torch's CPU threads process-wide (before any model is built); None keeps torch's."""
    if threads:
        import torch

        torch.set_num_threads(threads)


def cuda_device_present() -> bool:
    """Whether an NVIDIA GPU is visible to this process, told without importing torch (the
    driver's device list; CUDA_VISIBLE_DEVICES set empty or to -1 hides them)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    gpus = Path("/proc/driver/nvidia/gpus")
    return (gpus.is_dir() and any(gpus.iterdir())) or Path("/dev/nvidia0").exists()


def resolve_device(spec: str, cuda_available: bool | None = None,
                   local_rank: int | None = None) -> str:
    """`auto`/`cuda` -> the torch device string this process uses (`cpu`, `cuda:N`).

    Refuses `cuda` when no GPU is visible instead of failing later inside torch."""
    if cuda_available is None:
        import torch

        cuda_available = torch.cuda.is_available()
    if local_rank is None:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if spec == "cpu" or (spec == "auto" and not cuda_available):
        return "cpu"
    if not cuda_available:
        raise OptionError(f"--device {spec}: no CUDA GPU is visible to torch (use cpu or auto)")
    return f"cuda:{local_rank}" if spec in ("auto", "cuda") else spec


def lightning_devices(spec: str, count: int, cuda_available: bool | None = None
                      ) -> tuple[str, int | list[int]]:
    """`--device` and `--devices N` -> Lightning's (accelerator, devices).

    `cuda:N` pins one GPU; `cuda`/`auto` on a GPU machine use `count` GPUs; on the CPU,
    `count` processes (DDP when > 1, on either)."""
    if count < 1:
        raise OptionError(f"--devices {count}: at least 1")
    device = resolve_device(spec, cuda_available, local_rank=0)
    if device == "cpu":
        return "cpu", count
    if spec.startswith("cuda:"):
        if count > 1:
            raise OptionError(f"--device {spec} names one GPU; use --device cuda --devices "
                             f"{count} for several")
        return "gpu", [int(spec.split(":")[1])]
    return "gpu", count
