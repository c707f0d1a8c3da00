"""The data half of the pre-flight check: rows shared between train and validation/test
(leakage), a single feature that predicts the target almost perfectly (target leakage), constant
columns, and class imbalance with the majority-class baseline accuracy.

Each check takes the prepared splits (numpy views of their tensors) and returns a CheckResult.
They look at the prepared features, so duplicates are exact duplicates after standardisation
(the same affine map for every split keeps equal rows equal).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from workbench.core.diagnostics.results import CheckResult

__all__ = [
    "duplicate_rows", "target_leakage", "constant_columns", "class_balance", "majority_baseline",
    "LEAK_ACCURACY", "LEAK_R2",
]

LEAK_ACCURACY = 0.99  # one feature alone classifies this well (train and validation): suspicious
LEAK_R2 = 0.98  # ... or explains this much of a regression target
LEAK_BINS = 32
HASH_CHUNK = 4096


def _rows(split) -> np.ndarray:
    X = split.X.numpy() if hasattr(split.X, "numpy") else np.asarray(split.X)
    return np.ascontiguousarray(X.reshape(len(X), -1), dtype=np.float32)


def _labels(split) -> np.ndarray:
    return split.y.numpy() if hasattr(split.y, "numpy") else np.asarray(split.y)


def _pct(a: int, b: int) -> str:
    return f"{a / b:.0%}" if b else "0%"


# ---- duplicates -------------------------------------------------------------------------------
def _row_hashes(X: np.ndarray) -> np.ndarray:
    """A 64-bit hash per row: a random linear map of the row's bit patterns (mod 2⁶⁴); equal rows
    get equal hashes, and candidates are compared exactly afterwards."""
    bits = X.view(np.uint32)
    mult = np.random.default_rng(12345).integers(1, 2**63, size=bits.shape[1], dtype=np.uint64) | np.uint64(1)
    out = np.empty(len(X), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for a in range(0, len(X), HASH_CHUNK):
            chunk = bits[a:a + HASH_CHUNK].astype(np.uint64)
            out[a:a + HASH_CHUNK] = (chunk * mult).sum(axis=1)
    return out


def _shared_rows(train: np.ndarray, other: np.ndarray, train_hash: np.ndarray) -> np.ndarray:
    """Indices of `other`'s rows that also appear in `train`."""
    if not len(other):
        return np.zeros(0, dtype=int)
    first = {}
    for i, h in enumerate(train_hash.tolist()):
        first.setdefault(h, i)
    other_hash = _row_hashes(other)
    hits = [j for j, h in enumerate(other_hash.tolist()) if h in first and np.array_equal(train[first[h]], other[j])]
    return np.asarray(hits, dtype=int)


def _conflicting_duplicates(X: np.ndarray, y: np.ndarray, hashes: np.ndarray) -> int:
    """Training rows whose exact input also appears with a different label."""
    if y.ndim != 1:
        return 0
    groups: dict[int, list[int]] = {}
    for i, h in enumerate(hashes.tolist()):
        groups.setdefault(h, []).append(i)
    bad = 0
    for idx in groups.values():
        if len(idx) > 1 and len(set(y[idx].tolist())) > 1 and all(np.array_equal(X[idx[0]], X[k]) for k in idx[1:]):
            bad += len(idx)
    return bad


def duplicate_rows(data: Any) -> CheckResult:
    """Rows of the validation or test split that also appear in training (leakage), and training rows with
    identical inputs but different labels."""
    t0 = time.perf_counter()
    train = _rows(data.train)
    h = _row_hashes(train)
    found = {}
    for name, split in (("validation", data.val), ("test", data.test)):
        other = _rows(split)
        found[name] = (len(_shared_rows(train, other, h)), len(other))
    conflicts = _conflicting_duplicates(train, _labels(data.train), h) if data.meta.task == "classification" else 0
    details = {f"{k}_rows_in_train": v[0] for k, v in found.items()}
    details["conflicting_train_rows"] = conflicts
    leaks = [(k, n, total) for k, (n, total) in found.items() if n]
    worst = max((n / total for _, n, total in leaks), default=0.0)
    # a handful of shared rows moves a score by at most their share: nothing to fix (the Spiral
    # sample's two arms both start at the origin, so one such point may land in validation)
    few = bool(leaks) and all(n <= 3 for _, n, _ in leaks) and worst < 0.02
    parts = []
    if leaks:
        shared = "; ".join(f"{n} of {total} {k} rows ({_pct(n, total)}) also appear{'s' if n == 1 else ''} in the "
                           "training data" for k, n, total in leaks)
        parts.append(shared + (f": too few to matter ({'it' if sum(n for _, n, _ in leaks) == 1 else 'they'} can move a score by at most {100 * worst:.1f} "
                               "percentage points); nothing to do." if few else
                               ": their scores are optimistic (the model has seen them). Remove duplicate rows "
                               "from the data before splitting (e.g. pandas drop_duplicates)."))
    many_conflicts = conflicts > max(3, 0.01 * len(train))
    if conflicts:
        parts.append(f"{conflicts} training rows share identical inputs with different labels; no model can fit "
                     + ("them all. Check the labels, or add the feature that tells them apart." if many_conflicts
                        else "them all, but so few barely matter (where classes meet, as at the centre of the "
                             "Spiral sample); nothing to do."))
    status = "pass"
    if leaks:
        status = "fail" if worst >= 0.1 else "pass" if few else "warn"
    if many_conflicts:
        status = "warn" if status == "pass" else status
    message = " ".join(parts) if parts else "No row of the validation or test data appears in the training data."
    return CheckResult("duplicates", "Duplicated rows", status, message, time.perf_counter() - t0, details)


