"""A clip's prediction must not depend on its batch's padding, nor on masked-out garbage."""

from __future__ import annotations

import pytest
import torch

from tests.model.inputs import exercised, make_batch, select, small_config
from wavfusion import WavFusion

CONFIGS = {
    "fusion": {},
    "fusion-no-lvc": {"use_lvc": False},
    "concat": {"deep_layers": 0},
    "audio+text": {"modalities": ["audio", "text"]},
}


@pytest.mark.parametrize("name", CONFIGS)
def test_logits_of_a_sample_alone_equal_its_logits_in_a_padded_batch(name):
    torch.manual_seed(0)
    model = exercised(WavFusion(small_config("embedded-small", **CONFIGS[name])))
    batch = make_batch()
    batch.pop("labels")
    with torch.no_grad():
        together = model(**batch).logits
        for index in range(batch["audio"].shape[0]):
            alone = model(**select(batch, index)).logits
            torch.testing.assert_close(alone[0], together[index], atol=1e-5, rtol=0)


def test_padding_invariance_from_cached_prefix_features_with_a_group_norm_backbone(
    saved_wav2vec2,
):
    """wav2vec2-base normalises its first conv over time (group norm), so raw-audio batches are
    padding dependent by design; from per-utterance prefix features the deep part is not."""
    folder, _ = saved_wav2vec2
    torch.manual_seed(0)
    model = WavFusion(small_config(str(folder))).eval()
    batch = make_batch()
    batch.pop("labels")
    with torch.no_grad():
        features, lengths = [], []
        for index in range(4):
            one = select(batch, index)
            states, _ = model.backbone.shallow_forward(one["audio"], one["audio_mask"])
            features.append(states[0])
            lengths.append(states.shape[1])
        padded = torch.nn.utils.rnn.pad_sequence(features, batch_first=True, padding_value=7.0)
        mask = torch.arange(padded.shape[1])[None] < torch.tensor(lengths)[:, None]
        rest = {k: v for k, v in batch.items() if not k.startswith("audio")}
        together = model(audio_features=padded, audio_features_mask=mask, **rest).logits
        for index in range(4):
            one = select(batch, index)
            del one["audio"], one["audio_mask"]
            alone = model(audio_features=features[index][None], **one).logits
            torch.testing.assert_close(alone[0], together[index], atol=1e-5, rtol=0)


@pytest.mark.parametrize("modality", ["text", "visual"])
def test_a_missing_modality_ignores_whatever_garbage_fills_its_slot(modality):
    torch.manual_seed(0)
    model = exercised(WavFusion(small_config("embedded-small")))
    batch = make_batch()
    batch.pop("labels")
    absent = 1 if modality == "text" else 2  # make_batch leaves these samples without it
    assert not batch[f"{modality}_mask"][absent].any()
    with torch.no_grad():
        reference = model(**batch).logits
        for garbage in (1e4, -3.0, float("nan"), float("inf")):
            spoiled = dict(batch)
            values = batch[modality].clone()
            values[absent] = garbage
            spoiled[modality] = values
            logits = model(**spoiled).logits
            assert torch.equal(logits[absent], reference[absent]), garbage
        # The check can fail: the same garbage in a PRESENT sample's slot changes its logits.
        values = batch[modality].clone()
        values[0] = 1e4
        assert not torch.allclose(model(**{**batch, modality: values}).logits[0], reference[0])


def test_a_whole_batch_without_text_and_video_runs_audio_only():
    torch.manual_seed(0)
    model = WavFusion(small_config("embedded-small")).eval()
    batch = make_batch()
    with torch.no_grad():
        output = model(audio=batch["audio"], audio_mask=batch["audio_mask"],
                       labels=batch["labels"])
    assert torch.isfinite(output.logits).all() and torch.isfinite(output.loss)
    assert all(torch.isnan(gate).all() for gate in output.gates)
