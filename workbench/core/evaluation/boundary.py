"""Decision-boundary grids: what a model predicts over a plane (or line) through its input space.

A Plane maps display coordinates (u, v) to model inputs: x = base + u * u_axis + v * v_axis.
- "features": two chosen numeric features in their own units; every other feature held at its
  training median (numbers) or most frequent value (categories); the default for a table that
  mixes numbers and categories;
- "pca": the plane of the training inputs' first two principal components (model units), for
  any number of inputs, images included;
- "line": a single-input model, over that input.
`grid_snapshot` evaluates a model (any callable from model inputs to outputs) on an nx x ny
grid and returns plain lists: per cell the predicted class and its probability (classification)
or the predicted value in the target's units (regression), with train/test points projected
onto the plane. Plain values only, so the dict crosses a process pipe as an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.core.evaluation.predictions import (
    predicted_from_outputs,
    probabilities_from_outputs,
)
from workbench.core.evaluation.preprocessing import Preprocessing

__all__ = [
    "GRID",
    "MAX_POINTS",
    "PCA_ROWS",
    "Plane",
    "default_plane",
    "feature_plane",
    "grid_snapshot",
    "line_plane",
    "pca_plane",
]

GRID = 100  # cells per side
MAX_POINTS = 600  # points per split drawn on top
PCA_ROWS = 2000  # training rows the principal components are fitted on
PAD = 0.08  # the grid reaches this fraction beyond the data on each side


@dataclass
class Plane:
    method: str  # "features" | "pca" | "line"
    x_name: str
    y_name: str  # "" for a line
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    base: np.ndarray  # flat model input at (0, 0)
    u_axis: np.ndarray  # flat model-input change per display unit along x
    v_axis: np.ndarray | None
    features: tuple[int, ...] = ()  # the features on the axes (method "features"/"line")

    @property
    def is_line(self) -> bool:
        return self.v_axis is None

    def to_model(self, u: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
        """(n, F) flat model inputs for display coordinates u (and v)."""
        x = self.base[None, :] + np.asarray(u, dtype=np.float64)[:, None] * self.u_axis[None, :]
        if self.v_axis is not None and v is not None:
            x = x + np.asarray(v, dtype=np.float64)[:, None] * self.v_axis[None, :]
        return x.astype(np.float32)

    def project(self, X_model: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Display coordinates of model inputs (their position along the axes)."""
        X = np.asarray(X_model, dtype=np.float64).reshape(len(X_model), -1) - self.base[None, :]
        u = X @ self.u_axis / float(self.u_axis @ self.u_axis)
        v = X @ self.v_axis / float(self.v_axis @ self.v_axis) if self.v_axis is not None else np.zeros(len(X))
        return u, v


def _padded(lo: float, hi: float) -> tuple[float, float]:
    span = hi - lo
    if not np.isfinite(span) or span <= 0:
        span = max(abs(lo), 1.0)
        return lo - span * 0.5, hi + span * 0.5
    return lo - PAD * span, hi + PAD * span


def _std(prep: Preprocessing, i: int) -> tuple[float, float]:
    if prep.mean is None or prep.std is None:
        return 0.0, 1.0
    return float(prep.mean[i]), float(prep.std[i])


def feature_plane(prep: Preprocessing, i: int, j: int) -> Plane:
    """Features i and j (indices into feature_names) in their own units; the rest at their
    median or most frequent value."""
    base_raw = prep.baseline_raw().astype(np.float64)
    base = prep.to_model(base_raw[None, :])[0].astype(np.float64)
    n = len(base)
    axes = []
    for k in (i, j):
        mean, std = _std(prep, k)
        base[k] = -mean / std  # so that model input k = (u - mean) / std
        axis = np.zeros(n)
        axis[k] = 1.0 / std
        axes.append(axis)
    rng = [_padded(prep.feature_min[k], prep.feature_max[k]) if prep.feature_min else (-1.0, 1.0) for k in (i, j)]
    return Plane("features", prep.feature_names[i], prep.feature_names[j], rng[0], rng[1], base, axes[0], axes[1],
                 (i, j))


def line_plane(prep: Preprocessing, i: int = 0) -> Plane:
    """One input over its training range (others, if any, at their baseline)."""
    base_raw = prep.baseline_raw().astype(np.float64)
    base = prep.to_model(base_raw[None, :])[0].astype(np.float64)
    mean, std = _std(prep, i)
    base[i] = -mean / std
    axis = np.zeros(len(base))
    axis[i] = 1.0 / std
    rng = _padded(prep.feature_min[i], prep.feature_max[i]) if prep.feature_min else (-1.0, 1.0)
    return Plane("line", prep.feature_names[i] if prep.feature_names else "x", "", rng, (0.0, 0.0), base, axis,
                 None, (i,))


def pca_plane(X_model: np.ndarray, seed: int = 0) -> Plane:
    """The plane of the first two principal components of (up to PCA_ROWS of) the training
    inputs, in model units; axis names say how much of the variance each explains."""
    X = np.asarray(X_model, dtype=np.float64).reshape(len(X_model), -1)
    if len(X) > PCA_ROWS:
        X = X[np.random.default_rng(seed).choice(len(X), PCA_ROWS, replace=False)]
    mean = X.mean(axis=0)
    centered = X - mean
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    if vt.shape[0] < 2:
        vt = np.vstack([vt, np.zeros_like(vt)])
        s = np.r_[s, 0.0]
    var = s ** 2
    share = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    u_axis, v_axis = vt[0], vt[1]
    u, v = centered @ u_axis, centered @ v_axis
    return Plane("pca", f"PC1 ({share[0]:.0%} of variance)", f"PC2 ({share[1]:.0%} of variance)",
                 _padded(float(u.min()), float(u.max())), _padded(float(v.min()), float(v.max())), mean, u_axis, v_axis)


