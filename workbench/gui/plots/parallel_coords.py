"""Parallel coordinates of a sweep: one vertical axis per hyperparameter plus the metric, one
polyline per trial, coloured by its metric (best = bright).

All trials of one colour share one PlotDataItem (a `connect` array breaks the line between
trials), so a redraw costs a few items whatever the number of trials. Clicks pick the line
nearest to the mouse in screen pixels; the shared `TrialSelection` does the rest.
"""

from __future__ import annotations


import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QVBoxLayout, QWidget

from workbench.gui.selection import TrialSelection

from .empty_hint import add_empty_hint
from .palette import PlotColors
from .trial_axes import (TrialDataView, AxisSpec, MetricScale, ScaledAxis, faint_color, fmt_value, infer_axes, is_ok,
                         metric_colormap, plain_numbers, value_ticks)

UNFINISHED = ("running", "waiting")  # trial states with no final metric yet (not failures)
N_COLORS = 16          # metric colour bins (one curve item each)
PICK_PX = 8.0          # a click further than this from every line selects nothing
MISSING_Y = -0.1       # where a trial without a value for an axis crosses it
METRIC_AXIS = "__metric__"
AA_MAX_TRIALS = 300    # more lines than this are drawn without antialiasing


class _BrushViewBox(pg.ViewBox):
    """Vertical drags on an axis brush a range of it (the plot itself does not pan or zoom)."""

    def __init__(self, owner: ParallelCoordinates):
        super().__init__(enableMenu=False)
        self._owner = owner
        self._axis: int | None = None

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph name)
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        start = self.mapSceneToView(ev.buttonDownScenePos())
        here = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            self._axis = self._owner._axis_near(ev.buttonDownScenePos())
        if self._axis is None:
            return
        self._owner._brush_dragged(self._axis, start.y(), here.y(), ev.isFinish())


