"""Dataset -> PreparedData: a deterministic (stratified) split and standardisation.

Classification splits are stratified: each class contributes val/test rows in proportion to
its size (largest-remainder rounding, so the totals match the requested fractions), and every
class keeps at least one training row (a class with a single sample goes to train only).
When that leaves val/test short of their share (many classes of one or two rows), the
missing rows are moved from train at random, so some classes are then seen only in val/test;
PreparedData.meta.notes says so. A split that asks for 15% never yields an empty val/test.
Standardisation is fitted on the training rows only: per feature for tables, per channel for
images; a constant feature keeps std 1 so nothing is divided by zero. Regression targets are
standardised too (per column, data.standardize_target, on by default): the fitted TargetScaler
goes into PreparedData.meta.target_scaler, the splits' y stay in the target's own units, and
the trainer feeds the loss `scaler.to_standard(y)` and reports metrics on
`scaler.to_units(outputs)`.

Memory: each split is one float32 copy of its rows (gathered once, standardised in place), and
the statistics are computed in chunks, so a big (memory-mapped) table is never copied twice.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .subset import cap_per_class, select_classes
from .types import DataError, Dataset, PreparedData, Split, TargetScaler

MIN_STD = 1e-8
CHUNK_ROWS = 1 << 14  # rows per pass when fitting the standardisation (small temporaries)


def _allocate(counts: np.ndarray, fraction: float, caps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """How many rows each class gives: about counts*fraction, at most caps, totals rounded."""
    ideal = counts * fraction
    take = np.minimum(np.floor(ideal), caps).astype(int)
    wanted = min(int(round(counts.sum() * fraction)), int(caps.sum()))
    remainder = ideal - take
    order = np.lexsort((rng.random(len(counts)), -remainder))
    total = int(take.sum())
    while total < wanted:  # wanted <= caps.sum(), so every pass adds at least one row
        for c in order:
            if total >= wanted:
                break
            if take[c] < caps[c]:
                take[c] += 1
                total += 1
    return take


def _requested(n: int, val: float, test: float) -> tuple[int, int]:
    """Rows val and test ask for; at least one row stays in train."""
    n_test = min(int(round(n * test)), max(n - 1, 0))
    n_val = min(int(round(n * val)), max(n - 1 - n_test, 0))
    return n_val, n_test


def split_indices(
    dataset: Dataset, val: float, test: float, seed: int, notes: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = len(dataset.y)
    if dataset.meta.task == "classification":
        y = dataset.y
        n_classes = max(len(dataset.meta.class_names), int(y.max()) + 1 if n else 0)
        counts = np.bincount(y, minlength=n_classes)
        present = counts > 0
        caps = np.where(present, counts - 1, 0)
        n_test = _allocate(counts, test, caps, rng)
        n_val = _allocate(counts, val, caps - n_test, rng)
        parts: tuple[list, list, list] = ([], [], [])
        for c in np.flatnonzero(present):
            idx = rng.permutation(np.flatnonzero(y == c))
            t, v = n_test[c], n_val[c]
            parts[2].append(idx[:t])
            parts[1].append(idx[t : t + v])
            parts[0].append(idx[t + v :])
        train, val_idx, test_idx = (rng.permutation(np.concatenate(p)) if p else np.array([], int) for p in parts)
        want_val, want_test = _requested(n, val, test)
        short_test, short_val = want_test - len(test_idx), want_val - len(val_idx)
        if short_test > 0 or short_val > 0:
            # every class is down to one training row: take the rest from train at random
            short_test, short_val = max(short_test, 0), max(short_val, 0)
            moved = train[: short_test + short_val]  # train is already shuffled
            train = train[short_test + short_val :]
            test_idx = rng.permutation(np.concatenate([test_idx, moved[:short_test]]))
            val_idx = rng.permutation(np.concatenate([val_idx, moved[short_test:]]))
            if notes is not None:
                singles = int((counts == 1).sum())
                notes.append(
                    f"split: target '{dataset.meta.target_name}' has {int(present.sum())} classes in {n} rows "
                    f"({singles} with a single row), too few rows per class to stratify; moved "
                    f"{short_test + short_val} rows to validation/test at random, so some classes appear only there"
                )
        return train, val_idx, test_idx
    order = rng.permutation(n)
    n_val, n_test = _requested(n, val, test)
    return order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]


def fit_standardizer(X: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature (tables) or per-channel (images) mean and std of X, float32, computed in
    float64 over chunks of rows (two passes, so no float64 copy of X is ever made)."""
    axes = (0,) if kind == "tabular" else (0, *range(2, X.ndim))
    n = X.shape[0]
    per_row = int(np.prod([X.shape[a] for a in axes[1:]], dtype=np.int64)) if len(axes) > 1 else 1
    count = max(1, n * per_row)
    total = 0.0
    for a in range(0, n, CHUNK_ROWS):
        total = total + X[a:a + CHUNK_ROWS].sum(axis=axes, dtype=np.float64)
    mean = np.asarray(total, dtype=np.float64) / count
    shape = (1, -1) if kind == "tabular" else (1, -1, *([1] * (X.ndim - 2)))
    squares = 0.0
    for a in range(0, n, CHUNK_ROWS):
        d = X[a:a + CHUNK_ROWS].astype(np.float64) - mean.reshape(shape)
        squares = squares + (d * d).sum(axis=axes)
    std = np.sqrt(np.asarray(squares, dtype=np.float64) / count)
    std = np.where(std < MIN_STD, 1.0, std)
    return mean.astype(np.float32), std.astype(np.float32)


