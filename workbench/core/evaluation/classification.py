"""Classification metrics as plain numpy functions (checked against scikit-learn in the tests).

Conventions (scikit-learn's, so numbers match what people compare against):
- a confusion matrix has true classes as rows and predicted classes as columns;
- a class's precision is 0 when it is never predicted, its recall 0 when it never occurs
  (`zero_division=0`); its F1 is the harmonic mean of the two (0 when both are 0);
- macro averages are over the classes that occur in the true or the predicted labels (a class
  absent from both says nothing about the model); weighted averages weight by support;
- top-k accuracy ranks tied scores as scikit-learn does (stable sort, higher index first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ClassMetrics",
    "accuracy",
    "class_order",
    "confusion_matrix",
    "normalize_confusion",
    "per_class_metrics",
    "top_k_accuracy",
]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) int64 counts: rows are true classes, columns predicted ones."""
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat[: n_classes * n_classes].reshape(n_classes, n_classes)


def normalize_confusion(cm: np.ndarray, by: str) -> np.ndarray:
    """Fractions of each row ("true": recall on the diagonal) or column ("pred": precision on the
    diagonal); an empty row or column stays 0 (as scikit-learn's normalize=)."""
    cm = np.asarray(cm, dtype=np.float64)
    if by not in ("true", "pred"):
        raise ValueError("by must be 'true' (rows) or 'pred' (columns)")
    axis = 1 if by == "true" else 0
    totals = cm.sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(totals > 0, cm / np.where(totals > 0, totals, 1), 0.0)
    return out


@dataclass
class ClassMetrics:
    """Per-class precision, recall, F1 and support, with macro and weighted averages."""

    precision: np.ndarray  # (n_classes,)
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray  # int64: rows of each true class
    present: np.ndarray  # bool: the class occurs in the true or the predicted labels

    def average(self, how: str) -> dict[str, float]:
        """{"precision", "recall", "f1"} averaged "macro" (present classes equally) or "weighted"
        (by support)."""
        if how == "macro":
            if not self.present.any():
                return {k: float("nan") for k in ("precision", "recall", "f1")}
            m = self.present
            return {k: float(getattr(self, k)[m].mean()) for k in ("precision", "recall", "f1")}
        if how == "weighted":
            total = self.support.sum()
            if total == 0:
                return {k: 0.0 for k in ("precision", "recall", "f1")}
            w = self.support / total
            return {k: float((getattr(self, k) * w).sum()) for k in ("precision", "recall", "f1")}
        raise ValueError("how must be 'macro' or 'weighted'")


def per_class_metrics(cm: np.ndarray) -> ClassMetrics:
    """Precision, recall, F1 and support of every class from a confusion matrix."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted = cm.sum(axis=0)
    actual = cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return ClassMetrics(precision, recall, f1, actual.astype(np.int64), (predicted + actual) > 0)


def accuracy(cm: np.ndarray) -> float:
    """Fraction correct; nan with no samples."""
    total = np.asarray(cm).sum()
    return float(np.trace(cm) / total) if total else float("nan")


def top_k_accuracy(y_true: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Fraction of rows whose true class is among the k highest scores (ties ranked as
    scikit-learn's top_k_accuracy_score ranks them)."""
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    if len(y_true) == 0:
        return float("nan")
    order = np.argsort(scores, axis=1, kind="mergesort")[:, ::-1][:, :k]
    return float((order == y_true[:, None]).any(axis=1).mean())


def class_order(cm: np.ndarray, class_names: list[str], by: str) -> list[int]:
    """Class indices in display order: "index" (as trained), "name", "support" (most rows
    first), "recall" or "precision" (worst first), "confused" (most errors first)."""
    n = len(class_names)
    idx = list(range(n))
    if by == "index":
        return idx
    if by == "name":
        return sorted(idx, key=lambda i: class_names[i].lower())
    cm = np.asarray(cm)
    m = per_class_metrics(cm)
    if by == "support":
        return sorted(idx, key=lambda i: (-m.support[i], i))
    if by == "recall":
        return sorted(idx, key=lambda i: (m.recall[i], i))
    if by == "precision":
        return sorted(idx, key=lambda i: (m.precision[i], i))
    if by == "confused":
        errors = cm.sum(axis=1) - np.diag(cm) + cm.sum(axis=0) - np.diag(cm)
        return sorted(idx, key=lambda i: (-errors[i], i))
    raise ValueError(f"unknown class order {by!r}")