# ---- target leakage -----------------------------------------------------------------------------
def _bin_edges(x: np.ndarray) -> np.ndarray:
    """Quantile edges, plus the middles of the widest gaps between values: a feature that comes in
    clusters (a leaked label plus noise) gets an edge between its clusters, not a bin across them."""
    values = np.unique(x)
    if len(values) <= LEAK_BINS:
        return (values[:-1] + values[1:]) / 2
    gaps = np.diff(values)
    widest = np.argsort(gaps)[-LEAK_BINS:]
    gap_edges = (values[widest] + values[widest + 1]) / 2
    return np.unique(np.concatenate([np.quantile(x, np.linspace(0, 1, LEAK_BINS + 1)[1:-1]), gap_edges]))


def _feature_scores(xtr, ytr, xva, yva, n_classes: int | None) -> tuple[float, float]:
    """How well one feature alone predicts the target, binned (a 1-D lookup table fitted on the
    training rows): accuracy for classes, R² for a regression target; on train and validation."""
    edges = _bin_edges(xtr)
    btr, bva = np.searchsorted(edges, xtr), np.searchsorted(edges, xva)
    nb = len(edges) + 1
    if n_classes is not None:
        table = np.bincount(btr * n_classes + ytr, minlength=nb * n_classes).reshape(nb, n_classes)
        rule = table.argmax(axis=1)
        rule[table.sum(axis=1) == 0] = np.bincount(ytr, minlength=n_classes).argmax()
        return float((rule[btr] == ytr).mean()), float((rule[bva] == yva).mean()) if len(yva) else 1.0
    counts = np.bincount(btr, minlength=nb)
    sums = np.bincount(btr, weights=ytr, minlength=nb)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), ytr.mean())

    def r2(b, y):
        if not len(y):
            return 1.0
        var = ((y - y.mean()) ** 2).sum()
        return float(1 - ((y - means[b]) ** 2).sum() / var) if var > 0 else 0.0

    return r2(btr, ytr), r2(bva, yva)


def target_leakage(data: Any) -> CheckResult:
    """The feature that alone predicts the target best (a binned lookup fitted on training, scored on
    training and validation); a warning naming it when that is almost perfect."""
    t0 = time.perf_counter()
    meta = data.meta
    title = "Target leakage"
    if meta.kind != "tabular":
        return CheckResult("target_leakage", title, "pass", "Not checked for images (one pixel never predicts "
                           "the class on its own).", time.perf_counter() - t0)
    Xtr, Xva = _rows(data.train), _rows(data.val)
    if Xtr.shape[1] < 2:
        return CheckResult("target_leakage", title, "pass", "Only one feature: nothing to compare.",
                           time.perf_counter() - t0)
    ytr, yva = _labels(data.train), _labels(data.val)
    classes = meta.task == "classification" and ytr.ndim == 1
    if not classes:
        ytr = ytr.reshape(len(ytr), -1)[:, 0].astype(np.float64)
        yva = yva.reshape(len(yva), -1)[:, 0].astype(np.float64)
    n_classes = int(max(ytr.max(initial=0), yva.max(initial=0)) + 1) if classes else None
    majority = float(np.bincount(ytr).max() / len(ytr)) if classes else 0.0
    names = list(meta.feature_names) or [f"feature {j}" for j in range(Xtr.shape[1])]
    scores = []
    for j in range(Xtr.shape[1]):
        s_tr, s_va = _feature_scores(Xtr[:, j], ytr, Xva[:, j], yva, n_classes)
        scores.append((min(s_tr, s_va), j))
    best, j = max(scores)
    limit = LEAK_ACCURACY if classes else LEAK_R2
    what = "accuracy" if classes else "R²"
    details = {"feature": names[j], "score": best, "metric": "accuracy" if classes else "r2"}
    if best >= limit and (not classes or majority < limit):
        return CheckResult(
            "target_leakage", title, "warn",
            f"The feature '{names[j]}' alone predicts the target with {what} {best:.3f} (on training and "
            "validation rows). That is often target leakage: a column computed from the target or "
            "recorded after it. If it would not be known when predicting, remove it; if it is "
            "legitimately this informative, the problem may be simpler than a neural network.",
            time.perf_counter() - t0, details)
    return CheckResult("target_leakage", title, "pass",
                       f"No single feature predicts the target almost perfectly (best: '{names[j]}', {what} "
                       f"{best:.2f}).", time.perf_counter() - t0, details)


