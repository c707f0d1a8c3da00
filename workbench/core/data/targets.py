"""Turning a target column into labels: infer the task, encode classes, count them.

Task inference (when data.task is "auto"):
  * any non-numeric value                              -> classification (class names sorted)
  * all values whole numbers and either exactly 2 distinct values, or at most 20 distinct
    values with on average at least 5 rows per value (N >= 5 * distinct)  -> classification
  * anything else (fractional numbers, or many distinct whole numbers)   -> regression
The inferred task is written to meta.notes together with how to override it (data.task).
An inferred classification whose classes are mostly single rows (at least 10 classes, and more
classes than half the rows, or most classes seen once) is refused: such a column is an
identifier or a continuous number read as text, and a split could not stratify it.
"""

from __future__ import annotations

import numpy as np

from .types import DataError

MAX_AUTO_CLASSES = 20
MIN_ROWS_PER_CLASS = 5
MAX_FORCED_CLASSES = 1000
DEGENERATE_MIN_CLASSES = 10  # fewer classes than this are never called an identifier


def number_class_name(v: float) -> str:
    """The class name of a numeric label: 3.0 -> '3', 0.5 -> '0.5'."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _looks_like_classes(values: np.ndarray) -> tuple[bool, int]:
    """values: float64 1-D without NaN. (whole numbers with few levels?, number of levels)."""
    levels = np.unique(values)
    whole = bool(np.all(np.mod(values, 1.0) == 0))
    n = len(values)
    few = len(levels) == 2 or (len(levels) <= MAX_AUTO_CLASSES and n >= MIN_ROWS_PER_CLASS * len(levels))
    return whole and few, len(levels)


def encode_target(
    values: np.ndarray,
    *,
    task: str,
    target_name: str,
    where: str,
    notes: list[str],
    class_names: list[str] | None = None,
    levels: np.ndarray | None = None,
) -> tuple[np.ndarray, str, list[str]]:
    """Encode a 1-D target.

    values: float64 (numeric target), an array of str (text target), or, with `levels` (the
    sorted distinct texts), a text target already coded: int codes into levels.
    Returns (y, task, class_names): y int64 (N,) for classification, float32 (N, 1) for regression.
    `where` names the file for messages; `class_names` forces known names (samples).
    """
    numeric = levels is None and values.dtype.kind in "fiub"
    how_to = "set data.task (--task) to 'classification' or 'regression' to override"
    inferred = task == "auto"
    if task == "auto":
        if not numeric:
            task = "classification"
            notes.append(f"task: classification (target '{target_name}' holds text labels)")
        else:
            is_cls, n_levels = _looks_like_classes(values.astype(np.float64))
            if is_cls:
                task = "classification"
                notes.append(
                    f"task: classification (target '{target_name}' holds {n_levels} distinct whole numbers); {how_to}"
                )
            else:
                task = "regression"
                notes.append(f"task: regression (target '{target_name}' holds numbers); {how_to}")

    if task == "regression":
        if not numeric:
            examples = ", ".join(repr(v) for v in _first_distinct(values, levels))
            raise DataError(
                f"{where}: the target column '{target_name}' holds text ({examples}, ...), which cannot be "
                "a regression target. Set data.task (--task) to 'classification' or 'auto', "
                "or choose a numeric target column (data.target / --target)."
            )
        return values.astype(np.float32).reshape(-1, 1), task, []

    # classification
    if numeric:
        found, y = np.unique(values.astype(np.float64), return_inverse=True)
        names = [number_class_name(v) for v in found]
    elif levels is not None:
        seen = np.bincount(values, minlength=len(levels)) > 0  # rows may have been dropped
        y = (np.cumsum(seen) - 1)[values]
        names = [str(v) for v in levels[seen]]
    else:
        found, y = np.unique(values.astype(str), return_inverse=True)
        names = [str(v) for v in found]
    if class_names is not None and len(class_names) == len(names):
        names = list(class_names)
    if inferred and len(names) >= DEGENERATE_MIN_CLASSES:
        _check_not_identifier(_first_distinct(values, levels), y, names, target_name=target_name, where=where)
    if len(names) > MAX_FORCED_CLASSES:
        raise DataError(
            f"{where}: the target column '{target_name}' has {len(names)} different values - too many "
            "for classification. Set data.task (--task) to 'regression', or choose another target "
            "column (data.target / --target)."
        )
    if len(names) < 2:
        only = names[0] if names else "(nothing)"
        raise DataError(
            f"{where}: the target column '{target_name}' has a single class ('{only}'); a classifier needs "
            "at least two. Choose another target column (data.target / --target) or add rows of other classes."
        )
    return y.astype(np.int64).reshape(-1), task, names


def _first_distinct(values: np.ndarray, levels: np.ndarray | None, k: int = 3) -> list:
    """The first k different values in row order (for messages)."""
    if levels is None:
        return list(dict.fromkeys(values[:10_000].tolist()))[:k]
    _, first = np.unique(values, return_index=True)
    return [str(levels[values[i]]) for i in np.sort(first)[:k]]


def _check_not_identifier(examples: list, y: np.ndarray, names: list[str], *, target_name: str, where: str) -> None:
    """Refuse an inferred classification whose classes are mostly single rows."""
    counts = np.bincount(y, minlength=len(names))
    n_rows, n_classes = int(counts.sum()), len(names)
    singles = int((counts < 2).sum())
    if not (n_classes > n_rows / 2 or singles > n_classes / 2):
        return
    examples = ", ".join(repr(v) for v in examples)
    raise DataError(
        f"{where}: the target column '{target_name}' has {n_classes} different values in {n_rows} rows "
        f"({singles} of them on a single row; e.g. {examples}), so it looks like an identifier or a "
        "continuous number read as text rather than class labels - a classifier could not learn it and "
        "the validation/test split would get no rows. Choose another target column (data.target / --target), "
        "or, if it holds numbers, set data.task (--task) to 'regression' (and fix cells that are not numbers)."
    )


def class_counts(y: np.ndarray, n_classes: int) -> list[int]:
    return [int(c) for c in np.bincount(y, minlength=n_classes)]
