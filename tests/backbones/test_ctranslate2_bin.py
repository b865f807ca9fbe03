"""The model.bin reader: values round-trip, and every kind of damage is a clear error."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from tests.backbones.ct2_files import (
    BFLOAT16_ID,
    model_bin_bytes,
    variable_record,
    write_model_bin,
)
from wavfusion.backbones.ctranslate2_bin import read_ctranslate2_model
from wavfusion.backbones.ctranslate2_whisper import convert_ctranslate2_whisper_encoder
from wavfusion.backbones.errors import BackboneFormatError, BackboneNotFoundError

SAMPLE_VARIABLES = {
    "a/float32": np.arange(6, dtype=np.float32).reshape(2, 3),
    "a/int8": np.array([-128, 0, 127], dtype=np.int8),
    "a/int16": np.array([[-3], [4]], dtype=np.int16),
    "a/int32": np.array(7, dtype=np.int32),
    "a/float16": np.array([0.5, -2.0], dtype=np.float16),
}


def sample_bytes() -> bytes:
    records = [variable_record(name, array) for name, array in SAMPLE_VARIABLES.items()]
    return model_bin_bytes(records, aliases={"b/alias": "a/float16"})


def test_every_dtype_round_trips_with_shape_and_aliases(tmp_path):
    path = write_model_bin(tmp_path / "model.bin", SAMPLE_VARIABLES, aliases={"b": "a/int8"})
    model = read_ctranslate2_model(tmp_path)  # a folder is accepted too
    assert (model.binary_version, model.spec_name, model.spec_revision) == (6, "WhisperSpec", 3)
    assert model.path == path
    for name, array in SAMPLE_VARIABLES.items():
        stored = model.get(name)
        assert stored.dtype == array.dtype.name and stored.shape == array.shape
        np.testing.assert_array_equal(stored.array, array)
        np.testing.assert_array_equal(stored.to_float32(), array.astype(np.float32))
    assert model.get("b") is model.get("a/int8")


def test_bfloat16_is_decoded_from_its_bit_pattern(tmp_path):
    values = np.array([1.0, -2.5, 3.140625], dtype=np.float32)
    bits = (values.view(np.uint32) >> 16).astype(np.uint16)
    path = tmp_path / "model.bin"
    path.write_bytes(model_bin_bytes([variable_record("w", bits, dtype_id=BFLOAT16_ID)]))
    variable = read_ctranslate2_model(path).get("w")
    assert variable.dtype == "bfloat16"
    np.testing.assert_array_equal(variable.to_float32(), values)


def test_bundled_tiny_en_header(bundled_folder):
    model = read_ctranslate2_model(bundled_folder / "model.bin")
    assert (model.binary_version, model.spec_name) == (6, "WhisperSpec")
    assert int(model.get("encoder/num_heads").array) == 6
    assert model.get("encoder/position_encodings/encodings").shape == (1500, 384)
    assert model.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}


def test_every_truncation_is_a_format_error_naming_the_file(tmp_path):
    content = sample_bytes()
    path = tmp_path / "model.bin"
    for length in range(1, len(content)):
        path.write_bytes(content[:length])
        with pytest.raises(BackboneFormatError) as error:
            read_ctranslate2_model(path)
        assert str(error.value).startswith(f"{path}: "), length


def test_truncated_bundled_file_says_truncated(tmp_path, bundled_folder):
    content = (bundled_folder / "model.bin").read_bytes()
    path = tmp_path / "model.bin"
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(BackboneFormatError, match=r"truncated or corrupt: values of 'decoder/"):
        read_ctranslate2_model(path)


def broken(kind: str) -> bytes:
    good = variable_record("w", np.ones(3, np.float32))
    if kind == "version":
        return struct.pack("<I", 5) + sample_bytes()[4:]
    if kind == "dtype":
        return model_bin_bytes([variable_record("w", np.ones(3, np.float32), dtype_id=9)])
    if kind == "byte count":
        return model_bin_bytes([variable_record("w", np.ones(3, np.float32), num_bytes=8)])
    if kind == "trailing":
        return model_bin_bytes([good]) + b"\0"
    if kind == "alias":
        return model_bin_bytes([good], aliases={"x": "nowhere"})
    if kind == "duplicate":
        return model_bin_bytes([good, good])
    if kind == "string":
        return model_bin_bytes([good]).replace(b"w\0", b"ww", 1)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind, message",
    [
        ("version", "unsupported CTranslate2 binary version 5"),
        ("dtype", "variable 'w' has unknown dtype id 9"),
        ("byte count", r"byte count 8 does not match dims \(3,\) x float32 \(12 bytes\)"),
        ("trailing", "1 unexpected bytes after the alias table"),
        ("alias", "alias 'x' points to missing variable 'nowhere'"),
        ("duplicate", "variable 'w' is stored twice"),
        ("string", "not NUL-terminated"),
    ],
)
def test_corrupt_header_fields_are_named(tmp_path, kind, message):
    path = tmp_path / "model.bin"
    path.write_bytes(broken(kind))
    with pytest.raises(BackboneFormatError, match=message) as error:
        read_ctranslate2_model(path)
    assert error.value.path == path


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(BackboneFormatError, match="empty file"):
        read_ctranslate2_model(tmp_path / "model.bin")
    with pytest.raises(BackboneNotFoundError, match="not found"):
        read_ctranslate2_model(tmp_path / "absent" / "model.bin")


def test_missing_encoder_variable_is_named(tmp_path, tiny_ct2_folder):
    model = read_ctranslate2_model(tiny_ct2_folder)
    variables = {n: v.array for n, v in model.variables.items() if "layer_1/ffn/linear_1" not in n}
    path = write_model_bin(tmp_path / "cut" / "model.bin", variables)
    with pytest.raises(BackboneFormatError, match="missing variable 'encoder/layer_1/ffn/linear_1/"):
        convert_ctranslate2_whisper_encoder(path)


def test_other_spec_is_refused(tmp_path):
    path = write_model_bin(tmp_path / "model.bin", SAMPLE_VARIABLES, spec_name="TransformerSpec")
    with pytest.raises(BackboneFormatError, match="spec is 'TransformerSpec'"):
        convert_ctranslate2_whisper_encoder(path)