class ParallelCoordinates(TrialDataView, QWidget):
    """Parallel coordinates linked to a `TrialSelection`.

    `set_data(trials, metric=..., direction=...)`: trials are dicts {"id", "params": {path: value},
    "value": float | None, "status"}. `set_axes([AxisSpec, ...])` chooses the parameter axes,
    their order, scale (linear / log / categorical) and labels; without it axes are inferred.
    Click a line: select that trial (Ctrl+click adds); click empty space: clear; hover: highlight.
    Drag along an axis to brush a range: trials outside every brush turn grey and cannot be
    picked; `filter_changed(set)` reports the ids still shown; click an axis to drop its brush.
    """

    filter_changed = Signal(object)

    def __init__(self, selection: TrialSelection, parent: QWidget | None = None):
        super().__init__(parent)
        self.selection = selection
        self._trials: list[dict] = []
        self._ids: list = []
        self._axis_specs: list[AxisSpec] | None = None
        self._metric = "metric"
        self._direction = "minimize"
        self._y = np.zeros((0, 0))       # (trials, axes) positions in [0, 1] (MISSING_Y if absent)
        self._t = np.zeros(0)            # metric colour position per trial (NaN: grey)
        self._scaled: list[ScaledAxis] = []
        self._text_items: list[pg.TextItem] = []
        self._brushes: dict[str, tuple[float, float]] = {}  # axis name -> (lo, hi) in [0, 1]
        self._brush_items: dict[str, QGraphicsRectItem] = {}
        self._shown = np.zeros(0, dtype=bool)
        self.colour_bar_ticks: list[tuple[float, str]] = []  # (metric value, label) on the colour bar

        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("parallelCoordinatesView")
        self.view.ci.setContentsMargins(4, 8, 4, 4)
        self.plot: pg.PlotItem = self.view.addPlot(row=0, col=0, viewBox=_BrushViewBox(self))
        self.plot.hideAxis("left")
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.getViewBox().setDefaultPadding(0)
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap=metric_colormap(False), interactive=False,
                                   width=14, colorMapMenu=False)
        self.view.addItem(self.bar, row=0, col=1)

        self._axes_item = pg.PlotDataItem(connect="pairs")
        self._faint_item = pg.PlotDataItem()
        self._bin_items = [pg.PlotDataItem() for _ in range(N_COLORS)]
        self._outline_item = pg.PlotDataItem(antialias=True)
        self._selected_items = [pg.PlotDataItem(antialias=True) for _ in range(N_COLORS + 1)]
        self._hover_item = pg.PlotDataItem(antialias=True)
        z = 0
        for item in [self._axes_item, self._faint_item, *self._bin_items, self._outline_item,
                     *self._selected_items, self._hover_item]:
            item.setZValue(z)
            z += 1
            self.plot.addItem(item)

        self.empty_hint = add_empty_hint(self.view, "Each trial is drawn here as a line through its parameters "
                                         "and its result once it is under way.", "parallelCoordinatesEmpty")
        self.status = QLabel()
        self.status.setObjectName("parallelCoordinatesStatus")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(2)
        self.status.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)

        scene = self.view.scene()
        scene.sigMouseClicked.connect(self._on_click)
        scene.sigMouseMoved.connect(self._on_move)
        self.view.viewport().installEventFilter(self)
        selection.selection_changed.connect(self._draw_selection)
        selection.hover_changed.connect(self._draw_hover)
        self._apply_colors()

    # -- data --------------------------------------------------------------------------------
    @property
    def axis_names(self) -> list[str]:
        return [s.spec.name for s in self._scaled]

    def axis_ticks(self, name: str) -> list[tuple[float, str]]:
        """Tick (position in [0, 1], label) of one axis (tests and tooltips read it)."""
        return next(s.ticks() for s in self._scaled if s.spec.name == name)

    @property
    def brushes(self) -> dict[str, tuple[float, float]]:
        """Brushed ranges per axis name, as axis positions in [0, 1] (0 = bottom)."""
        return dict(self._brushes)

    def set_brush(self, axis_name: str, lo: float, hi: float) -> None:
        self._brushes[axis_name] = (min(lo, hi), max(lo, hi))
        self._apply_brushes()

    def clear_brushes(self) -> None:
        self._brushes.clear()
        self._apply_brushes()

    def visible_ids(self) -> set:
        """Trials inside every brush (all trials when nothing is brushed)."""
        return {tid for tid, shown in zip(self._ids, self._shown) if shown}

    def line_color(self, trial_id) -> QColor:
        """The colour a trial's line is drawn in."""
        i = self._ids.index(trial_id)
        if np.isnan(self._t[i]) or not self._shown[i]:
            return faint_color(self._colors.foreground)
        return self._bin_color(self._bin_of(self._t[i:i + 1])[0])

    def trial_point(self, trial_id, axis: int) -> QPointF:
        """Where a trial's line crosses axis `axis`, in plot (view) coordinates."""
        i = self._ids.index(trial_id)
        return QPointF(float(axis), float(self._y[i, axis]))

    def _rebuild(self) -> None:
        trials = self._trials
        specs = self._axis_specs if self._axis_specs is not None else infer_axes(trials)
        metric_spec = AxisSpec(METRIC_AXIS, "linear", self._metric)
        scaled = [ScaledAxis(s, [t.get("params", {}).get(s.name) for t in trials]) for s in specs]
        scaled.append(ScaledAxis(metric_spec, [t.get("value") if is_ok(t) else None for t in trials]))
        self._scaled = scaled
        self._ids = [t["id"] for t in trials]
        n_axes = len(scaled)
        y = np.empty((len(trials), n_axes))
        for j, axis in enumerate(scaled):
            if j < len(specs):
                values = [t.get("params", {}).get(axis.spec.name) for t in trials]
            else:
                values = [t.get("value") for t in trials]
            y[:, j] = axis.positions(values)
        self._has_missing = bool(np.isnan(y).any())
        self._missing_axes = np.isnan(y).any(axis=0) if len(trials) else np.zeros(n_axes, dtype=bool)
        self._y = np.where(np.isnan(y), MISSING_Y, y)
        scale = MetricScale([t.get("value") if is_ok(t) else None for t in trials], self._direction)
        self._metric_scale = scale
        self._t = np.array([scale.t([t.get("value")])[0] if is_ok(t) else np.nan for t in trials])
        self._brushes = {k: v for k, v in self._brushes.items() if k in self.axis_names}
        self._shown = self._brush_mask()
        self._draw_all()
        self._update_status()
        self.empty_hint.setVisible(not trials)

    def _update_status(self) -> None:
        trials = self._trials
        # grey lines: trials still going (no metric yet) and trials that failed or were pruned
        n_going = sum(t.get("status") in UNFINISHED for t in trials)
        n_bad = sum(not is_ok(t) and t.get("status") not in UNFINISHED for t in trials)
        extra = f" · {n_going} running (grey until done)" if n_going else ""
        extra += f" · {n_bad} failed/pruned (grey)" if n_bad else ""
        if self._brushes:
            extra += f" · {int(self._shown.sum())} inside the brushed ranges (click an axis to clear)"
        self.status.setText(f"{len(trials)} trials{extra} · click a line to select it, "
                            "Ctrl+click to add, drag along an axis to filter")

    # -- drawing -----------------------------------------------------------------------------
    def _bin_of(self, t: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(t * (N_COLORS - 1)), 0, N_COLORS - 1).astype(int)

    def _bin_color(self, b: int, alpha: int = 255) -> QColor:
        c = self._cmap.map(b / (N_COLORS - 1), mode="qcolor")
        c.setAlpha(alpha)
        return c

    def _lines(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n_axes = self._y.shape[1]
        ys = self._y[rows].ravel()
        xs = np.tile(np.arange(n_axes, dtype=float), len(rows))
        connect = np.ones(len(xs), dtype=bool)
        connect[n_axes - 1::n_axes] = False
        return xs, ys, connect

    def _set_lines(self, item: pg.PlotDataItem, rows: np.ndarray, pen) -> None:
        if len(rows) == 0 or self._y.shape[1] == 0:
            item.setData([], [])
            return
        xs, ys, connect = self._lines(rows)
        # Antialiasing costs ~30x in the raster engine; smooth lines only while they are few.
        item.setData(xs, ys, connect=connect, pen=pen, antialias=len(self._ids) <= AA_MAX_TRIALS)

    def _draw_all(self) -> None:
        colors = self._colors
        n_axes = len(self._scaled)
        for item in self._text_items:
            self.plot.removeItem(item)
        self._text_items = []
        # Axis lines.
        ax_x = np.repeat(np.arange(n_axes, dtype=float), 2)
        ax_y = np.tile([0.0, 1.0], n_axes)
        self._axes_item.setData(ax_x, ax_y, connect="pairs", pen=pg.mkPen(colors.foreground, width=1.5))
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 7))
        label_fill = pg.mkBrush(colors.legend_brush())
        for j, axis in enumerate(self._scaled):
            ticks = axis.ticks()
            if self._missing_axes[j]:
                ticks = ticks + [(MISSING_Y, "n/a")]
            for pos, text in ticks:
                item = pg.TextItem(text, color=colors.foreground, anchor=(1.0, 0.5), fill=label_fill)
                item.setFont(font)
                item.setPos(j - 0.02, pos)
                item.setZValue(100)
                self.plot.addItem(item)
                self._text_items.append(item)
        bottom = self.plot.getAxis("bottom")
        bottom.setTicks([[(j, a.spec.title) for j, a in enumerate(self._scaled)], []])
        bottom.setStyle(tickLength=0)
        self.plot.setXRange(-0.45, max(n_axes - 1, 0) + 0.15, padding=0)
        self.plot.setYRange(MISSING_Y - 0.05 if self._has_missing else -0.05, 1.05, padding=0)
        # Colour bar: the metric range, brightest at the best end.
        finite = ~np.isnan(self._t)
        self.bar.setColorMap(self._metric_scale.colormap_for_bar(self._cmap))
        lo, hi = self._metric_scale.lo, self._metric_scale.hi
        self.bar.setLevels((lo, hi if hi > lo else lo + 1e-12))
        better = "higher" if self._direction == "maximize" else "lower"
        self.bar.setLabel("right", f"colour: {self._metric} ({better} is better)")
        self.colour_bar_ticks = value_ticks(lo, hi) if hi > lo else [(lo, fmt_value(lo))]
        self.bar.getAxis("right").setTicks([self.colour_bar_ticks, []])
        self.bar.setVisible(bool(finite.any()))
        self._draw_lines()

    def _draw_lines(self) -> None:
        colors = self._colors
        any_selected = bool(self.selection.selected_ids & set(self._ids))
        alpha = 90 if any_selected else 220
        ok = ~np.isnan(self._t) & self._shown
        self._set_lines(self._faint_item, np.flatnonzero(~ok),
                        pg.mkPen(faint_color(colors.foreground, 45 if any_selected or self._brushes else 70), width=1))
        bins = np.full(len(self._t), -1)
        bins[ok] = self._bin_of(self._t[ok])
        self._bins = bins
        for b, item in enumerate(self._bin_items):
            self._set_lines(item, np.flatnonzero(bins == b), pg.mkPen(self._bin_color(b, alpha), width=1.5))
        self._draw_brush_items()
        self._draw_selection()
        self._draw_hover()

    def _draw_selection(self, *_args) -> None:
        selected = self.selection.selected_ids
        rows = np.array([i for i, tid in enumerate(self._ids) if tid in selected], dtype=int)
        self._set_lines(self._outline_item, rows, pg.mkPen(self._colors.foreground, width=5))
        bins = self._bins[rows] if len(rows) else rows
        for b, item in enumerate(self._selected_items[:N_COLORS]):
            self._set_lines(item, rows[bins == b], pg.mkPen(self._bin_color(b), width=3))
        # A selected failed trial: thick grey inside its outline.
        self._set_lines(self._selected_items[N_COLORS], rows[bins < 0],
                        pg.mkPen(self._colors.role("marker"), width=3))
        if _args:  # the dimming of unselected lines depends on whether anything is selected
            self._draw_lines_dim_only()

    def _draw_lines_dim_only(self) -> None:
        any_selected = bool(self.selection.selected_ids & set(self._ids))
        alpha = 90 if any_selected else 220
        for b, item in enumerate(self._bin_items):
            item.setPen(pg.mkPen(self._bin_color(b, alpha), width=1.5))
        self._faint_item.setPen(pg.mkPen(faint_color(self._colors.foreground, 45 if any_selected else 70)))

    def _draw_hover(self, *_args) -> None:
        hovered = self.selection.hovered_id
        rows = np.array([self._ids.index(hovered)] if hovered in self._ids else [], dtype=int)
        self._set_lines(self._hover_item, rows, pg.mkPen(self._colors.role("val"), width=3))

    # -- picking -----------------------------------------------------------------------------
    def trial_at(self, scene_pos: QPointF) -> object | None:
        """The trial whose line passes nearest `scene_pos` (within PICK_PX pixels), or None."""
        if not len(self._ids) or self._y.shape[1] < 2:
            return None
        vb = self.plot.getViewBox()
        p0 = vb.mapViewToScene(QPointF(0.0, 0.0))
        p1 = vb.mapViewToScene(QPointF(1.0, 1.0))
        sx, sy = p1.x() - p0.x(), p1.y() - p0.y()
        px = p0.x() + sx * np.arange(self._y.shape[1], dtype=float)[None, :]
        py = p0.y() + sy * self._y
        ax, ay = px[:, :-1], py[:, :-1]
        dx, dy = px[:, 1:] - ax, py[:, 1:] - ay
        qx, qy = scene_pos.x() - ax, scene_pos.y() - ay
        seg2 = dx * dx + dy * dy
        u = np.clip((qx * dx + qy * dy) / np.where(seg2 > 0, seg2, 1.0), 0.0, 1.0)
        dist = np.hypot(qx - u * dx, qy - u * dy).min(axis=1)
        dist[~self._shown] = np.inf
        best = int(np.argmin(dist))
        return self._ids[best] if dist[best] <= PICK_PX else None

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        axis = self._axis_near(event.scenePos())
        if axis is not None and self.axis_names[axis] in self._brushes:
            self._brushes.pop(self.axis_names[axis])
            self._apply_brushes()
            event.accept()
            return
        trial = self.trial_at(event.scenePos())
        toggle = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if trial is None:
            if not toggle:
                self.selection.clear()
        else:
            self.selection.select(trial, toggle=toggle)
        event.accept()

    def _on_move(self, scene_pos: QPointF) -> None:
        self.selection.set_hovered(self.trial_at(scene_pos))

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Leave and self.selection.hovered_id in self._ids:
            self.selection.set_hovered(None)
        return super().eventFilter(obj, event)

    # -- brushing ----------------------------------------------------------------------------
    def _brush_mask(self) -> np.ndarray:
        shown = np.ones(len(self._ids), dtype=bool)
        for name, (lo, hi) in self._brushes.items():
            j = self.axis_names.index(name)
            shown &= (self._y[:, j] >= lo) & (self._y[:, j] <= hi)
        return shown

    def _apply_brushes(self) -> None:
        before = self.visible_ids()
        self._shown = self._brush_mask()
        self._draw_lines()
        after = self.visible_ids()
        self._update_status()
        if after != before:
            self.filter_changed.emit(after)

    def _draw_brush_items(self) -> None:
        for name in list(self._brush_items):
            if name not in self._brushes:
                self.plot.removeItem(self._brush_items.pop(name))
        fill = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        fill.setAlpha(70)
        edge = QColor(fill)
        edge.setAlpha(200)
        for name, (lo, hi) in self._brushes.items():
            item = self._brush_items.get(name)
            if item is None:
                item = QGraphicsRectItem()
                item.setZValue(90)
                self.plot.addItem(item)
                self._brush_items[name] = item
            j = self.axis_names.index(name)
            item.setRect(QRectF(j - 0.035, lo, 0.07, hi - lo))
            item.setBrush(fill)
            item.setPen(pg.mkPen(edge, width=1))

    def _axis_near(self, scene_pos: QPointF) -> int | None:
        vb = self.plot.getViewBox()
        x = vb.mapSceneToView(scene_pos).x()
        j = int(round(x))
        if not 0 <= j < len(self._scaled):
            return None
        px = abs(vb.mapViewToScene(QPointF(j, 0)).x() - scene_pos.x())
        return j if px <= 2 * PICK_PX else None

    def _brush_dragged(self, axis: int, y0: float, y1: float, finished: bool) -> None:
        name = self.axis_names[axis]
        lo, hi = sorted((float(np.clip(y0, MISSING_Y, 1.0)), float(np.clip(y1, MISSING_Y, 1.0))))
        if hi - lo < 0.01:
            if finished:  # a click, not a drag
                self._brushes.pop(name, None)
                self._apply_brushes()
            return
        self.set_brush(name, lo, hi)

    # -- theme -------------------------------------------------------------------------------
    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()

    def _apply_colors(self) -> None:
        self._colors = colors = PlotColors(self.palette())
        self._cmap = metric_colormap(colors.dark)
        self.view.setBackground(colors.background)
        pen = pg.mkPen(colors.foreground)
        for plot in (self.plot, self.bar):
            for name in ("bottom", "right"):
                axis = plot.getAxis(name)
                axis.setPen(pen)
                axis.setTextPen(pen)
        bottom = self.plot.getAxis("bottom")
        bottom.setPen(pg.mkPen(None))
        bottom.setTickPen(pg.mkPen(None))
        plain_numbers(self.bar.getAxis("right"))
        self.bar.getAxis("right").label.setDefaultTextColor(colors.foreground)
        self._rebuild()
