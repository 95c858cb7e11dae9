"""Validation metrics and class weights in numpy: the training loop needs nothing beyond torch's
own environment (scikit-learn only serves distillWeight's teacher)."""
from __future__ import annotations

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, num_labels: int) -> np.ndarray:
    m = np.zeros((num_labels, num_labels), dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred)) if len(y_true) else 0.0


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, num_labels: int) -> float:
    """Mean F1 over the labels that occur in y_true or y_pred (scikit-learn's default label set), so
    a class absent from a small validation split does not count as a zero."""
    m = confusion(y_true, y_pred, num_labels)
    tp = np.diag(m).astype(float)
    predicted, actual = m.sum(axis=0), m.sum(axis=1)
    present = (predicted + actual) > 0
    if not present.any():
        return 0.0
    # F1 = 2tp / (2tp + fp + fn) = 2tp / (predicted + actual); 0 where the class is never hit.
    f1 = np.divide(2 * tp, predicted + actual, out=np.zeros_like(tp), where=present)
    return float(f1[present].mean())


def class_weights(labels: np.ndarray, num_labels: int, power: float = 1.0) -> np.ndarray:
    """Inverse class frequency raised to `power` (1: full inverse frequency; 0.5: its square root,
    which lifts rare classes without giving up the common ones), scaled so the classes present
    average 1.0 (the loss keeps its usual magnitude, so the learning rate means the same with or
    without weighting). A class with no training rows gets 0: it never appears as a target, and
    inf would poison the loss."""
    counts = np.bincount(labels, minlength=num_labels).astype(float)
    present = counts > 0
    inverse = np.power(np.divide(1.0, counts, out=np.zeros_like(counts), where=present), power, where=present, out=np.zeros_like(counts))
    return inverse * present.sum() / inverse.sum()
