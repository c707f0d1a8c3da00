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
    """The health monitor's alerts: one dotted line per alert on the loss panel with a short
    numbered tag at the top ("1", "2", ...); the alert in words is the tooltip of the tag and of
    the line, and `texts()` lists them. `layout()` stacks the tags of alerts close together in
    rows so none covers another; a tag with no free row is hidden (its line and tooltip stay)."""

    role, width, style = "alert", 1.5, Qt.PenStyle.DotLine
    ROWS = 3  # rows of tags at the top of the panel
    GAP_PX = 3.0  # the least room between two tags in a row

    def __init__(self, plots: Sequence[pg.PlotItem]):
        super().__init__(plots)
        self._texts: list[str] = []

    def add(self, coords: dict[str, float], text: str, x_mode: str, message: str = "") -> None:
        number = len(self.items) + 1
        tip = f"Alert {number}: {message or text}"
        lines = []
        for plot in self.plots:
            line = pg.InfiniteLine(pos=coords[x_mode], angle=90, movable=False, label=str(number),
                                   labelOpts={"position": 0.95, "rotateAxis": None,
                                              "anchors": [(0.5, 0.5), (0.5, 0.5)]})
            line.setZValue(6)
            line.setToolTip(tip)
            line.label.setToolTip(tip)
            plot.addItem(line, ignoreBounds=True)
            lines.append(line)
        self.items.append((coords, lines))
        self._texts.append(f"{number}: {text}")
        if self._colors is not None:
            self._color(lines)
        self.layout()

    def texts(self) -> list[str]:
        """'1: exploding gradients', one per alert, as the tags number them."""
        return list(self._texts)

    def clear(self) -> None:
        super().clear()
        self._texts.clear()

    def set_x_mode(self, mode: str) -> None:
        super().set_x_mode(mode)
        self.layout()

    def layout(self) -> None:
        """Put each tag, left to right, in the highest row where it covers no other tag."""
        for i, plot in enumerate(self.plots):
            vb = plot.vb
            height = vb.height()
            if height <= 0:
                continue
            row_ends = [-float("inf")] * self.ROWS  # right edge (scene pixels) of each row's last tag
            for line in sorted((lines[i] for _, lines in self.items), key=lambda ln: ln.value()):
                label = line.label
                size = label.textItem.boundingRect()
                center = vb.mapViewToScene(pg.Point(line.value(), 0)).x()
                left, right = center - size.width() / 2, center + size.width() / 2
                row = next((r for r, end in enumerate(row_ends) if left >= end + self.GAP_PX), None)
                if row is None:
                    label.setVisible(False)
                    continue
                row_ends[row] = right
                label.setPosition(max(1.0 - (2.0 + (row + 0.5) * size.height()) / height, 0.0))
                if not label.isVisible():
                    label.setVisible(True)


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