def fit_target_scaler(y: np.ndarray) -> TargetScaler:
    """Per-column mean and std of regression targets y (N, w); a constant column keeps std 1."""
    y2 = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    mean = y2.mean(axis=0) if len(y2) else np.zeros(y2.shape[1])
    std = y2.std(axis=0) if len(y2) else np.ones(y2.shape[1])
    std = np.where(std < MIN_STD, 1.0, std)
    return TargetScaler(tuple(float(v) for v in mean), tuple(float(v) for v in std))


def _standardise_in_place(X: np.ndarray, mean: np.ndarray, std: np.ndarray, kind: str) -> None:
    shape = (1, -1) if kind == "tabular" else (1, -1, *([1] * (X.ndim - 2)))
    m, s = mean.reshape(shape), std.reshape(shape)
    for a in range(0, len(X), CHUNK_ROWS):
        block = X[a:a + CHUNK_ROWS]
        block -= m
        block /= s


def _gather(X: np.ndarray, rows: np.ndarray, mean: np.ndarray | None = None, std: np.ndarray | None = None,
            kind: str = "tabular") -> np.ndarray:
    """X[rows] as one new float32 array, standardised in place when mean/std are given."""
    out = np.ascontiguousarray(X[rows], dtype=np.float32)
    if mean is not None:
        _standardise_in_place(out, mean, std, kind)
    return out


def _split(X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> Split:
    import torch  # here, not at the top: loading a dataset (no split yet) must not wait for torch

    return Split(
        X=torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)),
        y=torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64 if y.ndim == 1 else np.float32)),
        rows=np.asarray(rows, dtype=np.int64),
    )


def _fmt_list(values: tuple[float, ...]) -> str:
    shown = ", ".join(f"{v:.4g}" for v in values[:4])
    return shown + (", ..." if len(values) > 4 else "")


def prepare(dataset: Dataset, data) -> PreparedData:
    """Split `dataset` by data.split / data.seed, standardise the inputs if data.standardize and
    a regression target if data.standardize_target (both fitted on the training rows)."""
    if len(dataset.y) == 0:
        raise DataError(f"{dataset.meta.source}: the dataset has no samples")
    if getattr(data, "classes", None):
        dataset = select_classes(dataset, data.classes)
    notes: list[str] = []
    train, val, test = split_indices(dataset, data.split.val, data.split.test, data.seed, notes)
    if getattr(data, "train_per_class", None):
        if dataset.meta.task != "classification":
            raise DataError("data.train_per_class limits the training rows of each class; this dataset is "
                            f"{dataset.meta.task}: remove it")
        train = cap_per_class(train, dataset.y, data.train_per_class, notes)
    kind = dataset.meta.kind
    X = dataset.X
    mean = std = None
    X_train = _gather(X, train)
    if data.standardize:
        mean, std = fit_standardizer(X_train, kind)
        _standardise_in_place(X_train, mean, std, kind)
    y = dataset.y
    meta = dataset.meta
    if meta.task == "regression" and getattr(data, "standardize_target", True) and len(train):
        scaler = fit_target_scaler(y[train])
        meta = dataclasses.replace(meta, target_scaler=scaler)
        notes.append(
            f"target '{meta.target_name}' standardised on the training split "
            f"(mean {_fmt_list(scaler.mean)}, std {_fmt_list(scaler.std)}): losses are in standardised units, "
            "MAE, RMSE, R² and predictions in the target's own units (data.standardize_target)"
        )
    if notes:
        meta = dataclasses.replace(meta, notes=[*meta.notes, *notes])
    return PreparedData(
        train=_split(X_train, y[train], train),
        val=_split(_gather(X, val, mean, std, kind), y[val], val),
        test=_split(_gather(X, test, mean, std, kind), y[test], test),
        meta=meta,
        mean=mean,
        std=std,
        augment=data.augment.model_copy() if data.augment is not None else None,
    )
