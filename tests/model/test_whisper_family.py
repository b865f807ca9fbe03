"""The Whisper encoder as WavFusion's backbone: the same guarantees as the wav2vec2 family."""

from __future__ import annotations

import pytest
import torch

from tests.model.inputs import exercised, make_batch, select, small_config
from wavfusion import WavFusion
from wavfusion.backbones import encode_variable_length, whisper_log_mel


@pytest.mark.parametrize("shallow", [0, 1, 3, 4])
def test_whisper_shallow_prefix_equals_the_encoder_run_on_each_clip(saved_whisper, shallow):
    folder, encoder = saved_whisper
    model = WavFusion(small_config(str(folder), deep_layers=4 - shallow)).eval()
    batch = make_batch(batch=3, seconds=0.6)
    clips = [clip[mask] for clip, mask in zip(batch["audio"], batch["audio_mask"])]
    with torch.no_grad():
        ours, frame_mask = model.backbone.shallow_forward(batch["audio"], batch["audio_mask"])
        features, frame_counts = whisper_log_mel(clips)
        reference = encode_variable_length(encoder, features, frame_counts,
                                           output_hidden_states=True)
    expected = reference.hidden_states[shallow] if shallow < 4 else reference.last_hidden_state
    assert torch.equal(frame_mask, reference.mask)
    torch.testing.assert_close(ours[frame_mask], expected[reference.mask], atol=1e-6, rtol=0)


def test_whisper_cross_attention_starts_as_self_attention_with_a_zero_key_bias(saved_whisper):
    folder, encoder = saved_whisper
    model = WavFusion(small_config(str(folder), deep_layers=1))
    fusion = model.backbone.deep_layers[0].fusion
    pretrained = encoder.layers[3].self_attn
    for branch in (fusion.text_attention.attention, fusion.visual_attention.attention):
        assert torch.equal(branch.query.weight, pretrained.q_proj.weight)
        assert torch.equal(branch.key.weight, pretrained.k_proj.weight)
        assert (branch.key.bias == 0).all()  # Whisper's k_proj has no bias
        assert torch.equal(branch.output.bias, pretrained.out_proj.bias)


def test_whisper_logits_of_a_sample_alone_equal_its_logits_in_a_padded_batch(saved_whisper):
    folder, _ = saved_whisper
    torch.manual_seed(0)
    model = exercised(WavFusion(small_config(str(folder), deep_layers=2)))
    batch = make_batch()
    batch.pop("labels")
    with torch.no_grad():
        together = model(**batch).logits
        for index in range(4):
            alone = model(**select(batch, index)).logits
            torch.testing.assert_close(alone[0], together[index], atol=1e-5, rtol=0)


def test_a_whisper_wavfusion_saves_and_reloads_without_its_folder(saved_whisper, tmp_path):
    folder, _ = saved_whisper
    model = WavFusion(small_config(str(folder), deep_layers=2)).eval()
    model.save_pretrained(tmp_path / "run")
    loaded = WavFusion.from_pretrained(tmp_path / "run").eval()
    assert loaded.config.audio_backbone_config["model_type"] == "whisper"
    assert loaded.config.freeze_shallow
    batch = make_batch()
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, loaded(**batch).logits)
