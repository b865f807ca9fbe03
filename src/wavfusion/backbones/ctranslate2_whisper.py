"""CTranslate2 Whisper folder -> ``transformers`` ``WhisperConfig`` + ``WhisperEncoder`` weights.

Name mapping (CTranslate2 ``WhisperSpec`` -> HF ``WhisperEncoder``)::

    encoder/conv{1,2}/{weight,bias}                  conv{1,2}.{weight,bias}
    encoder/position_encodings/encodings             embed_positions.weight
    encoder/layer_{i}/self_attention/linear_0        layers.{i}.self_attn.{q,k,v}_proj  (fused Q;K;V)
    encoder/layer_{i}/self_attention/linear_1        layers.{i}.self_attn.out_proj
    encoder/layer_{i}/self_attention/layer_norm      layers.{i}.self_attn_layer_norm
    encoder/layer_{i}/ffn/linear_{0,1}               layers.{i}.fc{1,2}
    encoder/layer_{i}/ffn/layer_norm                 layers.{i}.final_layer_norm
    encoder/layer_norm                               layer_norm
    (gamma, beta)                                    (weight, bias)

HF's ``k_proj`` has no bias. Dropping CTranslate2's K bias (zeros in OpenAI's checkpoints) is
exact anyway: it adds ``q . b_k`` to every logit of a query row, which softmax ignores.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from transformers import WhisperConfig
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from wavfusion.backbones.ctranslate2_bin import (
    CTranslate2ModelFile,
    CTranslate2Variable,
    read_ctranslate2_model,
)
from wavfusion.backbones.errors import BackboneFormatError

__all__ = ["convert_ctranslate2_whisper_encoder", "read_ctranslate2_model", "whisper_config_from"]

WHISPER_SPEC_NAME = "WhisperSpec"
_ENCODER_LAYER = re.compile(r"^encoder/layer_(\d+)/")
_DECODER_LAYER = re.compile(r"^decoder/layer_(\d+)/")
_QUANTISED_DTYPES = ("int8", "int16")


def _float32(model: CTranslate2ModelFile, name: str) -> np.ndarray:
    """Variable ``name`` as float32; int8/int16 weights are dequantised with ``<name>_scale``.

    CTranslate2 stores ``q = round(w * scale)`` with one scale per output row (int8) or a
    single scale (int16), so ``w = q / scale``.
    """
    variable: CTranslate2Variable = model.get(name)
    values = variable.to_float32()
    if variable.dtype not in _QUANTISED_DTYPES:
        return values
    scale_name = f"{name}_scale"
    if scale_name not in model:
        raise BackboneFormatError(
            model.path, f"{variable.dtype} variable {name!r} has no {scale_name!r} to dequantise it"
        )
    scale = model.get(scale_name).to_float32()
    return values / scale.reshape((-1,) + (1,) * (values.ndim - 1))


def whisper_config_from(model: CTranslate2ModelFile) -> WhisperConfig:
    """Encoder sizes inferred from the stored tensors (decoder sizes when present)."""
    if model.spec_name != WHISPER_SPEC_NAME:
        raise BackboneFormatError(
            model.path, f"spec is {model.spec_name!r}, expected {WHISPER_SPEC_NAME!r}"
        )
    width, num_mel_bins, _ = model.get("encoder/conv1/weight").shape
    layer_ids = {int(m.group(1)) for name in model.variables if (m := _ENCODER_LAYER.match(name))}
    num_layers = len(layer_ids)
    if layer_ids != set(range(num_layers)):
        raise BackboneFormatError(model.path, f"encoder layers are not 0..n-1: {sorted(layer_ids)}")
    num_heads = int(model.get("encoder/num_heads").array)
    if num_layers == 0 or num_heads <= 0 or width % num_heads:
        raise BackboneFormatError(
            model.path, f"inconsistent encoder: {num_layers} layers, width {width}, {num_heads} heads"
        )
    decoder = {}
    if "decoder/embeddings/weight" in model:
        decoder_layers = {m.group(1) for n in model.variables if (m := _DECODER_LAYER.match(n))}
        decoder = {
            "vocab_size": model.get("decoder/embeddings/weight").shape[0],
            "decoder_layers": len(decoder_layers),
            "decoder_attention_heads": int(model.get("decoder/num_heads").array),
            "max_target_positions": model.get("decoder/position_encodings/encodings").shape[0],
        }
    return WhisperConfig(
        num_mel_bins=num_mel_bins,
        d_model=width,
        encoder_layers=num_layers,
        encoder_attention_heads=num_heads,
        encoder_ffn_dim=model.get("encoder/layer_0/ffn/linear_0/weight").shape[0],
        max_source_positions=model.get("encoder/position_encodings/encodings").shape[0],
        decoder_ffn_dim=model.get("encoder/layer_0/ffn/linear_0/weight").shape[0],
        activation_function="gelu",
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
        scale_embedding=False,
        **decoder,
    )


def _encoder_state_dict(model: CTranslate2ModelFile, num_layers: int) -> dict[str, np.ndarray]:
    state: dict[str, np.ndarray] = {}

    def linear(source: str, target: str) -> None:
        state[f"{target}.weight"] = _float32(model, f"{source}/weight")
        state[f"{target}.bias"] = _float32(model, f"{source}/bias")

    def layer_norm(source: str, target: str) -> None:
        state[f"{target}.weight"] = _float32(model, f"{source}/gamma")
        state[f"{target}.bias"] = _float32(model, f"{source}/beta")

    linear("encoder/conv1", "conv1")
    linear("encoder/conv2", "conv2")
    state["embed_positions.weight"] = _float32(model, "encoder/position_encodings/encodings")
    for i in range(num_layers):
        source, target = f"encoder/layer_{i}", f"layers.{i}"
        qkv_weight = _float32(model, f"{source}/self_attention/linear_0/weight")
        qkv_bias = _float32(model, f"{source}/self_attention/linear_0/bias")
        if qkv_weight.shape[0] % 3 or qkv_bias.shape != qkv_weight.shape[:1]:
            raise BackboneFormatError(
                model.path,
                f"{source}/self_attention/linear_0 is not a fused Q;K;V projection: "
                f"weight {qkv_weight.shape}, bias {qkv_bias.shape}",
            )
        q_weight, k_weight, v_weight = np.split(qkv_weight, 3, axis=0)
        q_bias, _, v_bias = np.split(qkv_bias, 3)
        state[f"{target}.self_attn.q_proj.weight"] = q_weight
        state[f"{target}.self_attn.q_proj.bias"] = q_bias
        state[f"{target}.self_attn.k_proj.weight"] = k_weight
        state[f"{target}.self_attn.v_proj.weight"] = v_weight
        state[f"{target}.self_attn.v_proj.bias"] = v_bias
        linear(f"{source}/self_attention/linear_1", f"{target}.self_attn.out_proj")
        layer_norm(f"{source}/self_attention/layer_norm", f"{target}.self_attn_layer_norm")
        linear(f"{source}/ffn/linear_0", f"{target}.fc1")
        linear(f"{source}/ffn/linear_1", f"{target}.fc2")
        layer_norm(f"{source}/ffn/layer_norm", f"{target}.final_layer_norm")
    layer_norm("encoder/layer_norm", "layer_norm")
    return state


def convert_ctranslate2_whisper_encoder(
    path: str | Path,
) -> tuple[WhisperConfig, dict[str, torch.Tensor]]:
    """Read a CTranslate2 Whisper ``model.bin`` and return HF encoder weights in float32.

    Args:
        path: a CTranslate2 Whisper folder, or its ``model.bin``.

    Returns:
        ``(config, state_dict)`` where ``state_dict`` loads with ``strict=True`` into
        ``transformers.WhisperEncoder(config)``; e.g. for tiny.en ``conv1.weight`` is
        ``(384, 80, 3)`` and ``embed_positions.weight`` is ``(1500, 384)``.

    Raises:
        BackboneFormatError: the file is corrupt, not a Whisper spec, lacks an encoder
            variable, or a tensor's shape disagrees with the inferred sizes.
    """
    model = read_ctranslate2_model(path)
    config = whisper_config_from(model)
    arrays = _encoder_state_dict(model, config.encoder_layers)
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in WhisperEncoder(config).state_dict().items()}
    for key, shape in expected.items():
        if key not in arrays or arrays[key].shape != shape:
            found = arrays[key].shape if key in arrays else "nothing"
            raise BackboneFormatError(model.path, f"{key}: expected shape {shape}, found {found}")
    return config, {key: torch.from_numpy(np.ascontiguousarray(arrays[key])) for key in expected}
