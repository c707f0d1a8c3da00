"""A vertical line through every panel at the mouse's x, and a readout of the values there (the
readout is a QLabel below the plots, so nothing is drawn over the curves). When the line goes
away, `on_hide` lets the owner put its own text (the latest values) back."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QLabel

from .image_menu import mark_transient


def fmt(v: float | None) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.4g}"


class Crosshair:
    def __init__(self, plots: Sequence[pg.PlotItem], readout: QLabel,
                 describe: Callable[[float], str], on_hide: Callable[[], None] | None = None):
        self.plots = tuple(plots)
        self.readout = readout
        self._describe = describe  # x -> the readout text
        self._on_hide = on_hide
        self.active = False  # the line is shown and the readout describes it
        self.lines: list[pg.InfiniteLine] = []
        for plot in self.plots:
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setVisible(False)
            line.setZValue(10)
            mark_transient(line)  # not in a copied or saved image
            plot.addItem(line, ignoreBounds=True)
            self.lines.append(line)

    def on_mouse_moved(self, pos: QPointF) -> None:
        plot = next((p for p in self.plots if p.vb.sceneBoundingRect().contains(pos)), None)
        if plot is None:
            self.hide()
            return
        self.show_at(plot.vb.mapSceneToView(pos).x())

    def show_at(self, x: float) -> None:
        self.active = True
        for line in self.lines:
            line.setValue(x)
            line.setVisible(True)
        self.readout.setText(self._describe(x))

    def hide(self) -> None:
        was_active, self.active = self.active, False
        for line in self.lines:
            line.setVisible(False)
        if was_active and self._on_hide is not None:
            self._on_hide()

    def set_color(self, color) -> None:
        for line in self.lines:
            line.setPen(pg.mkPen(color, width=1, style=Qt.PenStyle.DotLine))
