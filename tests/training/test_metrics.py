"""Our metrics against scikit-learn's on known and random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from wavfusion.training.metrics import classification_metrics


def test_metrics_on_a_hand_computed_example():
    labels = np.array([0, 0, 1, 1, 1, 2])
    predictions = np.array([0, 1, 1, 1, 0, 2])
    result = classification_metrics(labels, predictions, ["a", "b", "c"])
    assert result["accuracy"] == pytest.approx(400 / 6)
    # F1: a = 0.5, b = 2/3, c = 1; weighted by support 2, 3, 1
    assert result["weighted_f1"] == pytest.approx(100 * (2 * 0.5 + 3 * 2 / 3 + 1) / 6)
    assert result["uar"] == pytest.approx(100 * (0.5 + 2 / 3 + 1) / 3)
    assert result["confusion_matrix"] == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]


@pytest.mark.parametrize("seed", range(5))
def test_metrics_agree_with_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, 200)
    predictions = np.where(rng.random(200) < 0.6, labels, rng.integers(0, 5, 200))
    ours = classification_metrics(labels, predictions, list("abcde"))
    assert ours["accuracy"] == pytest.approx(100 * sk.accuracy_score(labels, predictions))
    assert ours["weighted_f1"] == pytest.approx(
        100 * sk.f1_score(labels, predictions, average="weighted"))
    assert ours["uar"] == pytest.approx(
        100 * sk.recall_score(labels, predictions, average="macro"))
    per_class = sk.f1_score(labels, predictions, average=None, labels=range(5))
    assert list(ours["per_class_f1"].values()) == pytest.approx(list(100 * per_class))
    assert ours["confusion_matrix"] == sk.confusion_matrix(labels, predictions).tolist()
