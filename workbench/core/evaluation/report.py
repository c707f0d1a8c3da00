"""The numbers of one split's predictions, as one plain dict (the CLI's --json and the app's
tables read the same thing)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workbench.core.evaluation.classification import (
    accuracy,
    confusion_matrix,
    per_class_metrics,
    top_k_accuracy,
)
from workbench.core.evaluation.curves import one_vs_rest, reliability
from workbench.core.evaluation.predictions import SplitPredictions
from workbench.core.evaluation.regression import regression_metrics, worst_rows
from workbench.core.evaluation.samples import sample_label

__all__ = [
    "TOP_K_MIN_CLASSES", "classification_report", "format_value", "regression_report", "split_report", "thresholded",
]

TOP_K_MIN_CLASSES = 5  # top-k accuracy is shown from this many classes on
CALIBRATION_BINS = 10


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def format_value(v: float | None, digits: int = 4) -> str:
    """A value in a target's own units, as a person reads it: whole numbers from 1,000 up with
    thousands separators ("360,822", "23,201"), smaller ones to `digits` significant digits
    ("0.9887", "12.35", "1.5e-05"); "–" for None/nan."""
    if v is None or not math.isfinite(v):
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    text = f"{v:.{digits}g}"
    return "0" if text in ("-0", "0") else text


def thresholded(sp: SplitPredictions, threshold: float | None) -> np.ndarray:
    """Predicted classes; with a `threshold` (two classes only) class 1 when p(class 1) >= it."""
    if threshold is None:
        return sp.predicted
    if sp.n_classes != 2:
        raise ValueError("a decision threshold applies to two classes only")
    return (sp.probabilities[:, 1] >= threshold).astype(np.int64)


def classification_report(sp: SplitPredictions, threshold: float | None = None) -> dict[str, Any]:
    """Confusion matrix, per-class and averaged precision/recall/F1, accuracy, top-k accuracy,
    ROC AUC and average precision (one-vs-rest, macro and micro; for two classes, of class 1),
    and the expected calibration error of the top-label confidence."""
    n_classes = sp.n_classes
    pred = thresholded(sp, threshold)
    cm = confusion_matrix(sp.y_true, pred, n_classes)
    pc = per_class_metrics(cm)
    probs = sp.probabilities
    ovr = one_vs_rest(sp.y_true, probs)
    binary = n_classes == 2
    conf = probs[np.arange(len(sp)), pred] if len(sp) else np.zeros(0)
    rel = reliability(conf, pred == sp.y_true, CALIBRATION_BINS)
    report: dict[str, Any] = {
        "split": sp.split,
        "n": len(sp),
        "task": "classification",
        "classes": list(sp.class_names),
        "confusion_matrix": cm.tolist(),
        "per_class": {
            name: {"precision": float(pc.precision[i]), "recall": float(pc.recall[i]), "f1": float(pc.f1[i]),
                   "support": int(pc.support[i])}
            for i, name in enumerate(sp.class_names)
        },
        "accuracy": _num(accuracy(cm)),
        "macro_avg": {k: _num(v) for k, v in pc.average("macro").items()},
        "weighted_avg": {k: _num(v) for k, v in pc.average("weighted").items()},
        "roc_auc": _num(ovr.roc[1].area if binary else ovr.roc_auc_macro),
        "roc_auc_micro": _num(ovr.roc_micro.area),
        "roc_auc_per_class": {name: _num(c.area) for name, c in zip(sp.class_names, ovr.roc)},
        "average_precision": _num(ovr.pr[1].area if binary else ovr.average_precision_macro),
        "average_precision_micro": _num(ovr.pr_micro.area),
        "average_precision_per_class": {name: _num(c.area) for name, c in zip(sp.class_names, ovr.pr)},
        "ece": _num(rel.ece),
    }
    if n_classes >= TOP_K_MIN_CLASSES:
        report["top_k_accuracy"] = {str(k): _num(top_k_accuracy(sp.y_true, probs, k))
                                    for k in (2, 3, 5) if k < n_classes}
    if threshold is not None:
        report["threshold"] = float(threshold)
    return report


def regression_report(sp: SplitPredictions, worst: int = 10) -> dict[str, Any]:
    """MAE, RMSE, R², MAPE (None when a target is zero) in the target's units, and the worst
    rows by absolute residual."""
    m = regression_metrics(sp.y_true, sp.predictions)
    y = np.asarray(sp.y_true, dtype=np.float64).reshape(len(sp), -1)
    rows = []
    for i in worst_rows(sp.y_true, sp.predictions, worst) if len(sp) else []:
        rows.append({"index": int(i), "where": sample_label(sp, int(i)),
                     "row": int(sp.rows[i]) if sp.rows is not None else None,
                     "label": str(sp.labels[i]) if sp.labels is not None else None,
                     "actual": float(y[i, 0]), "predicted": float(sp.predictions[i, 0]),
                     "residual": float(y[i, 0] - sp.predictions[i, 0])})
    return {"split": sp.split, "n": len(sp), "task": "regression", "targets": list(sp.target_names),
            "mae": _num(m.mae), "rmse": _num(m.rmse), "r2": _num(m.r2), "mape": _num(m.mape) if m.mape is not None else None,
            "worst": rows}


def split_report(sp: SplitPredictions, threshold: float | None = None) -> dict[str, Any]:
    """classification_report or regression_report, by the split's task."""
    if sp.task == "classification":
        return classification_report(sp, threshold)
    return regression_report(sp)
