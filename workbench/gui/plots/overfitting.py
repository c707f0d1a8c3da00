"""Overfitting: validation loss rising for several epochs in a row while training loss falls."""

from __future__ import annotations

import numpy as np


def find_overfitting(epochs, train_loss, val_loss, patience: int = 3) -> int | None:
    """The first epoch of the first `patience` consecutive epochs in which validation loss rose
    and training loss fell (each compared with the epoch before), or None.

    Non-finite values break a streak. Epochs are given so that resumed runs (starting at
    epoch > 1) and missing rows report the right number.
    """
    epochs = np.asarray(epochs, dtype=np.float64)
    train = np.asarray(train_loss, dtype=np.float64)
    val = np.asarray(val_loss, dtype=np.float64)
    if patience < 1 or val.size < patience + 1:
        return None
    with np.errstate(invalid="ignore"):
        bad = (np.diff(val) > 0) & (np.diff(train) < 0)  # bad[i]: epoch i+1 vs epoch i
    run = 0
    for i, b in enumerate(bad):
        run = run + 1 if b else 0
        if run == patience:
            return int(epochs[i + 1 - patience + 1])
    return None
