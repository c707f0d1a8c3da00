"""A small plot of the planned learning rate per epoch (the training panel's schedule preview).

While a curve is being worked out (`show_pending`) it says so instead of showing the last one;
the y axis starts at 0 in linear scale (a constant rate is a line near the top, not a line in
the middle of a made-up "−0.4 … 0.4" axis) and labels whole decades in log scale.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .palette import PlotColors, style_axes
from .readable_axis import ReadableAxis
from .view_range import XAxis, lr_y_range

HEIGHT = 120
PENDING_TEXT = "working out the schedule…"
ERROR_COLOR = "#c0392b"


class LrPreview(QWidget):
    """`set_curve(values)`: the learning rate at epochs 1..n. Log-y when they span > 1 decade."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedHeight(HEIGHT)
        epochs_axis = XAxis("bottom")
        epochs_axis.set_integer(True)  # epochs are whole: no "1.2, 1.4" between them
        self.plot_widget = pg.PlotWidget(axisItems={"left": ReadableAxis("left"), "bottom": epochs_axis})
        self.plot = self.plot_widget.getPlotItem()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setLabel("bottom", "epoch")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.getAxis("left").setWidth(48)
        self.plot.setContentsMargins(0, 0, 4, 0)
        self.curve = pg.PlotDataItem(connect="finite")
        self.plot.addItem(self.curve)
        self.pending_text = pg.TextItem(PENDING_TEXT, anchor=(0.5, 0.5))
        self.pending_text.setParentItem(self.plot.vb)  # in pixels of the view, not data units
        self.pending_text.setVisible(False)
        self.plot.vb.sigResized.connect(self._place_pending_text)
        self._pending = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)
        self._values = np.empty(0)
        self._apply_colors()

    @property
    def values(self) -> np.ndarray:
        return self._values.copy()

    @property
    def log_y(self) -> bool:
        return bool(self.plot.getAxis("left").logMode)

    @property
    def pending(self) -> bool:
        """A new curve is being worked out: nothing (stale) is drawn meanwhile."""
        return self._pending

    def show_pending(self, epochs: int | None = None) -> None:
        """Say the curve is being worked out, and hide the old one (it would be wrong); the
        epoch axis shows the planned `epochs` already."""
        self._pending = True
        if epochs:
            self.plot.setXRange(1, max(2, epochs), padding=0.02)
        self._values = np.empty(0)
        self.curve.setData([], [])
        self.plot.getAxis("left").setStyle(showValues=False)
        self.pending_text.setVisible(True)
        self._place_pending_text()

    def show_error(self, message: str) -> None:
        """The schedule cannot be previewed: say why where the curve would be."""
        self.show_pending()
        self._pending = False
        self.pending_text.setText(message)
        self.pending_text.setColor(ERROR_COLOR)
        self._place_pending_text()
        self.setToolTip(message)

    def set_curve(self, values: Sequence[float]) -> None:
        v = np.asarray(list(values), dtype=np.float64).reshape(-1)
        self._values = v
        self._pending = False
        self.pending_text.setVisible(False)
        self.pending_text.setText(PENDING_TEXT)
        self._apply_colors()
        self.setToolTip("")
        self.plot.getAxis("left").setStyle(showValues=True)
        positive = v[np.isfinite(v) & (v > 0)]
        log = positive.size > 0 and positive.max() > 10 * positive.min()
        self.plot.setLogMode(x=False, y=bool(log))
        if v.size == 0:
            self.curve.setData([], [])
            return
        epochs = np.arange(1, v.size + 1, dtype=np.float64)
        # A single epoch is a dot, not an invisible zero-length line.
        self.curve.setData(epochs, v, symbol="o" if v.size <= 1 else None, symbolSize=5,
                           symbolPen=None, symbolBrush=self._colors.role("lr"))
        self.plot.enableAutoRange(x=True, y=False)
        if positive.size:
            y0, y1, padding = lr_y_range(float(positive.min()), float(positive.max()), bool(log))
            self.plot.setYRange(y0, y1, padding=padding)

    def _place_pending_text(self, *_args) -> None:
        rect = self.plot.vb.boundingRect()
        self.pending_text.setPos(rect.center())

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()

    def _apply_colors(self) -> None:
        self._colors = colors = PlotColors(self.palette())
        colors.apply_global()
        self.plot_widget.setBackground(colors.background)
        style_axes(self.plot, colors)
        self.curve.setPen(pg.mkPen(colors.role("lr"), width=2))
        self.curve.setSymbolBrush(colors.role("lr"))
        self.pending_text.setColor(colors.faint(colors.foreground, 160))
