"""A small plot of the planned learning rate per epoch (the training panel's schedule preview)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .palette import PlotColors, style_axes

HEIGHT = 120


class LrPreview(QWidget):
    """`set_curve(values)`: the learning rate at epochs 1..n. Log-y when they span > 1 decade."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedHeight(HEIGHT)
        self.plot_widget = pg.PlotWidget()
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

    def set_curve(self, values: Sequence[float]) -> None:
        v = np.asarray(list(values), dtype=np.float64).reshape(-1)
        self._values = v
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
        self.plot.enableAutoRange()

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
