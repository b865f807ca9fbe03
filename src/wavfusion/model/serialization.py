"""Save and load a WavFusion as `config.json` + `model.safetensors`. Nothing is unpickled."""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_model as load_safetensors
from safetensors.torch import save_model as save_safetensors

from wavfusion.atomic import atomic_write, write_text
from wavfusion.config import WavFusionConfig

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
FORMAT_VERSION = 2
"""2: the LVC block as CFPNet publishes it (quarter-width stem bottleneck, normalised shortcut).
A format-1 file loads when its model has no LVC, the only part whose parameters changed."""


class UnsafeModelFileError(ValueError):
    """A pickle-based model file: refused, since unpickling can run arbitrary code."""


class ModelFormatError(ValueError):
    """A model folder written in a format this version cannot read."""


def _check_format(config_path: Path, version, values: dict) -> None:
    """Accept the current format, and format 1 for models without an LVC block."""
    if version == FORMAT_VERSION:
        return
    if version == 1:
        has_lvc = values.get("use_lvc", True) and "visual" in values.get(
            "modalities", ["visual"]
        )
        if not has_lvc:
            return
        raise ModelFormatError(
            f"{config_path}: wavfusion_format 1 holds the earlier LVC block's parameters "
            f"(half-width stem, no shortcut BatchNorm), which format {FORMAT_VERSION} replaced "
            "with CFPNet's published layout; retrain the model with this version"
        )
    raise ModelFormatError(
        f"{config_path}: wavfusion_format {version!r}, expected {FORMAT_VERSION}"
    )


def save_model(model, folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    values = {"wavfusion_format": FORMAT_VERSION, **model.config.to_dict()}
    text = json.dumps(values, indent=2, sort_keys=True)
    write_text(folder / CONFIG_NAME, text + "\n")
    atomic_write(folder / WEIGHTS_NAME, lambda path: save_safetensors(model, str(path)))
    return folder


def load_model(model_class, folder: str | Path):
    folder = Path(folder)
    if folder.suffix.lower() in PICKLE_SUFFIXES:
        raise UnsafeModelFileError(
            f"{folder}: pickle-based model files are refused (they can run code when loaded); "
            f"pass a folder with {CONFIG_NAME} and {WEIGHTS_NAME}"
        )
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a model folder ({CONFIG_NAME} + {WEIGHTS_NAME})")
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
        if pickles:
            raise UnsafeModelFileError(
                f"{folder}: holds only pickle-based weights ({', '.join(pickles)}), which are "
                f"refused; wavfusion reads {WEIGHTS_NAME}"
            )
        raise FileNotFoundError(f"{folder}: {WEIGHTS_NAME} is missing")
    try:
        values = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{folder / CONFIG_NAME}: unreadable model config: {error}") from error
    _check_format(folder / CONFIG_NAME, values.pop("wavfusion_format", None), values)
    model = model_class(WavFusionConfig.from_dict(values), load_backbone_weights=False)
    load_safetensors(model, str(weights), strict=True)
    return model
