"""Writes small CTranslate2-format ``model.bin`` files for tests (valid or deliberately broken)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import torch

DTYPE_IDS = {
    np.dtype(np.float32): 0,
    np.dtype(np.int8): 1,
    np.dtype(np.int16): 2,
    np.dtype(np.int32): 3,
    np.dtype(np.float16): 4,
}
BFLOAT16_ID = 5


def ct2_string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def variable_record(
    name: str, array: np.ndarray, dtype_id: int | None = None, num_bytes: int | None = None
) -> bytes:
    """One variable; ``dtype_id``/``num_bytes`` override the true values to corrupt it."""
    array = np.asarray(array)  # (ascontiguousarray would turn a scalar into shape (1,))
    dtype_id = DTYPE_IDS[array.dtype] if dtype_id is None else dtype_id
    data = array.tobytes()
    header = ct2_string(name) + struct.pack("<B", array.ndim)
    header += struct.pack(f"<{array.ndim}I", *array.shape)
    header += struct.pack("<BI", dtype_id, len(data) if num_bytes is None else num_bytes)
    return header + data


def model_bin_bytes(
    records: list[bytes],
    aliases: dict[str, str] | None = None,
    spec_name: str = "WhisperSpec",
    version: int = 6,
) -> bytes:
    body = struct.pack("<I", version) + ct2_string(spec_name) + struct.pack("<II", 3, len(records))
    body += b"".join(records) + struct.pack("<I", len(aliases or {}))
    for alias, target in (aliases or {}).items():
        body += ct2_string(alias) + ct2_string(target)
    return body


def write_model_bin(path: Path, variables: dict[str, np.ndarray], **kwargs) -> Path:
    """A valid file holding ``variables`` (dtype from each array)."""
    records = [variable_record(name, array) for name, array in variables.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model_bin_bytes(records, **kwargs))
    return path


def ct2_whisper_variables(
    encoder_state: dict[str, torch.Tensor], num_heads: int, dtype=np.float32
) -> dict[str, np.ndarray]:
    """The inverse of the converter: an HF ``WhisperEncoder`` state dict in CTranslate2 names.

    The K bias, absent in HF, is written as zeros, as CTranslate2's converter does.
    """
    state = {key: value.numpy().astype(dtype) for key, value in encoder_state.items()}
    out = {"encoder/num_heads": np.array(num_heads, dtype=np.int16)}

    def copy(target: str, source: str, names=("weight", "bias")) -> None:
        for ct2_name, hf_name in zip(names, ("weight", "bias")):
            out[f"{target}/{ct2_name}"] = state[f"{source}.{hf_name}"]

    copy("encoder/conv1", "conv1")
    copy("encoder/conv2", "conv2")
    out["encoder/position_encodings/encodings"] = state["embed_positions.weight"]
    layers = {int(key.split(".")[1]) for key in state if key.startswith("layers.")}
    for i in sorted(layers):
        attention = f"layers.{i}.self_attn"
        q_bias = state[f"{attention}.q_proj.bias"]
        out[f"encoder/layer_{i}/self_attention/linear_0/weight"] = np.concatenate(
            [state[f"{attention}.{p}_proj.weight"] for p in "qkv"]
        )
        out[f"encoder/layer_{i}/self_attention/linear_0/bias"] = np.concatenate(
            [q_bias, np.zeros_like(q_bias), state[f"{attention}.v_proj.bias"]]
        )
        copy(f"encoder/layer_{i}/self_attention/linear_1", f"{attention}.out_proj")
        copy(f"encoder/layer_{i}/self_attention/layer_norm", f"layers.{i}.self_attn_layer_norm",
             ("gamma", "beta"))
        copy(f"encoder/layer_{i}/ffn/linear_0", f"layers.{i}.fc1")
        copy(f"encoder/layer_{i}/ffn/linear_1", f"layers.{i}.fc2")
        copy(f"encoder/layer_{i}/ffn/layer_norm", f"layers.{i}.final_layer_norm", ("gamma", "beta"))
    copy("encoder/layer_norm", "layer_norm", ("gamma", "beta"))
    return out
