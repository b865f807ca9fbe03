"""Running WhisperEncoder on clip-length, padded batches: same math, padding ignored."""

from __future__ import annotations

import pytest
import torch

from tests.backbones.conftest import speech_like
from wavfusion.backbones import encode_variable_length, whisper_log_mel


def test_transformers_forward_insists_on_the_full_window(tiny_encoder):
    # Why encode_variable_length exists; if transformers lifts the limit, revisit it.
    with pytest.raises(ValueError, match="expects the mel input features to be of length 40"):
        tiny_encoder(torch.zeros(1, 4, 30))


def test_full_window_equals_transformers_forward(tiny_encoder):
    features = torch.randn(3, 4, 40)
    with torch.no_grad():
        reference = tiny_encoder(features).last_hidden_state
        ours = encode_variable_length(tiny_encoder, features)
    torch.testing.assert_close(ours.last_hidden_state, reference, rtol=0, atol=1e-6)
    assert ours.mask.all()


def test_short_input_equals_the_layers_run_by_hand(tiny_encoder):
    features = torch.randn(1, 4, 13)
    with torch.no_grad():
        hidden = torch.nn.functional.gelu(tiny_encoder.conv1(features))
        hidden = torch.nn.functional.gelu(tiny_encoder.conv2(hidden)).transpose(1, 2)
        hidden = hidden + tiny_encoder.embed_positions.weight[:7]
        for layer in tiny_encoder.layers:
            hidden = layer(hidden, None)
        reference = tiny_encoder.layer_norm(hidden)
        ours = encode_variable_length(tiny_encoder, features, torch.tensor([13]))
    torch.testing.assert_close(ours.last_hidden_state, reference, rtol=0, atol=1e-6)


@pytest.mark.parametrize("short_frames", [9, 10])  # odd and even: conv2's stride-2 edge
def test_padding_does_not_change_a_clips_output(tiny_encoder, short_frames):
    features = torch.randn(2, 4, 40)
    features[0, :, short_frames:] = 7.0  # garbage past the clip must not matter
    counts = torch.tensor([short_frames, 40])
    with torch.no_grad():
        batch = encode_variable_length(tiny_encoder, features, counts, output_hidden_states=True)
        alone = encode_variable_length(tiny_encoder, features[:1, :, :short_frames])
    positions = (short_frames + 1) // 2
    assert batch.mask.sum(dim=1).tolist() == [positions, 20]
    torch.testing.assert_close(
        batch.last_hidden_state[0, :positions], alone.last_hidden_state[0], rtol=0, atol=1e-5
    )
    assert not batch.last_hidden_state[0, positions:].any()
    assert len(batch.hidden_states) == len(tiny_encoder.layers) + 1


def test_bundled_encoder_batch_of_clips(bundled_encoder):
    encoder, front_end = bundled_encoder
    clips = [speech_like(1.5, seed=4), speech_like(3.5, seed=5)]
    features, counts = front_end(clips)
    with torch.no_grad():
        batch = encode_variable_length(encoder, features, counts).last_hidden_state
        alone = encode_variable_length(encoder, *whisper_log_mel(clips[0])).last_hidden_state
    assert batch.shape == (2, 175, 384)
    torch.testing.assert_close(batch[0, :75], alone[0], rtol=0, atol=1e-4)


def test_too_many_frames_for_the_position_table(tiny_encoder):
    with pytest.raises(ValueError, match="42 frames need 21 positions; the encoder has 20"):
        encode_variable_length(tiny_encoder, torch.zeros(1, 4, 42))
