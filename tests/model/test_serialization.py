"""save_pretrained / from_pretrained: safetensors + JSON, identical logits, pickles refused."""

from __future__ import annotations

import json

import pytest
import torch

from tests.model.inputs import make_batch, small_config
from wavfusion import WavFusion
from wavfusion.model.serialization import ModelFormatError, UnsafeModelFileError


@pytest.mark.parametrize("overrides", [{}, {"deep_layers": 0, "use_lvc": False}])
def test_save_and_load_give_identical_logits(tmp_path, overrides):
    torch.manual_seed(0)
    model = WavFusion(small_config("embedded-small", labels=list("abcd"), **overrides))
    model.train()
    model(**make_batch())  # move BN running statistics away from their initial values
    model.eval()
    folder = model.save_pretrained(tmp_path / "run")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    assert json.loads((folder / "config.json").read_text())["labels"] == list("abcd")
    loaded = WavFusion.from_pretrained(folder).eval()
    batch = make_batch(seed=5)
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, loaded(**batch).logits)


def test_a_saved_model_rebuilds_without_its_backbone_folder(tmp_path, saved_wav2vec2):
    folder, _ = saved_wav2vec2
    model = WavFusion(small_config(str(folder))).eval()
    model.save_pretrained(tmp_path / "run")
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    config["audio_backbone"] = str(tmp_path / "moved-away")
    (tmp_path / "run" / "config.json").write_text(json.dumps(config))
    loaded = WavFusion.from_pretrained(tmp_path / "run").eval()
    assert loaded.config.freeze_shallow
    batch = make_batch()
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, loaded(**batch).logits)


def test_pickled_model_files_are_refused(tmp_path):
    torch.manual_seed(0)
    model = WavFusion(small_config("embedded-small"))
    torch.save(model.state_dict(), tmp_path / "model.pt")
    with pytest.raises(UnsafeModelFileError, match="model.pt.*pickle"):
        WavFusion.from_pretrained(tmp_path / "model.pt")
    folder = tmp_path / "old-run"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(UnsafeModelFileError, match="pytorch_model.bin"):
        WavFusion.from_pretrained(folder)


def _mark_format(folder, version):
    config = json.loads((folder / "config.json").read_text())
    config["wavfusion_format"] = version
    (folder / "config.json").write_text(json.dumps(config))


def test_an_older_format_loads_only_when_its_parameters_are_unchanged(tmp_path):
    torch.manual_seed(0)
    without_lvc = WavFusion(small_config("embedded-small", use_lvc=False)).eval()
    _mark_format(without_lvc.save_pretrained(tmp_path / "no-lvc"), 1)
    loaded = WavFusion.from_pretrained(tmp_path / "no-lvc").eval()
    batch = make_batch()
    with torch.no_grad():
        assert torch.equal(without_lvc(**batch).logits, loaded(**batch).logits)
    _mark_format(WavFusion(small_config("embedded-small")).save_pretrained(tmp_path / "lvc"), 1)
    with pytest.raises(ModelFormatError, match="format 1 holds the earlier LVC.*retrain"):
        WavFusion.from_pretrained(tmp_path / "lvc")
    _mark_format(tmp_path / "lvc", 99)
    with pytest.raises(ModelFormatError, match="wavfusion_format 99"):
        WavFusion.from_pretrained(tmp_path / "lvc")
