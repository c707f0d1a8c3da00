"""One plotted quantity of a live run: a faint raw curve with its smoothed curve on top.

The two PlotDataItems are created once. `refresh` hands them, for the visible x range only,
either the points themselves (short curves, or a view zoomed in far enough) or their min/max
per bucket of about one pixel column, read from a `PeakPyramid` that is kept up to date as
points append. The smoothed values are kept too (the EMA carries its state), so a live frame
costs O(new points + pixels), not O(all points). pyqtgraph's own downsampling, clip-to-view and
finite scan are off: they redo O(n) work on every setData.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from .buffers import RowBuffer
from .decimate import MonotonicCheck, PeakPyramid, visible_slice
from .smoothing import Ema

# Epoch-level curves show dots while they are short (a lone point is visible). Dots cost more
# than the line (a scatter item: bounds, masks, pixmap fragments): past a few dozen they only
# thicken it, and four dotted 200-point curves made the window's paint ~1.5x slower. Four
# dotted curves of 30-60 points still doubled a live frame (paint ~12 ms against ~6 ms, redraw
# ~3.4 ms against ~1.7 ms), while 30 points across a plot are far enough apart to read as points.
SYMBOLS_UP_TO = 30
# Qt's raster engine strokes a 2 px pen ~10x slower than a 1 px (cosmetic, unstroked) one: a
# noisy curve of ~1600 min/max vertices took ~35 ms at 2 px and ~1 ms at 1 px
# (benchmarks/plot_redraw.py). Long curves therefore draw at 1 px.
WIDE_UP_TO = 1000
# Up to this many points a curve gets all of them whatever the view (cheap, and exact).
RAW_UP_TO = 4000


def make_curve(plot: pg.PlotItem, name: str | None = None, **opts) -> pg.PlotDataItem:
    item = pg.PlotDataItem(name=name, connect="all", skipFiniteCheck=True, **opts)
    plot.addItem(item)
    # After addItem: PlotItem.addItem imposes the PlotItem's own settings on the item. We
    # decimate and clip ourselves (see the module doc).
    item.setDownsampling(auto=False, ds=1)
    item.setClipToView(False)
    # The dynamic range limit (a workaround for extreme zoom) scans the whole dataset for its
    # bounds on every update.
    item.setDynamicRangeLimit(None)
    return item


class Series:
    def __init__(self, plot: pg.PlotItem, buffer: RowBuffer, column: str, name: str,
                 role: str, *, smoothable: bool = True, symbols: bool = False, width: int = 2):
        self.plot = plot
        self.buffer = buffer
        self.column = column
        self.name = name
        self.role = role
        self.smoothable = smoothable
        self.symbols = symbols
        self.raw = make_curve(plot)  # unnamed: not in the legend
        self.curve = make_curve(plot, name=name)
        self.raw.setZValue(1)
        self.curve.setZValue(2)
        self._ema = Ema(0.0)
        self._smoothed = RowBuffer(("y",))
        self._raw_peaks = PeakPyramid()
        self._smooth_peaks = PeakPyramid()
        self._monotonic: dict[str, MonotonicCheck] = {}
        self._drawn: tuple | None = None  # what the last refresh drew (None: force)
        self._has_symbols = False
        self.width = width
        self._thin = False
        self._color = self._faint = QColor()

    # -- state ---------------------------------------------------------------------------------
    @property
    def weight(self) -> float:
        return self._ema.weight if self.smoothable else 0.0

    def set_weight(self, weight: float) -> None:
        if not self.smoothable or weight == self._ema.weight:
            return
        self._ema = Ema(weight)
        self._smoothed.clear()
        self._smooth_peaks.clear()
        self._drawn = None

    def reset(self) -> None:
        self._ema.reset()
        self._smoothed.clear()
        self._raw_peaks.clear()
        self._smooth_peaks.clear()
        for check in self._monotonic.values():
            check.clear()
        self._drawn = None

    def invalidate(self) -> None:
        self._drawn = None

    def set_color(self, color: QColor, faint: QColor) -> None:
        self._color, self._faint = QColor(color), QColor(faint)
        self.curve.setPen(pg.mkPen(color, width=1 if self._thin else self.width))
        self.raw.setPen(pg.mkPen(faint, width=1))
        if self._has_symbols:
            self.curve.setSymbolBrush(color)

    # -- data ----------------------------------------------------------------------------------
    def values(self) -> np.ndarray:
        """What the smoothed curve shows (raw values when smoothing is off)."""
        self._sync()
        if self.weight == 0.0:
            return self.buffer.column(self.column)
        return self._smoothed.column("y")

    def _sync(self) -> None:
        if self.weight == 0.0:
            return
        done, n = len(self._smoothed), len(self.buffer)
        if n > done:
            new = self.buffer.column(self.column)[done:n]
            self._smoothed.extend(self._ema.update(new)[:, None])

    def refresh(self, x_column: str, log_y: bool, view: tuple[float, float] | None = None,
                pixels: int = 1000) -> bool:
        """Push what is visible in `view` (x range; None: everything) to the curves, about two
        points per pixel column at most. Returns whether anything was set."""
        n = len(self.buffer)
        smooth = self.weight != 0.0
        x = self.buffer.column(x_column)
        clip = n > RAW_UP_TO and view is not None and self._x_increasing(x_column, x)
        key = (n, x_column, log_y, smooth, view if clip else None, pixels if clip else None)
        if key == self._drawn:
            return False
        self._drawn = key
        if n == 0:
            self.raw.setData([], [])
            self.curve.setData([], [])
            return True
        raw_y = self.buffer.column(self.column)
        # Gaps for nan (and for values <= 0 under log-y); the finite check is skipped while
        # the columns are known to be finite.
        nonfinite = log_y or self.buffer.has_nonfinite(x_column) or self.buffer.has_nonfinite(
            self.column)
        # (pyqtgraph re-applies style options on every setData anyway, so passing them is free.)
        kw = {"connect": "finite" if nonfinite else "all", "skipFiniteCheck": not nonfinite}
        if self.symbols:
            self._set_symbols(n <= SYMBOLS_UP_TO)
        if (n > WIDE_UP_TO) != self._thin:
            self._thin = n > WIDE_UP_TO
            self.set_color(self._color, self._faint)
        shown = self.values() if smooth else raw_y
        if clip:
            i0, i1 = visible_slice(x, *view)
            buckets = max(pixels, 50)
            self._raw_peaks.update(raw_y)
            if smooth:
                self._smooth_peaks.update(shown)
                self.raw.setData(*self._raw_peaks.decimate(x, raw_y, i0, i1, buckets), **kw)
                self.curve.setData(*self._smooth_peaks.decimate(x, shown, i0, i1, buckets), **kw)
            else:
                self.curve.setData(*self._raw_peaks.decimate(x, raw_y, i0, i1, buckets), **kw)
        elif smooth:
            self.raw.setData(x, raw_y, **kw)
            self.curve.setData(x, shown, **kw)
        else:
            self.curve.setData(x, raw_y, **kw)
        self.raw.setVisible(smooth)
        return True

    def _x_increasing(self, x_column: str, x: np.ndarray) -> bool:
        check = self._monotonic.get(x_column)
        if check is None:
            check = self._monotonic[x_column] = MonotonicCheck()
        return check.update(x)

    def _set_symbols(self, on: bool) -> None:
        if on == self._has_symbols:
            return
        self._has_symbols = on
        if on:
            pen = self.curve.opts["pen"]
            color = pg.mkPen(pen).color()
            self.curve.setSymbol("o")
            self.curve.setSymbolSize(5)
            self.curve.setSymbolPen(None)
            self.curve.setSymbolBrush(color)
        else:
            self.curve.setSymbol(None)

    def value_near(self, x_column: str, x: float, within: float | None = None, *,
                   smoothed: bool = False) -> float | None:
        """The value logged at the point nearest to x, or with `smoothed` what the smoothed curve
        shows there (None without points, or when the nearest is farther than `within` from x)."""
        n = len(self.buffer)
        if n == 0:
            return None
        xs = self.buffer.column(x_column)
        i = int(np.searchsorted(xs, x))
        if i >= n:
            i = n - 1
        elif i > 0 and abs(xs[i - 1] - x) <= abs(xs[i] - x):
            i -= 1
        if within is not None and not abs(xs[i] - x) <= within:
            return None
        return float((self.values() if smoothed else self.buffer.column(self.column))[i])
