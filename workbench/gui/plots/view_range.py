"""The ranges the live plots follow: x and y grow in steps, the learning-rate panel's y from 0.

An axis whose range changes regenerates its ticks and labels (text layout) and repaints, and
everything drawn in its view moves: a range that followed every new point cost most of a live
frame. So the x range grows with headroom on the right (`follow_x`), and the y ranges of the loss
and metric panels with room on the side the data outgrew (`step_y`, `SteppedViewBox`): a steady
run moves its axes a few times, not 12 times a second.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyqtgraph as pg

# x: the view ends at a round span ahead of the data (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k,
# at least X_HEADROOM ahead), so it moves ~10 times a decade rather than with every point, and
# never past the end of the run when that is known
X_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
X_HEADROOM = 0.04
X_LOOSE = 1.5  # a view wider than this times the data's span is refitted
PAD = 0.02  # margin on the left
# y: a view kept until the data leave it, or fill less than 1/Y_LOOSE of it; when the data leave,
# the new range leaves Y_ROOM of their span as room on that side
Y_LOOSE = 1.5
Y_ROOM = 0.15


def nice_above(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k that is >= value (> 0)."""
    power = 10.0 ** np.floor(np.log10(value))
    for step in X_NICE:
        if step * power >= value * (1 - 1e-12):
            return float(step * power)
    return float(10 * power)


def follow_x(view: tuple[float, float], lo: float, hi: float,
             end: float | None = None, *, tight: bool = False) -> tuple[float, float] | None:
    """The new x range that shows [lo, hi], or None when the current view still does.

    It grows in steps to a round span ahead of the data (`nice_above`), so a steady run moves
    the axis about ten times a decade, not with every frame. `end`: where the run will end
    (its last step or epoch), if known: the view never reaches past it. `tight`: nothing more
    is coming (a finished run): the view ends at the data, with a margin."""
    if hi <= lo:
        hi = lo + 1.0
    (a, b), span = view, hi - lo
    pad = PAD * span
    if tight:
        fitted = (lo - pad, hi + pad)
        return None if np.allclose(view, fitted, rtol=0, atol=1e-9 * span) else fitted
    if a <= lo - pad * 0.5 and hi <= b and a >= lo - 2 * pad and b - a <= X_LOOSE * span:
        return None
    right = lo + nice_above(span * (1 + X_HEADROOM))
    if end is not None and hi <= end and end + pad < right:
        right = end + pad
    return lo - pad, right


def step_y(view: tuple[float, float], lo: float, hi: float, *, pad: float = 0.0,
           floor_zero: bool = False) -> tuple[float, float] | None:
    """The new y range for data in [lo, hi] (shown with `pad` of margin), or None to keep `view`.

    The view is kept while it holds the data and they fill at least 1/Y_LOOSE of it. When they
    leave it, the edge they crossed moves past them by Y_ROOM of their span (a falling loss gets
    room below, a rising accuracy above) and the other edge stays; a view far too loose is
    fitted. `floor_zero`: data that are never negative get no room below 0."""
    a, b = view
    span = hi - lo
    if not span > 0:  # one value, or a constant curve (`pad` then gives the range its height)
        return None if a <= lo - pad and hi + pad <= b else (lo - pad, hi + pad)
    fitted = (lo - pad, hi + pad)
    if a <= lo and hi <= b:
        return None if b - a <= Y_LOOSE * (fitted[1] - fitted[0]) else fitted
    room = Y_ROOM * span
    new_lo = a if lo >= a else lo - pad - room
    new_hi = b if hi <= b else hi + pad + room
    if new_hi - new_lo > Y_LOOSE * (fitted[1] - fitted[0]):
        new_lo, new_hi = (fitted[0] - room if lo < a else fitted[0]), (fitted[1] + room if hi > b else fitted[1])
    if floor_zero and new_lo < 0 <= lo:
        new_lo = max(new_lo, min(0.0, lo - pad))
    return new_lo, new_hi


class SteppedViewBox(pg.ViewBox):
    """A ViewBox whose y auto-range moves in steps (`step_y`) instead of following every new
    point. Auto-range is on and off as in pyqtgraph (a person's zoom turns it off); turning it on
    (`enableAutoRange`, a new log mode) or `refit()` fits the data tightly once."""

    def __init__(self, *args, **kwargs):
        self._refit = True
        super().__init__(*args, **kwargs)

    def refit(self) -> None:
        """Fit y tightly to the data at the next auto-range (a new run, other overlays)."""
        self._refit = True
        self._autoRangeNeedsUpdate = True
        self.update()

    def enableAutoRange(self, axis=None, enable=True, x=None, y=None):  # noqa: N802 (pyqtgraph name)
        if x is None and y is None and enable is not False and axis in (None, self.YAxis, self.XYAxes, "y", "xy"):
            self._refit = True
        super().enableAutoRange(axis, enable, x, y)

    def updateAutoRange(self):  # noqa: N802 (pyqtgraph name)
        x_auto, y_auto = self.state["autoRange"]
        if x_auto is not False or y_auto is False or self._updatingRange:
            super().updateAutoRange()  # (x auto-range: pyqtgraph's own, unchanged)
            return
        self._updatingRange = True  # (items that change size with the view must not recurse)
        try:
            x_view = list(self.viewRange()[0]) if self.state["autoVisibleOnly"][1] else None
            fraction = 1.0 if y_auto is True else float(y_auto)
            with warnings.catch_warnings():  # (a curve of nothing but nan: numpy's "All-NaN slice")
                warnings.simplefilter("ignore", RuntimeWarning)
                bounds = self.childrenBounds(frac=[1.0, fraction], orthoRange=[None, x_view])[1]
            if bounds is None or not (np.isfinite(bounds[0]) and np.isfinite(bounds[1])):
                return
            lo, hi = float(bounds[0]), float(bounds[1])
            # a constant curve has no span to pad: +-5 % of its value (pyqtgraph widens a zero
            # range by +-0.5 whatever the value: a flat loss of 0.001 in a view 1000 times its size)
            pad = (hi - lo) * self.suggestPadding(1) if hi > lo else (0.05 * abs(hi) or 0.5)
            if self._refit:
                new = (lo - pad, hi + pad)
            else:
                log = bool(self.state["logMode"][1])
                new = step_y(tuple(self.viewRange()[1]), lo, hi, pad=pad, floor_zero=not log and lo >= 0)
            self._refit = False
            if new is not None:
                self.setRange(yRange=new, padding=0.0, disableAutoRange=False)
        finally:
            self._autoRangeNeedsUpdate = False
            self._updatingRange = False


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
        self.enableAutoSIPrefix(False)  # (its label would be set again with every new range)

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
