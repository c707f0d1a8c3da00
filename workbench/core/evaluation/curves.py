"""Threshold curves and calibration as plain numpy functions (checked against scikit-learn).

- `binary_curve`: true/false positive counts at every distinct score, highest score first
  (scikit-learn's _binary_clf_curve: a row is predicted positive when score >= threshold);
- ROC: (0, 0) first, then one point per distinct score; AUC by the trapezoidal rule;
- precision-recall: average precision is sum over thresholds of (R_n - R_{n-1}) P_n, without
  interpolation (scikit-learn's definition);
- one-vs-rest per class, macro (mean over classes that have positives and negatives) and micro
  (all classes' indicator/score pairs pooled);
- reliability: equal-width probability bins as sklearn.calibration.calibration_curve, and the
  expected calibration error ECE = sum_b (n_b / N) |observed_b - predicted_b|.
A curve whose class has no positives (or no negatives, for ROC) is undefined: AUC/AP nan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Curve",
    "OneVsRest",
    "Reliability",
    "binary_curve",
    "one_vs_rest",
    "pr_curve",
    "reliability",
    "roc_curve",
    "threshold_point",
]


def binary_curve(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true positives, false positives, thresholds) at each distinct score, descending."""
    positive = np.asarray(positive, dtype=bool).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(scores, kind="mergesort")[::-1]
    scores = scores[order]
    positive = positive[order]
    distinct = np.flatnonzero(np.diff(scores))
    ends = np.r_[distinct, len(scores) - 1]
    tps = np.cumsum(positive)[ends]
    fps = 1 + ends - tps
    return tps.astype(np.float64), fps.astype(np.float64), scores[ends]


@dataclass
class Curve:
    """One threshold curve: x, y and the threshold at each point, and its area."""

    x: np.ndarray  # ROC: false positive rate; PR: recall
    y: np.ndarray  # ROC: true positive rate; PR: precision
    thresholds: np.ndarray
    area: float  # ROC: AUC; PR: average precision
    positives: int
    negatives: int


def _trapezoid(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def roc_curve(positive: np.ndarray, scores: np.ndarray) -> Curve:
    """False/true positive rates at every threshold, from (0, 0); AUC (nan when a side is empty)."""
    if len(np.asarray(scores).reshape(-1)) == 0:
        e = np.zeros(0)
        return Curve(e, e, e, float("nan"), 0, 0)
    tps, fps, thr = binary_curve(positive, scores)
    tps, fps = np.r_[0.0, tps], np.r_[0.0, fps]
    thr = np.r_[np.inf, thr]
    p, n = tps[-1], fps[-1]
    tpr = tps / p if p > 0 else np.full_like(tps, np.nan)
    fpr = fps / n if n > 0 else np.full_like(fps, np.nan)
    area = _trapezoid(fpr, tpr) if p > 0 and n > 0 else float("nan")
    return Curve(fpr, tpr, thr, area, int(p), int(n))


def pr_curve(positive: np.ndarray, scores: np.ndarray) -> Curve:
    """Recall/precision at every threshold (highest first, from recall 0 at precision 1) and the
    average precision (nan when there are no positives)."""
    if len(np.asarray(scores).reshape(-1)) == 0:
        e = np.zeros(0)
        return Curve(e, e, e, float("nan"), 0, 0)
    tps, fps, thr = binary_curve(positive, scores)
    p, n = tps[-1], fps[-1]
    precision = tps / (tps + fps)
    recall = tps / p if p > 0 else np.full_like(tps, np.nan)
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision)) if p > 0 else float("nan")
    return Curve(np.r_[0.0, recall], np.r_[1.0, precision], np.r_[np.inf, thr], ap, int(p), int(n))


@dataclass
class OneVsRest:
    """Per-class ROC and PR curves with their macro and micro averages."""

    roc: list[Curve]
    pr: list[Curve]
    roc_micro: Curve
    pr_micro: Curve

    @staticmethod
    def _macro(curves: list[Curve]) -> float:
        areas = [c.area for c in curves if np.isfinite(c.area)]
        return float(np.mean(areas)) if areas else float("nan")

    @property
    def roc_auc_macro(self) -> float:
        return self._macro(self.roc)

    @property
    def average_precision_macro(self) -> float:
        return self._macro(self.pr)


def one_vs_rest(y_true: np.ndarray, probabilities: np.ndarray) -> OneVsRest:
    """Each class's score against the rest; micro pools every (row, class) pair."""
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    probs = np.asarray(probabilities, dtype=np.float64)
    n_classes = probs.shape[1]
    onehot = y_true[:, None] == np.arange(n_classes)[None, :]
    roc = [roc_curve(onehot[:, c], probs[:, c]) for c in range(n_classes)]
    pr = [pr_curve(onehot[:, c], probs[:, c]) for c in range(n_classes)]
    return OneVsRest(roc, pr, roc_curve(onehot.ravel(), probs.ravel()), pr_curve(onehot.ravel(), probs.ravel()))


def threshold_point(curve: Curve, threshold: float) -> int:
    """Index of the curve point that predicting positive at score >= `threshold` gives."""
    # thresholds descend from inf; the point is the last one whose threshold >= the given one
    idx = int(np.searchsorted(-curve.thresholds, -threshold, side="right")) - 1
    return max(0, min(idx, len(curve.thresholds) - 1))


@dataclass
class Reliability:
    """A reliability diagram: per non-empty bin, mean predicted probability, observed frequency
    and row count; the bin edges; the expected calibration error."""

    predicted: np.ndarray
    observed: np.ndarray
    counts: np.ndarray
    edges: np.ndarray
    ece: float
    bins: np.ndarray  # index of each non-empty bin (into the len(edges) - 1 bins)


def reliability(probability: np.ndarray, outcome: np.ndarray, n_bins: int = 10) -> Reliability:
    """Bins as calibration_curve(strategy="uniform"): a probability p goes to bin
    searchsorted(edges[1:-1], p) (left side), so 0.1 falls in the first bin of ten.

    probability: the predicted probability of the event (for top-label calibration, each row's
    confidence); outcome: whether it happened (the prediction was right)."""
    p = np.asarray(probability, dtype=np.float64).reshape(-1)
    o = np.asarray(outcome, dtype=np.float64).reshape(-1)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    if len(p) == 0:
        e = np.zeros(0)
        return Reliability(e, e, e.astype(np.int64), edges, float("nan"), e.astype(np.int64))
    ids = np.searchsorted(edges[1:-1], p)
    sum_p = np.bincount(ids, weights=p, minlength=n_bins)
    sum_o = np.bincount(ids, weights=o, minlength=n_bins)
    counts = np.bincount(ids, minlength=n_bins)
    keep = counts > 0
    predicted = sum_p[keep] / counts[keep]
    observed = sum_o[keep] / counts[keep]
    ece = float(np.sum(counts[keep] / len(p) * np.abs(observed - predicted)))
    return Reliability(predicted, observed, counts[keep].astype(np.int64), edges, ece, np.flatnonzero(keep))
