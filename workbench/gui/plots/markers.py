"""Marks on the live curves: a dashed line on every panel where the learning rate was changed
during the run, the health monitor's alerts on the loss panel, and the shaded overfitting
region (from the best epoch on) on the loss panel."""

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

    role, width, style = "marker", 1.0, Qt.PenStyle.DashLine  # the pen of the lines

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
        color = colors.role(self.role)
        for line in lines:
            line.setPen(pg.mkPen(color, width=self.width, style=self.style))
            if getattr(line, "label", None) is not None:
                line.label.setColor(color)
                line.label.fill = pg.mkBrush(colors.legend_brush())


class AlertMarkers(LrMarkers):
    """The health monitor's alerts: a dotted line on the loss panel with a short label at the
    top ("dead units (2 ReLU)"); the full message is the line's tooltip."""

    role, width, style = "alert", 1.5, Qt.PenStyle.DotLine

    def add(self, coords: dict[str, float], text: str, x_mode: str, message: str = "") -> None:
        lines = []
        for plot in self.plots:
            line = pg.InfiniteLine(pos=coords[x_mode], angle=90, movable=False, label=text,
                                   labelOpts={"position": 0.92, "rotateAxis": None})
            line.setZValue(6)
            line.setToolTip(message or text)
            plot.addItem(line, ignoreBounds=True)
            lines.append(line)
        self.items.append((coords, lines))
        if self._colors is not None:
            self._color(lines)


class OverfitMark:
    """A faint region from the best epoch (lowest validation loss) to the last epoch, with a
    dashed line at the best epoch saying since when validation loss has stayed up."""

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
        if self._shown is None:
            return
        self.region.setVisible(False)
        self.line.setVisible(False)
        self.line.label.setFormat("")
        self._shown = None

    def show(self, since: int, best: int, epochs: np.ndarray, xs: np.ndarray) -> None:
        """Mark overfitting since epoch `since`, the best epoch being `best`; epochs/xs: the
        epoch rows and their x positions."""
        i = min(int(np.searchsorted(epochs, best)), len(xs) - 1)
        start, end = float(xs[i]), float(xs[-1])
        if self._shown == (since, best, start, end):
            return
        self._shown = (since, best, start, end)
        self.region.setRegion((start, end))
        self.line.setValue(start)
        self.region.setVisible(True)
        self.line.setVisible(True)
        text = f"best epoch {best} · overfitting since {since}"
        if self.line.label.format != text:  # (a hidden label ignores new text)
            self.line.label.setFormat(text)
        self.line.setToolTip(f"The validation loss was lowest at epoch {best} and has stayed clearly above it "
                             f"since epoch {since} (judged on smoothed curves) while the training loss kept "
                             "falling: keep the weights of epoch " + str(best) + " (early stopping with "
                             "restore best).")

    def set_colors(self, colors: PlotColors) -> None:
        over = colors.role("overfit")
        self.region.setBrush(colors.faint(over, 35))
        for line in self.region.lines:
            line.setPen(pg.mkPen(None))
        self.line.setPen(pg.mkPen(colors.role("best"), width=1.5, style=Qt.PenStyle.DashLine))
        self.line.label.setColor(over)
        self.line.label.fill = pg.mkBrush(colors.legend_brush())
