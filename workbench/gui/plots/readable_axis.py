"""A y axis whose tick labels never pile up, in linear or log scale.

pyqtgraph picks ticks for a tall axis; on a short panel (the 60-px learning-rate strip) its
labels overlap, and in log mode it labels every 2…9 × 10^k between decades, which turns into a
smear of digits as soon as a live LR change makes the axis logarithmic. This axis chooses one
level of round values (1-2-5 steps; in log scale whole decades, then 1-2-5 or 1-3 within a
decade) with at most as many labels as fit, at least two where the range allows, and writes them
as a person would ("0.0003", "1e-5"; never the same label twice).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

LABEL_GAP = 2.2  # a label's height times this is the least room between two labels


class PlainAxis(pg.AxisItem):
    """An axis that writes its ticks as a person would (`tick_text`: "0.0003", "250", never "-0")
    and never scales them into a "(x0.001)" label."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph name)
        if self.logMode:
            return [tick_text(10.0 ** (v * scale)) for v in values]
        return [tick_text(v * scale, spacing * scale if spacing else None) for v in values]


class ReadableAxis(PlainAxis):
    """A left/right axis with one level of labelled ticks that fits its length.

    `clear_bottom`: for a panel stacked above another, no label within half a label's height of
    the bottom edge, where it would run into the top label of the panel below."""

    def __init__(self, *args, clear_bottom: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.clear_bottom = clear_bottom

    def _label_height(self) -> float:
        return QFontMetricsF(self.style.get("tickFont") or self.font()).height()

    def label_slots(self, size: float) -> int:
        """How many labels fit along `size` pixels."""
        return max(2, int(size / (self._label_height() * LABEL_GAP)))

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph names)
        lo, hi = sorted((float(minVal), float(maxVal)))
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
            return super().tickValues(minVal, maxVal, size)
        slots = self.label_slots(size)
        if self.logMode:
            step, values = None, log_ticks(lo, hi, slots)
        else:
            step, values = linear_ticks(lo, hi, slots)
        if self.clear_bottom and size > 0:
            margin = (hi - lo) * (self._label_height() / 2) / size
            values = [v for v in values if v - lo >= margin]
        return [(step, values)]


def tick_text(value: float, step: float | None = None) -> str:
    """'0.0003', '0.01', '1e-5', '250', '2000'; with the step of a linear axis, no more digits than it
    needs ('0.2' not '0.2000000001'), and '0' for a value that is zero up to rounding."""
    if step and abs(value) < step * 1e-6:
        return "0"
    if value == 0:
        return "0"
    if 1000 <= abs(value) < 1e6 and float(value).is_integer():
        return f"{value:.0f}"  # a step or a count: "2000", as the x axes write it, not "2e3"
    text = f"{value:.3g}"
    if "e" in text:  # 1e-5 rather than 1e-05
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def linear_ticks(lo: float, hi: float, slots: int) -> tuple[float, list[float]]:
    """The finest 1-2-5 step with at most `slots` ticks in [lo, hi], and those ticks."""
    span = hi - lo
    exponent = math.floor(math.log10(span / max(slots, 1)))
    for k in range(exponent, exponent + 3):
        for m in (1, 2, 5):
            step = m * 10.0 ** k
            first = math.ceil(lo / step - 1e-9) * step
            values = [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]
            if len(values) <= slots:
                return step, [0.0 if abs(v) < step * 1e-9 else v for v in values]
    return span, [lo, hi]


def log_ticks(lo: float, hi: float, slots: int) -> list[float]:
    """Tick positions in log10 units for a log axis over [lo, hi] (log10 units too): every
    decade (or every 2nd, 3rd … when they do not fit); within fewer decades, 1-2-5 or 1-3 of
    each decade; within less than a factor of 3, round values of the linear scale."""
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    decades = list(range(first, last + 1))
    if len(decades) >= 2:
        every = max(1, math.ceil(len(decades) / slots))
        return [float(d) for d in decades[::-1][::every][::-1]]  # the top decade (the rate set) always
    best: list[float] = []
    for multiples in ((1, 2, 5), (1, 3), (1,)):
        values = [math.log10(m) + d for d in range(math.floor(lo), math.ceil(hi) + 1) for m in multiples]
        values = [v for v in values if lo - 1e-9 <= v <= hi + 1e-9]
        if len(values) <= slots and len(values) >= 2:
            return values
        if len(values) <= slots and len(values) > len(best):
            best = values
    # a narrow range: round linear values, placed on the log scale
    _, linear = linear_ticks(10.0 ** lo, 10.0 ** hi, slots)
    linear_values = [float(np.log10(v)) for v in linear if v > 0]
    return linear_values if len(linear_values) >= len(best) else best
