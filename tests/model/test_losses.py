"""Eq 13 against a literal triple loop; Eq 14-15; the gates of Eq 10."""

from __future__ import annotations

import itertools

import torch
from torch.nn import functional as F

from tests.model.inputs import make_batch, small_config
from wavfusion import WavFusion
from wavfusion.model.losses import margin_loss


def brute_force_margin_loss(embeddings, modalities, labels, margin):
    terms = []
    items = range(len(labels))
    for i, j, k in itertools.product(items, items, items):
        if (modalities[i] != modalities[j] and modalities[i] == modalities[k]
                and labels[i] == labels[j] and labels[i] != labels[k]):
            positive = F.cosine_similarity(embeddings[i], embeddings[j], dim=0)
            negative = F.cosine_similarity(embeddings[i], embeddings[k], dim=0)
            terms.append(torch.clamp(margin - positive + negative, min=0))
    return torch.stack(terms).mean()


def test_margin_loss_equals_a_literal_reading_of_eq_13():
    generator = torch.Generator().manual_seed(3)
    for _ in range(5):
        embeddings = torch.randn(18, 8, generator=generator)
        modalities = torch.randint(0, 3, (18,), generator=generator)
        labels = torch.randint(0, 3, (18,), generator=generator)
        for margin in (0.2, 0.5, 1.5):
            expected = brute_force_margin_loss(embeddings, modalities, labels, margin)
            actual = margin_loss(embeddings, modalities, labels, margin)
            torch.testing.assert_close(actual, expected, atol=1e-6, rtol=1e-6)


def test_margin_loss_is_zero_without_a_valid_triplet_and_keeps_a_finite_gradient():
    embeddings = torch.randn(6, 8, requires_grad=True)
    for modalities, labels in [
        (torch.tensor([0, 1, 2, 0, 1, 2]), torch.zeros(6, dtype=torch.long)),  # one class
        (torch.zeros(6, dtype=torch.long), torch.tensor([0, 1, 0, 1, 0, 1])),  # one modality
        (torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long)),  # nothing
    ]:
        items = embeddings[: len(labels)]
        loss = margin_loss(items, modalities, labels, 0.5)
        assert loss.item() == 0.0
        loss.backward()
        assert torch.isfinite(embeddings.grad).all()


def test_model_loss_is_cross_entropy_plus_lambda_times_margin_loss():
    torch.manual_seed(0)
    batch = make_batch()
    losses = {}
    for weight in (0.0, 1.0, 10.0):
        torch.manual_seed(0)
        model = WavFusion(small_config("embedded-small", margin_weight=weight)).eval()
        output = model(**batch)
        torch.testing.assert_close(output.loss, output.cross_entropy + weight * output.margin_loss)
        losses[weight] = output
    assert losses[1.0].margin_loss > 0
    torch.testing.assert_close(losses[0.0].loss, losses[0.0].cross_entropy)


def test_gate_values_lie_in_0_1_and_follow_the_available_modalities():
    torch.manual_seed(0)
    model = WavFusion(small_config("embedded-small", deep_layers=3)).eval()
    batch = make_batch(batch=5)
    batch["text_mask"][3] = False
    batch["visual_mask"][3] = False  # sample 3: audio only
    with torch.no_grad():
        output = model(**batch)
    assert len(output.gates) == 3
    for gate in output.gates:
        assert gate.shape[:2] == output.audio_mask.shape
        assert torch.isnan(gate[3]).all()  # neither: no fusion happened
        rest = gate[[0, 1, 2, 4]]
        assert ((rest >= 0) & (rest <= 1)).all()
        assert (gate[1] == 0).all()  # no text: video only
        assert (gate[2] == 1).all()  # no video: text only
        assert ((gate[0] > 0) & (gate[0] < 1)).all()  # both: a real mixture


def test_the_shared_layer_of_eq12_cannot_be_folded_into_the_per_modality_projections():
    """Two linear maps in a row are one affine map per modality; SD is shared in effect only
    if the composite is not affine: f(x) + f(y) != f(x + y) + f(0) for an affine f."""
    from wavfusion.model.losses import SharedEncoder

    torch.manual_seed(0)
    encoder = SharedEncoder({"audio": 12, "text": 8}, shared_dim=16)
    x, y = torch.randn(5, 12), torch.randn(5, 12)
    with torch.no_grad():
        def f(value):
            return encoder({"audio": value})["audio"]
        gap = (f(x) + f(y) - f(x + y) - f(torch.zeros_like(x))).abs().max()
    assert gap > 1e-3
