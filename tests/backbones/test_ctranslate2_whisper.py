"""The CTranslate2 -> transformers Whisper encoder conversion, against CTranslate2 itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from tests.backbones.conftest import TINY_HEADS, require_package, speech_like
from tests.backbones.ct2_files import ct2_whisper_variables, write_model_bin
from wavfusion.backbones import encode_variable_length, load_whisper_encoder, whisper_log_mel
from wavfusion.backbones.ctranslate2_whisper import convert_ctranslate2_whisper_encoder
from wavfusion.backbones.errors import BackboneFormatError, BackboneNotFoundError

# Measured max |difference|, fp32: 3.3e-5 (30-s window) and 3.8e-5 (3.3-s window) on the
# synthetic signal below; 2.3e-5 and 1.0e-4 on a RAVDESS clip; up to 7e-4 on white noise.
CT2_TOLERANCE = 1e-3


def test_tiny_encoder_round_trips_exactly(tiny_encoder, tiny_ct2_folder):
    config, state_dict = convert_ctranslate2_whisper_encoder(tiny_ct2_folder)
    assert (config.encoder_layers, config.d_model, config.encoder_attention_heads) == (2, 8, 2)
    assert (config.num_mel_bins, config.max_source_positions) == (4, 20)
    reference = tiny_encoder.state_dict()
    assert state_dict.keys() == reference.keys()
    for key, value in reference.items():
        assert value.dtype == state_dict[key].dtype == torch.float32
        assert torch.equal(value, state_dict[key]), key


def test_bundled_sizes_are_inferred(bundled_encoder):
    encoder, front_end = bundled_encoder
    config = encoder.config
    assert (config.encoder_layers, config.d_model, config.encoder_attention_heads) == (4, 384, 6)
    assert (config.num_mel_bins, config.max_source_positions) == (80, 1500)
    assert (front_end.num_mel_bins, front_end.max_frames) == (80, 3000)
    assert not encoder.training
    assert all(p.dtype == torch.float32 and not p.is_meta for p in encoder.parameters())


def ct2_encode(folder, features: torch.Tensor) -> np.ndarray:
    import ctranslate2

    model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="float32")
    return np.array(model.encode(ctranslate2.StorageView.from_array(features.numpy())))


def test_encoder_matches_ctranslate2_on_the_30s_window(bundled_folder, bundled_encoder):
    require_package("ctranslate2")
    encoder, front_end = bundled_encoder
    waveform = np.zeros(30 * 16_000, np.float32)
    waveform[: 4 * 16_000] = speech_like(4.0)
    features, _ = front_end(waveform)
    with torch.no_grad():
        ours = encoder(features).last_hidden_state.numpy()
    theirs = ct2_encode(bundled_folder, features)
    difference = np.abs(ours - theirs).max()
    print(f"max |HF - CTranslate2| on 30 s: {difference:.2e}")
    assert ours.shape == theirs.shape == (1, 1500, 384)
    assert difference <= CT2_TOLERANCE


def test_variable_length_path_matches_ctranslate2_on_a_short_window(bundled_folder, bundled_encoder):
    require_package("ctranslate2")
    encoder, front_end = bundled_encoder
    features, frame_counts = front_end(speech_like(3.3))
    with torch.no_grad():
        ours = encode_variable_length(encoder, features, frame_counts).last_hidden_state.numpy()
    theirs = ct2_encode(bundled_folder, features)
    difference = np.abs(ours - theirs).max()
    print(f"max |ours - CTranslate2| on 3.3 s: {difference:.2e}")
    assert ours.shape == theirs.shape == (1, 165, 384)
    assert difference <= CT2_TOLERANCE


def test_int8_weights_are_dequantised_with_their_scale(tmp_path, tiny_encoder):
    variables = ct2_whisper_variables(tiny_encoder.state_dict(), TINY_HEADS)
    weight = variables["encoder/layer_0/ffn/linear_0/weight"]
    scale = (127.0 / np.abs(weight).max(axis=1)).astype(np.float32)
    variables["encoder/layer_0/ffn/linear_0/weight"] = np.round(weight * scale[:, None]).astype(np.int8)
    variables["encoder/layer_0/ffn/linear_0/weight_scale"] = scale
    _, state_dict = convert_ctranslate2_whisper_encoder(write_model_bin(tmp_path / "q" / "model.bin", variables))
    dequantised = state_dict["layers.0.fc1.weight"].numpy()
    np.testing.assert_allclose(dequantised, weight, atol=float(np.abs(weight).max()) / 127)

    del variables["encoder/layer_0/ffn/linear_0/weight_scale"]
    with pytest.raises(BackboneFormatError, match="has no 'encoder/layer_0/ffn/linear_0/weight_scale'"):
        convert_ctranslate2_whisper_encoder(write_model_bin(tmp_path / "n" / "model.bin", variables))


def test_wrong_shape_is_named(tmp_path, tiny_encoder):
    variables = ct2_whisper_variables(tiny_encoder.state_dict(), TINY_HEADS)
    variables["encoder/layer_1/ffn/linear_1/bias"] = np.zeros(7, np.float32)
    path = write_model_bin(tmp_path / "model.bin", variables)
    with pytest.raises(BackboneFormatError, match=r"layers.1.fc2.bias: expected shape \(8,\)"):
        convert_ctranslate2_whisper_encoder(path)


def test_hf_whisper_folder_loads_only_the_encoder(tmp_path, tiny_encoder):
    folder = tmp_path / "hf-whisper"
    tiny_encoder.config.save_pretrained(folder)
    tensors = {f"model.encoder.{k}": v.half() for k, v in tiny_encoder.state_dict().items()}
    tensors["model.decoder.layer_norm.weight"] = torch.ones(8)
    save_file(tensors, str(folder / "model.safetensors"))
    encoder, front_end = load_whisper_encoder(folder)
    assert front_end.num_mel_bins == 4 and front_end.max_frames == 40
    for key, value in tiny_encoder.state_dict().items():
        torch.testing.assert_close(encoder.state_dict()[key], value.half().float())
    features, frame_counts = whisper_log_mel(speech_like(0.3), num_mel_bins=4, max_frames=40)
    with torch.no_grad():
        assert encode_variable_length(encoder, features, frame_counts).last_hidden_state.shape == (1, 15, 8)


def test_hub_id_resolves_from_the_local_cache_only(tmp_path, tiny_ct2_folder, monkeypatch):
    import huggingface_hub.constants

    repo = tmp_path / "hub" / "models--someone--tiny-whisper-ct2"
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    for name in ("model.bin", "config.json"):
        (snapshot / name).write_bytes((tiny_ct2_folder / name).read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    encoder, _ = load_whisper_encoder("someone/tiny-whisper-ct2")
    assert encoder.config.encoder_layers == 2


def test_unknown_sources_say_what_was_expected(tmp_path):
    with pytest.raises(BackboneNotFoundError, match="no such Whisper folder"):
        load_whisper_encoder(tmp_path / "absent")
    with pytest.raises(BackboneNotFoundError, match="neither a CTranslate2 Whisper folder"):
        load_whisper_encoder(tmp_path)
    with pytest.raises(BackboneNotFoundError, match="not in the local Hugging Face cache"):
        load_whisper_encoder("nobody/no-such-whisper")