def default_plane(prep: Preprocessing, X_train_model: np.ndarray) -> Plane | None:
    """The view a run shows by default: its two inputs, its one input, its first two numeric
    columns when it also has categories, or the PCA plane."""
    if len(X_train_model) == 0:
        return None
    n_features = int(np.prod(prep.input_shape))
    if prep.kind == "tabular" and n_features == 1:
        return line_plane(prep, 0)
    numeric = prep.numeric_features() if prep.kind == "tabular" else []
    if prep.kind == "tabular" and n_features == 2 and len(numeric) == 2:
        return feature_plane(prep, 0, 1)
    if prep.kind == "tabular" and len(numeric) >= 2 and len(numeric) < n_features:
        # numbers and one-hot categories: two real columns read better than a PCA of both
        return feature_plane(prep, numeric[0], numeric[1])
    if len(X_train_model) < 3:
        return None
    return pca_plane(X_train_model)


def _points(plane: Plane, X_model: np.ndarray, y: np.ndarray, seed: int) -> list[list[float]]:
    n = len(X_model)
    idx = np.arange(n)
    if n > MAX_POINTS:
        idx = np.sort(np.random.default_rng(seed).choice(n, MAX_POINTS, replace=False))
    u, v = plane.project(np.asarray(X_model)[idx])
    labels = np.asarray(y)[idx].reshape(len(idx), -1)[:, 0]
    return [np.round(u, 5).tolist(), np.round(v, 5).tolist(), labels.astype(float).tolist()]


def grid_snapshot(predict: Callable[[np.ndarray], np.ndarray], plane: Plane, prep: Preprocessing, *,
                  grid: int = GRID, points: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                  input_shape: tuple[int, ...] | None = None) -> dict[str, Any]:
    """The model's predictions over the plane as a plain dict (see the module doc).

    predict: model inputs (n, *input_shape) float32 -> raw outputs (n, C) or (n, w).
    points: split -> (model inputs, labels) to project and draw on top (labels: class indices or
    values in the target's units)."""
    shape = tuple(input_shape or prep.input_shape)
    nx = grid
    ny = 1 if plane.is_line else grid
    xs = np.linspace(plane.x_range[0], plane.x_range[1], nx)
    if plane.is_line:
        U, V = xs, None
    else:
        ys = np.linspace(plane.y_range[0], plane.y_range[1], ny)
        gu, gv = np.meshgrid(xs, ys)  # row = y, column = x
        U, V = gu.ravel(), gv.ravel()
    X = plane.to_model(U, V).reshape(-1, *shape)
    out = np.asarray(predict(X), dtype=np.float64)
    result: dict[str, Any] = {
        "method": plane.method, "x_name": plane.x_name, "y_name": plane.y_name,
        "x_range": [float(plane.x_range[0]), float(plane.x_range[1])],
        "y_range": [float(plane.y_range[0]), float(plane.y_range[1])],
        "nx": nx, "ny": ny, "task": prep.task, "class_names": list(prep.class_names),
        "features": list(plane.features),
    }
    if prep.task == "classification":
        probs = probabilities_from_outputs(out, prep.probability)
        pred = predicted_from_outputs(out)
        result["classes"] = pred.astype(int).tolist()
        result["confidence"] = np.round(probs[np.arange(len(pred)), pred], 4).tolist()
        if plane.is_line:
            result["probabilities"] = np.round(probs.T, 4).tolist()
    else:
        result["values"] = np.round(prep.target_to_units(out)[:, 0], 6).tolist()
        result["value_name"] = prep.target_names[0]
    result["points"] = {name: _points(plane, Xp, yp, seed=i)
                        for i, (name, (Xp, yp)) in enumerate((points or {}).items()) if len(Xp)}
    return result


def plane_for(prep: Preprocessing, X_train_model: np.ndarray, method: str = "default", i: int = 0,
              j: int = 1) -> Plane | None:
    """The plane a person chose: "default" (the run's own view), "pca", or "features" i and j."""
    if method == "features":
        return feature_plane(prep, i, j)
    if method == "pca":
        return pca_plane(X_train_model) if len(X_train_model) >= 3 else None
    return default_plane(prep, X_train_model)


def stored_grid(predict: Callable[[np.ndarray], np.ndarray], prep: Preprocessing, splits: dict, *,
                method: str = "default", i: int = 0, j: int = 1, grid: int = GRID) -> dict[str, Any] | None:
    """A grid for a recorded run from the inputs stored with its predictions (train, else val,
    for the plane; train and test drawn on top). None when no inputs were stored."""
    base = next((splits[s] for s in ("train", "val", "test") if s in splits and splits[s].inputs is not None), None)
    if base is None:
        return None
    X_base = prep.stored_to_model(base.inputs)
    plane = plane_for(prep, X_base, method, i, j)
    if plane is None:
        return None
    points = {name: (prep.stored_to_model(splits[name].inputs), np.asarray(splits[name].y_true))
              for name in ("train", "test") if name in splits and splits[name].inputs is not None}
    return grid_snapshot(predict, plane, prep, grid=grid, points=points)
