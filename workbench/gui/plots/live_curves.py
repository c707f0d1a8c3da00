"""Live training curves: loss, the task metric and the learning rate of the current run.

Events only append rows to numpy buffers (`LiveRun`) and ask for a frame; a `RedrawScheduler`
(~12 Hz at most for new points, ~30 Hz for a person's changes, idle when nothing changed,
slower when drawing is slow) then hands the curves,
created once, what is visible, peak-decimated to about the plot's pixel width (`Series`). So
the redraw rate never depends on the event rate, nor its cost on the number of points.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from workbench.core.training import Event
from workbench.gui.wording import for_the_app

from . import overlays as ov
from .controls import X_AXES, ControlBar
from .crosshair import Crosshair, fmt
from .empty_hint import add_empty_hint
from .live_data import LiveRun
from .markers import AlertMarkers, LrMarkers, OverfitMark
from .palette import PlotColors, style_axes
from .readable_axis import ReadableAxis
from .redraw import RedrawScheduler, TimedLayoutWidget
from .series import Series
from .view_range import SteppedViewBox, XAxis, follow_x, lr_y_range

METRIC_LABELS = {"accuracy": "accuracy", "r2": "R²"}
LEGEND_MAX_RUNS = 8  # overlay runs named in the legend; the rest are "… N more"
LEGEND_ALPHA = 170  # the legend's background: curves show through it
# a regression trained on its standardised target (data.standardize_target): the loss is in
# standardised units, while R², MAE and RMSE are in the target's own
LOSS_STANDARDIZED = "loss (standardised target)"
LEGEND_ROW_PX = 17  # height of one legend row (8 pt text)
EMPTY_TEXT = ("Press Train (Ctrl+Enter): the loss, the accuracy (or R²) and the learning rate of the run "
              "are drawn here as it learns. Runs picked on the Runs page are drawn here too.")
# Panel labels: the full word where the panel is tall enough for it, else the short one.
SHORT_LABELS = {"learning rate": "lr", "accuracy": "acc.", "loss": "loss", "R²": "R²",
                LOSS_STANDARDIZED: "loss (std.)"}


class LiveCurves(QWidget):
    """Curves of the running experiment, plus overlays of other runs.

    Feed it core events with `handle_event` / `handle_events`; overlay past runs with
    `show_runs`. `overfitting_epoch` is the epoch since which the validation loss has stayed clearly
    above its best (judged on smoothed curves, core.training.judge_overfitting), or None.
    """

    def __init__(self, parent: QWidget | None = None, *, overfit_patience: int = 3, empty_text: str = EMPTY_TEXT):
        """`empty_text`: what the plots say while they have nothing to draw."""
        super().__init__(parent)
        self.redraw_count = 0  # frames that pushed data (tests and benchmarks read it)
        self._frame_changed = False
        self.run = LiveRun(overfit_patience)
        self._x = "step"
        self._following = True
        self._lr_log = False
        self._overlays: list[ov.Overlay] = []
        self._frame_plots: list[pg.PlotItem] = []  # panels still to draw in the current frame
        self._frame_view: tuple[float, float] = (0.0, 1.0)
        self._frame_pixels = 200
        self._scheduler = RedrawScheduler(self, self._redraw, self.isVisible)

        self.controls = ControlBar(self)
        c = self.controls
        self.x_axis_combo, self.log_check = c.x_axis_combo, c.log_check
        self.smoothing_slider, self.smoothing_label = c.smoothing_slider, c.smoothing_label
        self.follow_button = c.follow_button
        self.x_axis_combo.currentIndexChanged.connect(
            lambda i: self.set_x_axis(self.x_axis_combo.itemData(i)))
        self.log_check.toggled.connect(self.set_log_y)
        self.smoothing_slider.valueChanged.connect(lambda v: self.set_smoothing(v / 100))
        self.follow_button.clicked.connect(self.follow)
        # The values under the mouse, else the run's latest. Two lines' room, wrapped between
        # its parts, so a narrow window shows all of it and the plots above never jump.
        self.readout = QLabel(" ", objectName="plotReadout")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.readout.setWordWrap(True)
        self.readout.setFixedHeight(2 * self.readout.fontMetrics().lineSpacing() + 2)
        self.readout.setToolTip("The values logged at that point (the latest without the mouse over the plots), "
                                "not the smoothed curves'")

        self._build_plots()
        # nothing drawn yet: words over the empty axes, not bare 0-1 ranges that look like data
        self.empty_hint = add_empty_hint(self._glw, empty_text, "plotsEmptyHint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.controls)
        layout.addWidget(self._glw, 1)
        layout.addWidget(self.readout)
        self._apply_colors()
        self._set_metric_label()

    def _build_plots(self) -> None:
        self._glw = TimedLayoutWidget()
        self._glw.on_paint = self._scheduler.painted
        self._glw.ci.layout.setSpacing(0)
        self._glw.ci.setContentsMargins(2, 2, 8, 2)
        # loss and lr can be logarithmic; labels must stay readable on short panels and not run
        # into the next panel's
        # y ranges that move in steps, not with every new point (view_range.SteppedViewBox)
        self.loss_plot = self._glw.addPlot(row=0, col=0, viewBox=SteppedViewBox(), axisItems={
            "bottom": XAxis("bottom"), "left": ReadableAxis("left", clear_bottom=True)})
        self.metric_plot = self._glw.addPlot(row=1, col=0, viewBox=SteppedViewBox(), axisItems={
            "bottom": XAxis("bottom"), "left": ReadableAxis("left", clear_bottom=True)})
        self.lr_plot = self._glw.addPlot(row=2, col=0, axisItems={"bottom": XAxis("bottom"),
                                                                  "left": ReadableAxis("left")})
        self.plots = (self.loss_plot, self.metric_plot, self.lr_plot)
        for row, stretch in enumerate((5, 3, 2)):
            self._glw.ci.layout.setRowStretchFactor(row, stretch)
        self._set_panel_label(self.loss_plot, "loss")
        self._set_panel_label(self.lr_plot, "learning rate")
        self.lr_plot.setLabel("bottom", X_AXES[self._x])
        for plot in self.plots:
            plot.hideButtons()  # our Follow button replaces pyqtgraph's "A"
            plot.setMenuEnabled(False)
            plot.enableAutoRange(x=False, y=plot is not self.lr_plot)
            plot.setAutoVisible(y=True)  # y fits what is visible when zoomed on x
            plot.getAxis("left").setWidth(58)  # aligned panels
            for name in ("left", "top", "right"):  # no "accuracy (x0.001)"; and the hidden axes
                plot.getAxis(name).enableAutoSIPrefix(False)  # would set their labels with every range
            plot.vb.sigRangeChangedManually.connect(self._on_manual_range)
            if plot is not self.lr_plot:
                plot.setXLink(self.lr_plot)
                plot.getAxis("bottom").setStyle(showValues=False)
        # The curves draw only what is in view: a new x range or width needs a new frame.
        self.lr_plot.vb.sigXRangeChanged.connect(self._scheduler.request)
        self.lr_plot.vb.sigResized.connect(self._scheduler.request)
        self.loss_plot.vb.sigResized.connect(self._sync_legend)
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.vb.sigResized.connect(lambda _vb, p=plot: self._fit_axis_label(p))
        # One legend, top right of the loss panel (the metric panel uses the same colours). It is
        # not the plot's own legend: that one lists every named curve from the start, data or
        # not; `_sync_legend` lists only what is drawn.
        self.loss_legend = pg.LegendItem(offset=(-6, 6), labelTextSize="8pt", verSpacing=-6,
                                         horSpacing=10)
        self.loss_legend.setParentItem(self.loss_plot.vb)
        self.loss_legend.setZValue(20)
        self.loss_legend.setVisible(False)
        self._legend_key: tuple = ()
        self._has_data: set[str] = set()
        # Line-style keys for overlays when no live run explains them; "… N more".
        self._style_keys = {"train": pg.PlotDataItem(), "validation": pg.PlotDataItem()}
        self._more_sample = pg.PlotDataItem(pen=None)
        run = self.run
        self.series = {
            "batch_loss": Series(self.loss_plot, run.batches, "loss", "train (batches)",
                                 "batch", width=1),
            "train_loss": Series(self.loss_plot, run.epochs, "loss", "train", "train",
                                 symbols=True),
            "val_loss": Series(self.loss_plot, run.epochs, "val_loss", "validation", "val",
                               symbols=True),
            "train_metric": Series(self.metric_plot, run.epochs, "metric", "train", "train",
                                   symbols=True),
            "val_metric": Series(self.metric_plot, run.epochs, "val_metric", "validation",
                                 "val", symbols=True),
            "lr": Series(self.lr_plot, run.lrs, "lr", "learning rate", "lr", smoothable=False),
        }
        for s in self.series.values():
            s.set_weight(self.smoothing)
        self.crosshair = Crosshair(self.plots, self.readout, self._describe, on_hide=self._show_latest)
        self.lr_markers = LrMarkers(self.plots)
        self.overfit_mark = OverfitMark(self.loss_plot)
        self.alert_markers = AlertMarkers([self.loss_plot])
        self._glw.scene().sigMouseMoved.connect(self.crosshair.on_mouse_moved)
        self._glw.viewport().installEventFilter(self)

    # -- public API ----------------------------------------------------------------------------
    @property
    def overfitting_epoch(self) -> int | None:
        return self.run.overfit_epoch

    @property
    def overfit_patience(self) -> int:
        return self.run.overfit_patience

    @property
    def x_axis(self) -> str:
        return self._x

    @property
    def following(self) -> bool:
        return self._following

    @property
    def task(self) -> str | None:
        return self.run.task

    @property
    def live(self) -> bool:
        """Between a RunStarted and its terminal event."""
        return self.run.live

    def handle_events(self, events: Iterable[Event]) -> None:
        for event in events:
            self.handle_event(event)

    def handle_event(self, event: Event) -> None:
        """RunStarted resets and sets the task; BatchProgress adds a step-level train loss and
        learning rate; EpochEnd adds train/validation loss, metric and learning rate and checks
        for overfitting; LRChanged adds a marker; a terminal event ends the live run. Nothing
        is drawn here: the next frame shows it."""
        kind = self.run.handle(event)
        if kind is None:
            return
        if kind == "start":
            self._forget_drawn()
            self._set_metric_label()
            self._set_panel_label(self.loss_plot, LOSS_STANDARDIZED if self.run.standardized_target else "loss")
            if not self._following:
                self.follow()
        elif kind == "end":
            self._refit_y()  # the finished run's picture: fitted tightly, without room to grow
        elif kind == "lr":
            self.lr_markers.add(*self.run.lr_mark, self._x)
        elif kind == "alert":
            coords, text, message = self.run.alert_mark
            self.alert_markers.add(coords, text, self._x, for_the_app(message))
        elif kind == "epoch" and getattr(self.metric_plot.getAxis("left"), "full_label", None) != \
                METRIC_LABELS[self.run.metric_key]:
            self._set_metric_label()
        self._scheduler.request(live=kind != "start")

    def reset(self) -> None:
        """Forget the live run (overlays stay)."""
        self.run.reset()
        self._forget_drawn()
        self._scheduler.request()

    def _refit_y(self) -> None:
        for plot in (self.loss_plot, self.metric_plot):
            plot.vb.refit()

    def _forget_drawn(self) -> None:
        self._refit_y()
        self.crosshair.hide()
        self._show_latest()  # at once: the next frame may be a while (hidden page, slow redraw)
        self._has_data.clear()
        for s in self.series.values():
            s.reset()
        self.lr_markers.clear()
        self.alert_markers.clear()
        self.overfit_mark.hide()

    def show_runs(self, runs: Sequence[tuple[str, Sequence[dict], QColor | None]]) -> None:
        """Overlay runs (label, epoch-log dicts as the run store gives them, colour or None for
        the next distinct palette colour). Replaces the overlays shown before."""
        self.clear_overlays()
        auto = iter(PlotColors(self.palette()).overlay_colors(len(runs)))
        for label, rows, color in runs:
            c = next(auto)
            key = ov.metric_key_for(rows, self.run.task)
            overlay = ov.build_overlay(label, rows, color if color is not None else c, key)
            ov.add_items(overlay, self.loss_plot, self.metric_plot, self.lr_plot)
            ov.refresh(overlay, self._x)
            self._overlays.append(overlay)
        self._refit_y()
        self._sync_legend()
        self._scheduler.request()

    def clear_overlays(self) -> None:
        for overlay in self._overlays:
            ov.remove_items(overlay)
        self._overlays.clear()
        self._refit_y()
        self._sync_legend()
        self._scheduler.request()

    @property
    def overlays(self) -> list[ov.Overlay]:
        return list(self._overlays)

    def set_x_axis(self, mode: str) -> None:
        if mode not in X_AXES:
            raise ValueError(f"x axis must be one of {', '.join(X_AXES)}, not {mode!r}")
        if mode == self._x:
            return
        self._x = mode
        self.x_axis_combo.setCurrentIndex(list(X_AXES).index(mode))
        self.lr_plot.setLabel("bottom", X_AXES[mode])
        for plot in self.plots:
            plot.getAxis("bottom").set_integer(mode == "epoch")
        for s in self.series.values():
            s.invalidate()
        for overlay in self._overlays:
            ov.refresh(overlay, mode)
        self.lr_markers.set_x_mode(mode)
        self.alert_markers.set_x_mode(mode)
        self.follow()

    def set_log_y(self, on: bool) -> None:
        """Log scale for the loss plot (curves keep their original data)."""
        if self.log_check.isChecked() != on:
            self.log_check.setChecked(on)  # comes back here through toggled
            return
        self.loss_plot.setLogMode(x=False, y=on)
        for s in self.series.values():
            if s.plot is self.loss_plot:
                s.invalidate()
        self._scheduler.request()

    @property
    def log_y(self) -> bool:
        return self.log_check.isChecked()

    def set_smoothing(self, weight: float) -> None:
        weight = min(max(float(weight), 0.0), 0.99)
        if self.smoothing_slider.value() != round(weight * 100):
            self.smoothing_slider.setValue(round(weight * 100))
        self.smoothing_label.setText(f"{weight:.2f}")
        for s in self.series.values():
            s.set_weight(weight)
        self._scheduler.request()

    @property
    def smoothing(self) -> float:
        return self.smoothing_slider.value() / 100

    def follow(self) -> None:
        """Auto-range again: show every point and follow new ones."""
        self._following = True
        self.follow_button.setVisible(False)
        for plot in (self.loss_plot, self.metric_plot):
            plot.enableAutoRange(y=True)
        self._update_x_range()
        self._scheduler.request()

    def flush(self) -> None:
        """Redraw now: a whole frame (a frame drawn in parts meanwhile is started afresh)."""
        self._frame_plots = []
        self._scheduler.dirty = self._scheduler.mid_frame = False
        while self._redraw():
            pass

    # -- redraw ----------------------------------------------------------------------------------
    def _redraw(self) -> bool:
        """One part of a frame: the first part follows the x range and updates what belongs to
        the whole view (markers, legend, readout); each part then hands one panel its new data
        (a panel with nothing new is skipped). Returns whether a panel of this frame is still to
        draw (the scheduler calls again shortly, after this part has been painted): a frame's
        work comes in pieces of a third of the size."""
        if not self._frame_plots:
            self._start_frame()
            self._frame_changed = False
        while self._frame_plots:
            if self._redraw_plot(self._frame_plots.pop(0)):
                self._frame_changed = True
                break
        if not self._frame_plots:
            self.redraw_count += self._frame_changed
        return bool(self._frame_plots)

    def _start_frame(self) -> None:
        run = self.run
        lr_log = run.lr_hi > 10 * run.lr_lo  # spans more than a decade
        if lr_log != self._lr_log:
            self._lr_log = lr_log
            self.lr_plot.setLogMode(x=False, y=lr_log)
            self.series["lr"].invalidate()
        if self._following:
            self._update_x_range()  # first: the curves draw what is in the new view
        self._frame_view = tuple(self.lr_plot.vb.viewRange()[0])
        self._frame_pixels = max(int(self.lr_plot.vb.width()), 200)
        self._frame_plots = list(self.plots)
        if run.overfit is not None and len(run.epochs):
            self.overfit_mark.show(run.overfit.since_epoch, run.overfit.best_epoch, run.epochs.column("epoch"),
                                   run.epochs.column(self._x))
        elif run.overfit is None:
            self.overfit_mark.hide()
        self.alert_markers.layout()  # (a new x range moves the tags closer or apart)
        self._sync_legend()
        if not self.crosshair.active:
            self._show_latest()

    def _redraw_plot(self, plot: pg.PlotItem) -> bool:
        log = (self.log_y and plot is self.loss_plot) or (self._lr_log and plot is self.lr_plot)
        changed = False
        for s in self.series.values():
            if s.plot is plot:
                changed |= s.refresh(self._x, log, self._frame_view, self._frame_pixels)
        # Fit the y range to the new data now rather than in the paint (pyqtgraph auto-ranges
        # in prepareForPaint): a range that changes inside a paint marks the axes and curves
        # dirty again, and Qt paints the whole view a second time right after. (A curve of
        # nothing but nan, e.g. the validation loss without a validation split, is no range:
        # numpy's "All-NaN slice" warning from pyqtgraph's bounds says nothing new.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            plot.vb.prepareForPaint()
        return changed

    # -- panel labels ------------------------------------------------------------------------------
    def _set_panel_label(self, plot: pg.PlotItem, text: str) -> None:
        plot.setLabel("left", text)
        plot.getAxis("left").full_label = text
        self._fit_axis_label(plot)

    def _fit_axis_label(self, plot: pg.PlotItem) -> None:
        """Rotated labels longer than their panel is high overlap the next panel's: use the
        short word there ("lr", "acc.")."""
        axis = plot.getAxis("left")
        full = getattr(axis, "full_label", None)
        if not full:
            return
        width = QFontMetricsF(axis.label.font()).horizontalAdvance(full) + 8
        text = full if width <= plot.vb.height() else SHORT_LABELS.get(full, full)
        if axis.labelText != text:
            axis.setLabel(text)
            if hasattr(self, "_colors"):
                axis.label.setDefaultTextColor(self._colors.foreground)

    # -- legend ------------------------------------------------------------------------------------
    def legend_texts(self) -> list[str]:
        """The legend's entries, as a person reads them (none while nothing is drawn)."""
        if not self.loss_legend.isVisible():
            return []
        return [label.text for _, label in self.loss_legend.items]

    def _legend_entries(self) -> list[tuple[object, str]]:
        entries: list[tuple[object, str]] = []
        for key in ("batch_loss", "train_loss", "val_loss"):
            s = self.series[key]
            if key not in self._has_data and len(s.buffer) and np.isfinite(
                    s.buffer.column(s.column)).any():
                self._has_data.add(key)
            if key in self._has_data:
                entries.append((s.curve, s.name))
        runs = [(o, o.legend_item()) for o in self._overlays]
        runs = [(o, item) for o, item in runs if item is not None]
        if runs and not entries:  # overlays only: say what solid and dashed mean
            entries.append((self._style_keys["train"], "train"))
            if any(column == "val_loss" for o, _ in runs for _, _, column in o.items):
                entries.append((self._style_keys["validation"], "validation"))
        if len(runs) > LEGEND_MAX_RUNS:
            # Runs drawn strongly (not faded, e.g. the selected trials) are named first.
            runs.sort(key=lambda r: r[0].color.alpha() < 255)
            hidden = len(runs) - (LEGEND_MAX_RUNS - 1)
            runs = runs[:LEGEND_MAX_RUNS - 1]
        else:
            hidden = 0
        entries += [(item, o.label) for o, item in runs]
        if hidden:
            entries.append((self._more_sample, f"… {hidden} more"))
        return entries

    def _legend_columns(self, n: int) -> int:
        """Few columns while the legend stays short; more when the loss panel is low, so the
        legend never takes more than about a third of its height."""
        room = max(self.loss_plot.vb.height() * 0.34 - 8, 16)
        for cols in (1, 2, 3, 4):
            rows = -(-n // cols)
            if rows * LEGEND_ROW_PX <= room and (cols > 1 or n <= 4):
                return cols
        return 4

    def _sync_legend(self) -> None:
        entries = self._legend_entries()
        cols = self._legend_columns(len(entries))
        key = (cols, *((id(item), name) for item, name in entries))
        if key == self._legend_key:
            return
        self._legend_key = key
        legend = self.loss_legend
        legend.clear()
        legend.setColumnCount(cols)
        for item, name in entries:
            legend.addItem(item, name)
        legend.setVisible(bool(entries))
        self.empty_hint.setVisible(not entries)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self._scheduler.resume()

    def _update_x_range(self) -> None:
        r = self.run.x_range(self._x)
        lo, hi = r if r else (np.inf, -np.inf)
        for overlay in self._overlays:
            o = overlay.x_range(self._x)
            if o:
                lo, hi = min(lo, o[0]), max(hi, o[1])
        if not np.isfinite(lo):
            lo, hi = 0.0, 1.0
        # a live run: room ahead in steps; a finished one (or overlays alone): fitted
        live = r is not None and self.run.live
        new = follow_x(tuple(self.lr_plot.vb.viewRange()[0]), lo, hi, self.run.x_end(self._x) if live else None,
                       tight=not live)
        if new is not None:
            self.lr_plot.setXRange(*new, padding=0)
        self._update_lr_range()

    def _update_lr_range(self) -> None:
        lo, hi = self.run.lr_lo, self.run.lr_hi
        for overlay in self._overlays:
            lr = overlay.columns["lr"]
            lr = lr[np.isfinite(lr) & (lr > 0)]
            if lr.size:
                lo, hi = min(lo, lr.min()), max(hi, lr.max())
        y0, y1, padding = lr_y_range(lo, hi, self._lr_log)
        if (y0, y1, padding) != getattr(self, "_lr_y", None):
            self._lr_y = (y0, y1, padding)
            self.lr_plot.setYRange(y0, y1, padding=padding)

    def _on_manual_range(self, *_args) -> None:
        self._following = False
        self.follow_button.setVisible(True)

    # -- crosshair -------------------------------------------------------------------------------
    def show_crosshair(self, x: float) -> None:
        """Put the crosshair at x (data coordinates) and describe the values there."""
        self.crosshair.show_at(x)

    def _describe(self, x: float) -> str:
        v = {k: s.value_near(self._x, x) for k, s in self.series.items()}
        # batch losses come only from epochs long enough to report inside them: a far-away
        # one is not "the batch loss here"
        v["batch_loss"] = self.series["batch_loss"].value_near(self._x, x, within=self._one_epoch())
        metric = METRIC_LABELS[self.run.metric_key]
        # the numbers are the logged ones, never the smoothed curve's (which lag the real values)
        where = str(int(round(x))) if self._x == "step" else fmt(x)  # steps are whole: not "step 317.1"
        parts = [f"{X_AXES[self._x].split(' ')[0]} {where}",
                 f"loss: train {fmt(v['train_loss'])}, validation {fmt(v['val_loss'])}"
                 # only where batches were reported (not "batch –" beside every short-epoch run)
                 + (f", batch {fmt(v['batch_loss'])}" if v["batch_loss"] is not None else ""),
                 f"{metric}: train {fmt(v['train_metric'])}, validation {fmt(v['val_metric'])}",
                 f"lr {fmt(v['lr'])}"]
        # a line breaks only between parts (no-break spaces inside them)
        return "   ·   ".join(part.replace(" ", "\u00a0") for part in parts)

    def _one_epoch(self) -> float:
        """How far one epoch reaches on the current x axis."""
        if self._x == "epoch":
            return 1.0
        if self._x == "step":
            return float(max(self.run.steps_per_epoch, 1))
        times = self.run.epochs.column("time") if len(self.run.epochs) else np.empty(0)
        return float(np.diff(times).max()) if times.size > 1 else float("inf")

    def _show_latest(self) -> None:
        """The readout without the mouse over the plots: the live run's latest values (blank
        before its first point, so a new run never shows the last one's numbers)."""
        r = self.run.x_range(self._x)
        self.readout.setText(self._describe(r[1]) if r is not None else " ")

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Leave:
            self.crosshair.hide()
        return False

    # -- colours ---------------------------------------------------------------------------------
    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()

    def _apply_colors(self) -> None:
        colors = PlotColors(self.palette())
        self._colors = colors
        colors.apply_global()
        self._glw.setBackground(colors.background)
        for plot in self.plots:
            style_axes(plot, colors)
        legend = self.loss_legend
        legend.setLabelTextColor(colors.foreground)
        for _, label in legend.items:  # existing labels keep their colour otherwise
            label.setText(label.text, color=colors.foreground)
        legend.setBrush(colors.faint(colors.background, LEGEND_ALPHA))
        legend.setPen(pg.mkPen(colors.faint(colors.foreground, 50)))
        key_color = colors.faint(colors.foreground, 190)
        self._style_keys["train"].setPen(pg.mkPen(key_color, width=1.5))
        self._style_keys["validation"].setPen(
            pg.mkPen(key_color, width=1.5, style=Qt.PenStyle.DashLine))
        for s in self.series.values():
            if s.role == "batch":
                base = colors.role("train")
                s.set_color(colors.faint(base, 150), colors.faint(base, 45))
            else:
                base = colors.role(s.role)
                s.set_color(base, colors.faint(base, 70))
            s.invalidate()
        self.crosshair.set_color(colors.faint(colors.foreground, 120))
        self.overfit_mark.set_colors(colors)
        self.alert_markers.set_colors(colors)
        self.lr_markers.set_colors(colors)
        self._scheduler.request()

    def _set_metric_label(self) -> None:
        self._set_panel_label(self.metric_plot, METRIC_LABELS[self.run.metric_key])
        style_axes(self.metric_plot, self._colors)
