"""Each hyperparameter against the metric: a grid of small scatters, points coloured like the
parallel coordinates (best = bright), linked to the shared `TrialSelection`."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workbench.gui.selection import TrialSelection

from .palette import PlotColors, style_axes
from .trial_axes import (TrialDataView, AxisSpec, MetricScale, ScaledAxis, faint_color, infer_axes, is_ok, metric_colormap,
                         plain_numbers)

POINT_SIZE = 8
JITTER = 0.06  # categorical axes: spread points sideways so equal values stay visible


class ParamScatter(TrialDataView, QWidget):
    """A grid of parameter-vs-metric scatters.

    Same data as `ParallelCoordinates`: `set_data(trials, metric=..., direction=...)` and
    optionally `set_axes([AxisSpec, ...])` (log axes for log-distributed parameters). Click a
    point: select its trial (Ctrl+click adds); selected points are outlined in every cell.
    """

    def __init__(self, selection: TrialSelection, parent: QWidget | None = None):
        super().__init__(parent)
        self.selection = selection
        self._trials: list[dict] = []
        self._axis_specs: list[AxisSpec] | None = None
        self._metric = "metric"
        self._direction = "minimize"
        self._cells: dict[str, _Cell] = {}

        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("paramScatterView")
        self.view.ci.setSpacing(6)
        self.message = QLabel("No trials yet")
        self.message.setObjectName("paramScatterMessage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        self.message.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        self.view.viewport().installEventFilter(self)
        selection.selection_changed.connect(self._draw_marks)
        selection.hover_changed.connect(self._draw_marks)
        self._apply_colors()

    @property
    def parameter_names(self) -> list[str]:
        return list(self._cells)

    def cell(self, name: str) -> _Cell:
        return self._cells[name]

    def selected_points(self, name: str) -> list[tuple[float, float]]:
        """The outlined (selected) points of one parameter's scatter, as (x, y) in plot coordinates."""
        x, y = self._cells[name].selected.getData()
        return list(zip(np.asarray(x).tolist(), np.asarray(y).tolist()))

    def point_color(self, name: str, trial_id) -> QColor:
        cell = self._cells[name]
        return QColor(cell.brushes[cell.ids.index(trial_id)].color())

    # -- building ----------------------------------------------------------------------------
    def _rebuild(self) -> None:
        self.view.clear()
        self._cells = {}
        trials = [t for t in self._trials if t.get("value") is not None and math.isfinite(t["value"])]
        specs = self._axis_specs if self._axis_specs is not None else infer_axes(self._trials)
        if not trials or not specs:
            self.message.setText("No finished trials yet" if specs else "No parameters to show")
            self.message.setVisible(True)
            return
        self.message.setVisible(False)
        colors = self._colors
        scale = MetricScale([t["value"] if is_ok(t) else None for t in trials], self._direction)
        t_color = scale.t([t["value"] if is_ok(t) else None for t in trials])
        grey = faint_color(colors.foreground, 110)
        brushes = [pg.mkBrush(grey if np.isnan(tc) else self._cmap.map(float(tc), mode="qcolor"))
                   for tc in t_color]
        n_cols = max(1, math.ceil(math.sqrt(len(specs))))
        for k, spec in enumerate(specs):
            values = [t.get("params", {}).get(spec.name) for t in self._trials]
            axis = ScaledAxis(spec, values)
            x = axis.positions([t.get("params", {}).get(spec.name) for t in trials])
            if axis.kind == "categorical":
                # Deterministic jitter: the same trial sits at the same place after every redraw.
                ids = np.array([zlib.crc32(repr(t["id"]).encode()) % 1000 for t in trials], dtype=float)
                x = x + (ids / 999.0 - 0.5) * 2 * JITTER / max(len(axis.categories) - 1, 1)
            plot = self.view.addPlot(row=k // n_cols, col=k % n_cols)
            cell = _Cell(self, plot, spec, axis, trials, x, brushes, colors)
            if k % n_cols == 0:
                plot.setLabel("left", self._metric)
            self._cells[spec.name] = cell
            style_axes(plot, colors)
            for name in ("left", "bottom"):
                plain_numbers(plot.getAxis(name))
        self._draw_marks()

    def _draw_marks(self, *_args) -> None:
        for cell in self._cells.values():
            cell.draw_marks(self.selection.selected_ids, self.selection.hovered_id)

    def _clicked(self, trial_id, event) -> None:
        from PySide6.QtCore import Qt

        toggle = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier) if event else False
        self.selection.select(trial_id, toggle=toggle)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Leave and any(self.selection.hovered_id in c.ids for c in self._cells.values()):
            self.selection.set_hovered(None)
        return super().eventFilter(obj, event)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()

    def _apply_colors(self) -> None:
        self._colors = PlotColors(self.palette())
        self._cmap = metric_colormap(self._colors.dark)
        self.view.setBackground(self._colors.background)
        self._rebuild()


class _Cell:
    """One parameter's scatter: the points, and overlays for the selected and hovered trials."""

    def __init__(self, owner: ParamScatter, plot: pg.PlotItem, spec: AxisSpec, axis: ScaledAxis,
                 trials: list[dict], x: np.ndarray, brushes: list, colors: PlotColors):
        self.plot, self.spec, self.axis = plot, spec, axis
        keep = ~np.isnan(x)
        self.ids = [t["id"] for t, k in zip(trials, keep) if k]
        self.x = x[keep]
        self.y = np.array([t["value"] for t, k in zip(trials, keep) if k], dtype=float)
        self.brushes = [b for b, k in zip(brushes, keep) if k]
        plot.setTitle(spec.title, size="9pt", color=colors.foreground.name())
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.showGrid(x=False, y=True, alpha=0.15)
        self.points = pg.ScatterPlotItem(x=self.x, y=self.y, data=self.ids, brush=self.brushes,
                                         pen=pg.mkPen(colors.background, width=0.5), size=POINT_SIZE,
                                         hoverable=True)
        self.selected = pg.ScatterPlotItem(pen=pg.mkPen(colors.foreground, width=2.2), brush=None,
                                           size=POINT_SIZE + 6)
        self.hovered = pg.ScatterPlotItem(pen=pg.mkPen(colors.role("val"), width=2.2), brush=None,
                                          size=POINT_SIZE + 6)
        for z, item in enumerate((self.points, self.selected, self.hovered)):
            item.setZValue(z)
            plot.addItem(item)
        self.points.sigClicked.connect(lambda _item, pts, ev: owner._clicked(pts[0].data(), ev) if len(pts) else None)
        self.points.sigHovered.connect(
            lambda _item, pts, _ev: owner.selection.set_hovered(pts[0].data() if len(pts) else None))
        ticks = axis.ticks()
        plot.getAxis("bottom").setTicks([ticks, []])
        pad = 0.08 if axis.kind != "categorical" else 0.15
        plot.setXRange(-pad, 1 + pad, padding=0)
        if len(self.y):
            lo, hi = float(self.y.min()), float(self.y.max())
            span = hi - lo or abs(hi) or 1.0
            plot.setYRange(lo - 0.08 * span, hi + 0.08 * span, padding=0)

    def draw_marks(self, selected: set, hovered) -> None:
        rows = [i for i, tid in enumerate(self.ids) if tid in selected]
        self.selected.setData(x=self.x[rows], y=self.y[rows])
        hov = [i for i, tid in enumerate(self.ids) if tid == hovered]
        self.hovered.setData(x=self.x[hov], y=self.y[hov])
