"""Regression errors as plain numpy functions (checked against scikit-learn).

Targets and predictions are (N,) or (N, w); with several target columns each metric is the
mean over the columns (scikit-learn's multioutput="uniform_average"). R² of a constant column
is 1.0 when predicted exactly, else 0.0 (scikit-learn's force_finite). MAPE is reported only
when no target is zero (otherwise it is undefined and None); it is a fraction (0.05 = 5 %).
Residuals are actual - predicted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RegressionMetrics", "regression_metrics", "residuals", "worst_rows"]


def _columns(a: np.ndarray, n: int) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).reshape(n, -1)


@dataclass
class RegressionMetrics:
    mae: float
    rmse: float
    r2: float
    mape: float | None  # None when a target is zero
    n: int

    def as_dict(self) -> dict[str, float | None]:
        return {"mae": self.mae, "rmse": self.rmse, "r2": self.r2, "mape": self.mape}


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> RegressionMetrics:
    """MAE, RMSE, R² and MAPE averaged over target columns; nan (None for MAPE) with no rows."""
    n = int(np.asarray(y_true).shape[0]) if np.ndim(y_true) else 0
    if n == 0:
        nan = float("nan")
        return RegressionMetrics(nan, nan, nan, None, 0)
    t, p = _columns(y_true, n), _columns(y_pred, n)
    err = p - t
    mae = np.abs(err).mean(axis=0)
    rmse = np.sqrt((err ** 2).mean(axis=0))
    ss_res = (err ** 2).sum(axis=0)
    ss_tot = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    safe_tot = np.where(ss_tot > 0, ss_tot, 1.0)
    r2 = np.where(ss_tot > 0, 1.0 - ss_res / safe_tot, np.where(ss_res == 0, 1.0, 0.0))
    mape = float((np.abs(err) / np.abs(t)).mean(axis=0).mean()) if np.all(t != 0) else None
    return RegressionMetrics(float(mae.mean()), float(rmse.mean()), float(r2.mean()), mape, n)


def residuals(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """actual - predicted, shaped (N, w)."""
    n = int(np.asarray(y_true).shape[0])
    return _columns(y_true, n) - _columns(y_pred, n)


def worst_rows(y_true: np.ndarray, y_pred: np.ndarray, k: int = 50, column: int = 0) -> np.ndarray:
    """Indices of the k rows with the largest absolute residual in `column`, worst first."""
    r = np.abs(residuals(y_true, y_pred)[:, column])
    k = min(k, len(r))
    order = np.argsort(-r, kind="mergesort")
    return order[:k]
