"""The backbone wrapper against transformers' own Wav2Vec2Model, and the frozen/deep split."""

from __future__ import annotations

import pytest
import torch

from tests.model.inputs import make_batch, small_config
from wavfusion import WavFusion, WavFusionConfig
from wavfusion.backbones.errors import BackboneError
from wavfusion.config import split_layers


@pytest.mark.parametrize("shallow", [0, 1, 3, 4])
def test_shallow_prefix_equals_hf_hidden_states_exactly(saved_wav2vec2, shallow):
    folder, hf_model = saved_wav2vec2
    model = WavFusion(small_config(str(folder), deep_layers=4 - shallow)).eval()
    batch = make_batch(batch=3, seconds=0.6)
    with torch.no_grad():
        ours, frame_mask = model.backbone.shallow_forward(batch["audio"], batch["audio_mask"])
        hf_output = hf_model(
            batch["audio"], attention_mask=batch["audio_mask"].long(), output_hidden_states=True
        )
    # With no deep layer the prefix is the whole backbone, whose output includes a pre-norm
    # encoder's final LayerNorm (HF's hidden_states[-1] is taken before it).
    reference = hf_output.hidden_states[shallow] if shallow < 4 else hf_output.last_hidden_state
    assert ours.shape == reference.shape
    assert torch.equal(ours[frame_mask], reference[frame_mask])


def test_cross_attention_starts_as_the_layers_pretrained_self_attention(saved_wav2vec2):
    folder, hf_model = saved_wav2vec2
    model = WavFusion(small_config(str(folder), deep_layers=3))
    for offset, layer in enumerate(model.backbone.deep_layers):
        pretrained = hf_model.encoder.layers[1 + offset].attention
        fusion = layer.fusion
        for branch in (fusion.text_attention, fusion.visual_attention, fusion):
            attention = branch.self_attention if branch is fusion else branch.attention
            for ours, theirs in [(attention.query, pretrained.q_proj),
                                 (attention.key, pretrained.k_proj),
                                 (attention.value, pretrained.v_proj),
                                 (attention.output, pretrained.out_proj)]:
                assert torch.equal(ours.weight, theirs.weight)
                assert torch.equal(ours.bias, theirs.bias)
        # The rest of the layer is the pretrained layer's own.
        assert torch.equal(layer.feed_forward.output_dense.weight,
                           hf_model.encoder.layers[1 + offset].feed_forward.output_dense.weight)


@pytest.mark.parametrize(("depth", "given", "expected"), [
    (12, {}, (9, 3)), (4, {}, (3, 1)), (6, {}, (4, 2)), (2, {}, (1, 1)), (1, {}, (0, 1)),
    (4, {"shallow_layers": 1}, (1, 3)), (4, {"deep_layers": 0}, (4, 0)),
    (12, {"shallow_layers": 8, "deep_layers": 4}, (8, 4)),
])
def test_the_default_split_keeps_the_papers_proportion(depth, given, expected):
    """Nothing given: a quarter of the layers are deep, as 9/3 of 12; one number given: the
    other is the rest of the depth."""
    assert split_layers(WavFusionConfig(**given), depth) == expected


def test_a_default_model_resolves_its_split(saved_wav2vec2):
    folder, _ = saved_wav2vec2
    model = WavFusion(small_config(str(folder), deep_layers=None))
    assert (model.config.shallow_layers, model.config.deep_layers) == (3, 1)
    assert len(model.backbone.deep_layers) == 1


def test_an_impossible_split_is_refused_with_the_depth_named(saved_wav2vec2):
    folder, _ = saved_wav2vec2
    with pytest.raises(BackboneError, match="has 4 layers"):
        WavFusion(small_config(str(folder), deep_layers=2, shallow_layers=3))
    with pytest.raises(BackboneError, match="has 4 layers"):
        WavFusion(small_config(str(folder), deep_layers=5))


def test_a_missing_backbone_is_reported_without_downloading(tmp_path):
    with pytest.raises(BackboneError, match="nothing is downloaded"):
        WavFusion(small_config(str(tmp_path / "no-such-folder")))


def test_a_backbone_folder_with_only_pickled_weights_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(BackboneError, match="safetensors only"):
        WavFusion(small_config(str(tmp_path)))


def test_an_optimiser_step_changes_deep_layers_and_heads_but_not_the_frozen_prefix(
    pretrained_backbone_folder,
):
    torch.manual_seed(0)
    model = WavFusion(small_config(str(pretrained_backbone_folder), deep_layers=2))
    assert model.config.freeze_shallow  # pretrained weights were loaded: frozen by default
    model.train()
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    output = model(**make_batch())
    output.loss.backward()
    optimiser.step()
    after = model.state_dict()
    deep = ("backbone.deep_layers.", "backbone.final_norm.")
    prefix = [k for k in before if k.startswith("backbone.") and not k.startswith(deep)]
    assert any(".shallow_layers." in k for k in prefix) and len(prefix) > 10
    for key in prefix:  # front-end + shallow layers (Eq 7): bitwise unchanged
        assert torch.equal(before[key], after[key]), f"frozen {key} changed"
    for part in ("backbone.deep_layers.0.", "backbone.deep_layers.1.", "classifier.",
                 "text_encoder.", "visual_encoder.", "shared_encoder."):
        changed = [k for k in before if k.startswith(part) and before[k].is_floating_point()
                   and not torch.equal(before[k], after[k])]
        assert changed, f"nothing in {part} changed"
    for layer in model.backbone.deep_layers:
        for piece in (layer.fusion.text_attention, layer.fusion.visual_attention,
                      layer.fusion.gate, layer.feed_forward):
            assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in piece.parameters())


def test_the_frozen_prefix_stays_in_eval_mode_when_the_model_trains(pretrained_backbone_folder):
    model = WavFusion(small_config(str(pretrained_backbone_folder))).train()
    frozen = model.backbone.frozen_modules()
    assert model.backbone.shallow_layers in frozen
    assert not any(module.training for module in frozen)
    assert model.backbone.deep_layers.training


def test_a_from_scratch_backbone_is_trainable_everywhere():
    model = WavFusion(small_config("embedded-small"))
    assert model.config.freeze_shallow is False
    assert all(p.requires_grad for p in model.parameters())


def test_parameter_counts_of_the_wav2vec2_base_splits():
    """Table 6's splits on wav2vec2-base (random weights, prefix frozen)."""
    rows = []
    for shallow in (12, 11, 10, 9, 8):
        config = WavFusionConfig(audio_backbone="wav2vec2-base-random", deep_layers=12 - shallow,
                                 freeze_shallow=True)
        model = WavFusion(config)
        total = sum(p.numel() for p in model.parameters())
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        rows.append((shallow, total, trainable))
        print(f"{shallow}/{12 - shallow}: total {total / 1e6:.2f} M, "
              f"trainable {trainable / 1e6:.2f} M")
    trainables = [row[2] for row in rows]
    assert trainables == sorted(trainables)  # each deep layer adds trainable parameters
    assert rows[0][1] > 94e6  # wav2vec2-base alone has 94.4 M parameters


def test_every_backbone_failure_is_one_backbone_error():
    from wavfusion.backbones import errors

    failures = (errors.BackboneNotFoundError, errors.BackboneFormatError,
                errors.BackboneSplitError)
    assert all(issubclass(failure, errors.BackboneError) for failure in failures)
    assert errors.BackboneLoadError is errors.BackboneError  # the earlier name, same class