# ---- constant columns ---------------------------------------------------------------------------
def constant_columns(data: Any) -> CheckResult:
    """Features that never change in the training rows, named."""
    t0 = time.perf_counter()
    meta = data.meta
    if meta.kind != "tabular":
        return CheckResult("constant_columns", "Constant columns", "pass",
                           "Not checked for images (constant border pixels are normal).", time.perf_counter() - t0)
    X = _rows(data.train)
    constant = np.flatnonzero(X.max(axis=0) == X.min(axis=0)) if len(X) else np.zeros(0, int)
    names = list(meta.feature_names) or [f"feature {j}" for j in range(X.shape[1])]
    gone = [names[j] for j in constant]
    if not gone:
        return CheckResult("constant_columns", "Constant columns", "pass",
                           "Every feature varies in the training data.", time.perf_counter() - t0)
    shown = ", ".join(f"'{n}'" for n in gone[:8]) + (f" and {len(gone) - 8} more" if len(gone) > 8 else "")
    return CheckResult(
        "constant_columns", "Constant columns", "warn",
        f"{len(gone)} of {X.shape[1]} features never change in the training data ({shown}); they carry no "
        "information and only add weights. Remove them from the file.",
        time.perf_counter() - t0, {"columns": gone})


# ---- class balance ------------------------------------------------------------------------------
def majority_baseline(meta: Any, train_y: Any, eval_y: Any | None = None) -> tuple[str, float]:
    """The majority class of the training rows and the accuracy of always predicting it (on
    `eval_y` when given and not empty, else on the training rows). Every classification result
    is worth reading beside this number."""
    ytr = np.asarray(train_y.numpy() if hasattr(train_y, "numpy") else train_y).reshape(-1)
    counts = np.bincount(ytr.astype(int))
    top = int(counts.argmax())
    ev = ytr if eval_y is None or not len(eval_y) else np.asarray(
        eval_y.numpy() if hasattr(eval_y, "numpy") else eval_y).reshape(-1)
    names = list(getattr(meta, "class_names", []) or [])
    return (names[top] if top < len(names) else str(top)), float((ev == top).mean())


def class_balance(data: Any) -> CheckResult | None:
    """None for regression."""
    t0 = time.perf_counter()
    meta = data.meta
    y = _labels(data.train)
    if meta.task != "classification" or y.ndim != 1 or not len(y):
        return None
    counts = np.bincount(y, minlength=len(meta.class_names) or 0)
    present = counts[counts > 0]
    name, baseline = majority_baseline(meta, data.train.y, data.val.y)
    where = "validation" if len(data.val) else "training"
    ratio = float(present.max() / present.min())
    smallest = int(counts.argmin()) if (counts > 0).all() else int(np.flatnonzero(counts == 0)[0])
    names = list(meta.class_names) or [str(i) for i in range(len(counts))]
    details = {"majority_class": name, "baseline_accuracy": baseline, "imbalance_ratio": ratio,
               "counts": {names[i]: int(c) for i, c in enumerate(counts)}}
    head = (f"Always predicting the majority class '{name}' scores {baseline:.1%} accuracy on the {where} "
            "rows: judge every accuracy against that.")
    if (counts == 0).any():
        missing = [names[i] for i in np.flatnonzero(counts == 0)]
        return CheckResult("class_balance", "Class balance", "warn",
                           f"{head} The classes {', '.join(missing)} have no training rows; the model cannot "
                           "learn them. Use more data or a smaller validation/test share.",
                           time.perf_counter() - t0, details)
    if ratio > 3:
        return CheckResult(
            "class_balance", "Class balance", "warn",
            f"{head} The classes are imbalanced ({ratio:.0f}:1 between '{name}' and '{names[smallest]}'): weight "
            "the loss by class (loss weight 'balanced') and read F1 beside accuracy.",
            time.perf_counter() - t0, details)
    return CheckResult("class_balance", "Class balance", "pass",
                       f"{head} The classes are balanced (largest to smallest {ratio:.1f}:1).",
                       time.perf_counter() - t0, details)
