"""Classification metrics reported by evaluate/train/cv: accuracy, weighted F1, UAR,
per-class F1 and the confusion matrix. Plain NumPy; tested against scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) counts; rows = true class, columns = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def classification_metrics(
    labels: np.ndarray, predictions: np.ndarray, class_names: list[str]
) -> dict[str, Any]:
    """Metrics in percent. Classes absent from `labels` get F1 0 if predicted, and do not
    count towards UAR (recall is undefined for them)."""
    num_classes = len(class_names)
    matrix = confusion_matrix(labels, predictions, num_classes)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    true_positive = np.diag(matrix).astype(np.float64)
    precision = np.divide(true_positive, predicted, out=np.zeros(num_classes), where=predicted > 0)
    recall = np.divide(true_positive, support, out=np.zeros(num_classes), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros(num_classes),
                   where=denominator > 0)
    total = int(support.sum())
    return {
        "num_samples": total,
        "accuracy": 100.0 * float(true_positive.sum()) / max(total, 1),
        "weighted_f1": 100.0 * float((f1 * support).sum()) / max(total, 1),
        "uar": 100.0 * float(recall[support > 0].mean()) if (support > 0).any() else 0.0,
        "per_class_f1": {name: 100.0 * float(value) for name, value in zip(class_names, f1)},
        "confusion_matrix": matrix.tolist(),
        "labels": list(class_names),
    }
