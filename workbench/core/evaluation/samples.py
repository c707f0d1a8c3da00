"""Which samples to show: those of one confusion-matrix cell, all correct or all misclassified
ones, ordered by confidence or loss ("most confidently wrong first" finds mislabelled data)."""

from __future__ import annotations

import numpy as np

from workbench.core.evaluation.predictions import SplitPredictions

__all__ = ["SAMPLE_ORDERS", "sample_label", "select_samples"]

# order name -> (what it sorts by, descending?)
SAMPLE_ORDERS = {
    "most confident first": ("confidence", True),
    "least confident first": ("confidence", False),
    "highest loss first": ("loss", True),
    "lowest loss first": ("loss", False),
    "data order": ("row", False),
}


def sample_label(sp: SplitPredictions, i: int) -> str:
    """Where sample `i` came from, for people: its file ("circle/003.png") or table line ("line
    12") when stored, else its row of the loaded dataset counted from 1 ("row 5")."""
    if sp.labels is not None:
        return str(sp.labels[i])
    if sp.rows is not None:
        return f"row {int(sp.rows[i]) + 1}"
    return f"#{i + 1}"


def select_samples(sp: SplitPredictions, *, true: int | None = None, pred: int | None = None,
                   which: str = "all", order: str = "most confident first",
                   predicted: np.ndarray | None = None) -> np.ndarray:
    """Indices into `sp` of the samples to show, in display order.

    true/pred: keep one confusion-matrix cell (either may be None: a whole row or column);
    which: "all", "correct" or "wrong"; predicted: the classes to use instead of the argmax (a
    moved decision threshold)."""
    if order not in SAMPLE_ORDERS:
        raise ValueError(f"unknown order {order!r}; one of {', '.join(SAMPLE_ORDERS)}")
    pred_all = sp.predicted if predicted is None else np.asarray(predicted)
    keep = np.ones(len(sp), dtype=bool)
    if true is not None:
        keep &= sp.y_true == true
    if pred is not None:
        keep &= pred_all == pred
    if which == "correct":
        keep &= pred_all == sp.y_true
    elif which == "wrong":
        keep &= pred_all != sp.y_true
    elif which != "all":
        raise ValueError("which must be 'all', 'correct' or 'wrong'")
    idx = np.flatnonzero(keep)
    key, descending = SAMPLE_ORDERS[order]
    if key == "row":
        values = sp.rows[idx] if sp.rows is not None else idx
    elif key == "confidence":
        values = sp.probabilities[idx, pred_all[idx]]
    else:
        values = sp.sample_loss[idx]
    ranks = np.argsort(-values if descending else values, kind="mergesort")
    return idx[ranks]
