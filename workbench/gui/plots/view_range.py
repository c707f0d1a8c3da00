"""The x range the live plots follow, and the learning-rate panel's y range."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

HEADROOM = 0.1  # room on the right for points still to come, as a share of the data's span
PAD = 0.02  # margin on the left


def follow_x(view: tuple[float, float], lo: float, hi: float) -> tuple[float, float] | None:
    """The new x range that shows [lo, hi], or None when the current view still does.

    It grows in steps (10 % headroom on the right) rather than every frame, so a steady run
    moves the axis a few times, not 30 times a second."""
    if hi <= lo:
        hi = lo + 1.0
    (a, b), span = view, hi - lo
    pad = PAD * span
    if a <= lo - pad * 0.5 and hi <= b and a >= lo - 2 * pad and b - a <= 1.2 * span:
        return None
    return lo - pad, hi + HEADROOM * span


def lr_y_range(lo: float, hi: float, log: bool) -> tuple[float, float, float]:
    """(y0, y1, padding) for rates in [lo, hi]: from 0 in linear scale (a constant rate is a
    line near the top, not mid-air at "0.01 +- 0.5" as auto-range puts it); a decade margin in
    log scale (values in log10 units, as pyqtgraph's log mode wants)."""
    if hi <= 0 or not np.isfinite(lo):
        return 0.0, 1.0, 0.0
    if log:
        return float(np.log10(lo)), float(np.log10(hi)), 0.08
    return 0.0, hi * 1.12, 0.0


class XAxis(pg.AxisItem):
    """The shared x axis. With `integer` on (the epoch axis) it only ticks whole numbers: no
    "1.5 epochs"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.integer = False

    def set_integer(self, on: bool) -> None:
        if on != self.integer:
            self.integer = on
            self.picture = None  # pyqtgraph's cached drawing
            self.update()

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph names)
        levels = super().tickSpacing(minVal, maxVal, size)
        if not self.integer:
            return levels
        whole = [(spacing, offset) for spacing, offset in levels
                 if spacing >= 1 and float(spacing).is_integer()]
        return whole or [(1.0, 0.0)]
