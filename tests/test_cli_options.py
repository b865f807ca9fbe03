"""One device vocabulary and one `--threads` for every command."""

from __future__ import annotations

import argparse

import pytest

from wavfusion.cli import build_parser, main
from wavfusion.cli_options import OptionError, device_spec, lightning_devices, resolve_device


@pytest.mark.parametrize("text", ["auto", "cpu", "cuda", "cuda:0", "CUDA:3", " cpu "])
def test_device_spec_accepts_the_vocabulary(text):
    assert device_spec(text) == text.strip().lower()


@pytest.mark.parametrize("text", ["gpu", "cuda:", "cuda:x", "mps", ""])
def test_device_spec_refuses_anything_else(text):
    with pytest.raises(argparse.ArgumentTypeError, match="not a device"):
        device_spec(text)


@pytest.mark.parametrize(("spec", "cuda", "rank", "expected"), [
    ("auto", False, 0, "cpu"), ("auto", True, 0, "cuda:0"), ("auto", True, 2, "cuda:2"),
    ("cuda", True, 1, "cuda:1"), ("cuda:3", True, 0, "cuda:3"), ("cpu", True, 0, "cpu"),
])
def test_resolve_device(spec, cuda, rank, expected):
    assert resolve_device(spec, cuda_available=cuda, local_rank=rank) == expected


@pytest.mark.parametrize("spec", ["cuda", "cuda:0"])
def test_cuda_without_a_gpu_is_an_option_error(spec):
    with pytest.raises(OptionError, match="no CUDA GPU"):
        resolve_device(spec, cuda_available=False, local_rank=0)


def test_lightning_devices():
    assert lightning_devices("auto", 1, cuda_available=False) == ("cpu", 1)
    assert lightning_devices("auto", 4, cuda_available=True) == ("gpu", 4)
    assert lightning_devices("cuda:2", 1, cuda_available=True) == ("gpu", [2])
    assert lightning_devices("cpu", 2, cuda_available=True) == ("cpu", 2)  # DDP on the CPU
    with pytest.raises(OptionError, match="at least 1"):
        lightning_devices("auto", 0, cuda_available=False)
    with pytest.raises(OptionError, match="names one GPU"):
        lightning_devices("cuda:1", 2, cuda_available=True)


@pytest.mark.parametrize("command", ["extract", "evaluate", "predict"])
def test_every_compute_command_takes_device_and_threads(command):
    parser = build_parser()
    required = {"extract": ["--manifest", "m", "--out", "o"],
                "evaluate": ["--model", "r", "--manifest", "m"],
                "predict": ["clip.wav", "--model", "r"]}[command]
    args = parser.parse_args([command, *required, "--device", "cpu", "--threads", "1"])
    assert (args.device, args.threads) == ("cpu", 1)
    assert parser.parse_args([command, *required]).device == "auto"


@pytest.mark.parametrize("command", ["train", "cv", "ablate"])
def test_training_commands_take_device_and_threads(command):
    """train / cv / ablate parse their own options (config files, training/config_cli.py)."""
    from wavfusion.training import config_cli as options

    required = ["--manifest", "m", "--out", "o"]
    parsed = options.parse(command, [*required, "--device", "CPU", "--threads", "1"])
    assert (parsed.device, parsed.threads) == ("cpu", 1)
    assert options.parse(command, required).device == "auto"
    with pytest.raises(SystemExit):
        options.parse(command, [*required, "--device", "gpu"])


def test_train_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("default: 600)", "default: 0.001)", "default: 16)", "default: auto)",
                  "default: cosine)", "default: last)", "default: 0.1)"):
        assert shown in text


def test_cuda_on_a_machine_without_one_is_a_usage_error(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code = main(["evaluate", "--model", str(tmp_path), "--manifest", str(tmp_path / "m.csv"),
                 "--device", "cuda"])
    assert code == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_the_command_line_builds_without_torch():
    """`wavfusion --help` must start fast: building every sub-command's parser imports
    neither torch, transformers, Lightning nor the ASR stack (each command loads what it
    needs when it runs)."""
    import subprocess
    import sys

    heavy = ["torch", "transformers", "lightning", "faster_whisper", "onnxruntime",
             "matplotlib", "sklearn"]
    code = ("import sys; from wavfusion.cli import build_parser; build_parser(); "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
