"""Marks on the live curves: a dashed line on every panel where the learning rate was changed
during the run, and the shaded "overfitting from epoch N" region on the loss panel."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from .palette import PlotColors

_LABEL_MID = {"anchors": [(0, 0.5), (0, 0.5)]}


class LrMarkers:
    """Vertical lines with the new rate written on the last (learning-rate) panel's line, at
    mid-height: between the old and the new rate, so neither the curve nor the loss legend
    (top right of the first panel) covers it. The label keeps to the side of the line that is
    inside the view."""

    def __init__(self, plots: Sequence[pg.PlotItem]):
        self.plots = tuple(plots)
        self.items: list[tuple[dict[str, float], list[pg.InfiniteLine]]] = []  # (x per mode, lines)
        self._colors: PlotColors | None = None

    def add(self, coords: dict[str, float], text: str, x_mode: str) -> None:
        lines = []
        for i, plot in enumerate(self.plots):
            labelled = i == len(self.plots) - 1
            line = pg.InfiniteLine(pos=coords[x_mode], angle=90, movable=False,
                                   label=text if labelled else None,
                                   labelOpts={"position": 0.5})
            line.setZValue(5)
            plot.addItem(line, ignoreBounds=True)
            lines.append(line)
        self.items.append((coords, lines))
        if self._colors is not None:
            self._color(lines)

    def labels(self) -> list[str]:
        """The texts a person reads, one per change."""
        return [line.label.toPlainText() for _, lines in self.items for line in lines
                if getattr(line, "label", None) is not None]

    def clear(self) -> None:
        for _, lines in self.items:
            for plot, line in zip(self.plots, lines):
                plot.removeItem(line)
        self.items.clear()

    def set_x_mode(self, mode: str) -> None:
        for coords, lines in self.items:
            for line in lines:
                line.setValue(coords[mode])

    def set_colors(self, colors: PlotColors) -> None:
        self._colors = colors
        for _, lines in self.items:
            self._color(lines)

    def _color(self, lines: list[pg.InfiniteLine]) -> None:
        colors = self._colors
        color = colors.role("marker")
        for line in lines:
            line.setPen(pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine))
            if getattr(line, "label", None) is not None:
                line.label.setColor(color)
                line.label.fill = pg.mkBrush(colors.legend_brush())


class OverfitMark:
    """A faint region from the turn (the last epoch before validation loss rose) to the last
    epoch, with a dashed line and its label at the turn."""

    def __init__(self, plot: pg.PlotItem):
        self.region = pg.LinearRegionItem(movable=False)
        self.region.setZValue(-5)
        self.line = pg.InfiniteLine(angle=90, movable=False, label="",
                                    labelOpts={"position": 0.6, **_LABEL_MID})
        for item in (self.region, self.line):
            item.setVisible(False)
            plot.addItem(item, ignoreBounds=True)
        self._shown: tuple | None = None

    def hide(self) -> None:
        self.region.setVisible(False)
        self.line.setVisible(False)
        self.line.label.setFormat("")
        self._shown = None

    def show(self, epoch: int, epochs: np.ndarray, xs: np.ndarray) -> None:
        """Mark overfitting from `epoch`; epochs/xs: the epoch rows and their x positions."""
        i = int(np.searchsorted(epochs, epoch))
        start, end = float(xs[max(i - 1, 0)]), float(xs[-1])
        if self._shown == (epoch, start, end):
            return
        self._shown = (epoch, start, end)
        self.region.setRegion((start, end))
        self.line.setValue(start)
        self.region.setVisible(True)
        self.line.setVisible(True)
        text = f"overfitting from epoch {epoch}"
        if self.line.label.format != text:  # (a hidden label ignores new text)
            self.line.label.setFormat(text)

    def set_colors(self, colors: PlotColors) -> None:
        over = colors.role("overfit")
        self.region.setBrush(colors.faint(over, 35))
        for line in self.region.lines:
            line.setPen(pg.mkPen(None))
        self.line.setPen(pg.mkPen(over, width=1, style=Qt.PenStyle.DashLine))
        self.line.label.setColor(over)
        self.line.label.fill = pg.mkBrush(colors.legend_brush())
