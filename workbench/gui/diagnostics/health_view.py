"""The health view: per-layer strips over time (as fastai's "colorful dimension" plot: one row
per layer, colour = the chosen statistic), the total gradient-norm curve and the loss (train and
validation, per epoch) under them on the same step axis, and the monitor's alerts in plain words,
marked on both curves. Fed live (`handle_events`) or from a past run's stored samples
(`show_stored`); it redraws on a timer, never per event."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.training import EpochEnd, HealthAlert, HealthSample, RunStarted, TerminalEvent
from workbench.gui.plots.palette import PlotColors, style_axes
from workbench.gui.plots.readable_axis import PlainAxis, linear_ticks, tick_text
from workbench.gui.wording import for_the_app

STATS = {  # key -> (words, log10 scale, where it applies)
    "grad_norm": ("gradient norm", True, "layers with weights"),
    "update_ratio": ("update / weight (healthy ≈ 1e-3)", True, "layers with weights"),
    "act_std": ("activation std", False, "every layer"),
    "act_mean": ("activation mean", False, "every layer"),
    "dead_fraction": ("dead units (share of a ReLU's units)", False, "ReLU layers"),
}
COLUMNS = 400  # strips are resampled onto this many columns across the steps
REDRAW_MS = 250
ENDED = {"RunFinished": "finished", "RunStopped": "stopped", "RunFailed": "failed"}
EMPTY_TEXT = ("Nothing to show yet. Train, and each layer's gradients, updates and units appear here as the run "
              "goes; or select a past run on the Runs page.")


class HealthView(QWidget):
    """Per-layer strips, gradient norm and loss over steps, and the alerts (see the module doc).
    Double-clicking an alert that suggests a learning rate (a plateau) emits `lr_chosen`."""

    lr_chosen = Signal(float)
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("healthView")
        self.samples: list[HealthSample] = []
        self.epochs: list[tuple[float, float, float]] = []  # (step, train loss, val loss) per epoch
        self.alerts: list[HealthAlert] = []
        self.layers: list[str] = []
        self._dirty = False
        self._head = ""
        self._run_name = "the run"
        self.colorbar_ticks: list[tuple[float, str]] = []  # (value, label) on the strips' colour bar

        self.stat = QComboBox(objectName="healthStat")
        for key, (words, _log, where) in STATS.items():
            self.stat.addItem(words, key)
            self.stat.setItemData(self.stat.count() - 1, f"shown for {where}", 3)
        self.stat.currentIndexChanged.connect(lambda _i: self._request())
        self.title = QLabel("No run yet: the health monitor samples every run while it trains.",
                            objectName="healthTitle")
        self.title.setWordWrap(True)
        self.title.setMinimumWidth(80)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.stat)
        top.addWidget(self.title, 1)

        self.glw = pg.GraphicsLayoutWidget()
        # one number formatter on every axis: plain numbers, no "(x0.001)", no "-0"
        self.strips = self.glw.addPlot(row=0, col=0, axisItems={"bottom": PlainAxis("bottom"),
                                                                "top": PlainAxis("top")})
        self.image = pg.ImageItem(axisOrder="row-major")
        self.strips.addItem(self.image)
        self.strips.setMenuEnabled(False)
        self.strips.setMouseEnabled(x=True, y=False)
        self.strips.invertY(True)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, width=12)
        self.colorbar.setImageItem(self.image, insert_in=self.strips)
        self.colorbar.getAxis("right").enableAutoSIPrefix(False)
        self.norms = self.glw.addPlot(row=1, col=0, axisItems={"left": DecadeAxis("left"),
                                                               "bottom": PlainAxis("bottom")})
        self.norms.setLogMode(x=False, y=True)
        self.norms.setLabel("left", "total ‖g‖")
        self.norms.setXLink(self.strips)
        self.norms.setMenuEnabled(False)
        self.norms.getAxis("left").enableAutoSIPrefix(False)
        self.losses = self.glw.addPlot(row=2, col=0, axisItems={"left": PlainAxis("left"),
                                                                "bottom": PlainAxis("bottom")})
        self.losses.setLabel("left", "loss")
        self.losses.setLabel("bottom", "step")
        self.losses.setXLink(self.strips)
        self.losses.setMenuEnabled(False)
        self.losses.getAxis("left").enableAutoSIPrefix(False)
        for plot in (self.strips, self.norms, self.losses):
            plot.getAxis("left").setWidth(90)
        self.glw.ci.layout.setRowStretchFactor(0, 3)
        self.glw.ci.layout.setRowStretchFactor(1, 2)
        self.glw.ci.layout.setRowStretchFactor(2, 2)
        self.norm_curve = pg.PlotDataItem()
        self.norms.addItem(self.norm_curve)
        self.train_curve = pg.PlotDataItem(name="train loss", symbol="o", symbolSize=4)
        self.val_curve = pg.PlotDataItem(name="val loss", symbol="o", symbolSize=4)
        self.losses.addLegend(offset=(-8, 4), labelTextSize="8pt")
        self.losses.addItem(self.train_curve)
        self.losses.addItem(self.val_curve)
        self.alert_lines: list[pg.InfiniteLine] = []  # one per alert on each curve

        self.alert_list = QListWidget(objectName="healthAlerts")
        self.alert_list.setWordWrap(True)
        self.alert_list.setAlternatingRowColors(True)
        self.alert_list.setMinimumWidth(120)
        self.alert_list.itemDoubleClicked.connect(self._alert_chosen)
        split = QSplitter()
        split.setChildrenCollapsible(False)
        # before any sample: a message, not empty axes with made-up ranges under it
        self.empty = QLabel(EMPTY_TEXT, objectName="healthEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setMargin(24)
        self.plots_or_empty = QStackedWidget()
        self.plots_or_empty.addWidget(self.empty)
        self.plots_or_empty.addWidget(self.glw)
        split.addWidget(self.plots_or_empty)
        split.addWidget(self.alert_list)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        col.addLayout(top)
        col.addWidget(split, 1)
        self._timer = QTimer(self, interval=REDRAW_MS, singleShot=True)
        self._timer.timeout.connect(self.redraw)
        self._apply_colors()
        self._show_empty_alerts()

    # ---- input ----------------------------------------------------------------------------------
    def handle_events(self, events) -> None:
        """Take a batch of live run events (samples, alerts, epochs; a RunStarted starts afresh)."""
        for event in events:
            if isinstance(event, HealthSample):
                self.samples.append(event)
                self._request()
            elif isinstance(event, HealthAlert):
                self._add_alert(event)
                self._request()
            elif isinstance(event, EpochEnd):
                self.epochs.append(epoch_point(event.step, event.logs))
                self._request()
            elif isinstance(event, RunStarted):
                self._run_name = event.name or "the run"
                self.reset(f"Live: {self._run_name}")
            elif isinstance(event, TerminalEvent):  # no longer live
                self._head = f"{self._run_name} ({ENDED.get(type(event).__name__, 'ended')})"
                self.title.setText(self._head)
                self._request()

    def show_stored(self, title: str, samples: list[HealthSample], alerts: list[HealthAlert],
                    epochs: list[dict] = ()) -> None:
        """A past run's health, as the run store keeps it; `epochs`: its epoch rows (RunStore.epochs:
        dicts with step, loss and val_loss) for the loss curve."""
        self.reset(title)
        self.samples = list(samples)
        self.epochs = [epoch_point(row.get("step", math.nan), row) for row in epochs]
        for alert in alerts:
            self._add_alert(alert)
        if not samples:
            self.title.setText(f"{title}: no health samples were recorded (the monitor was off, or the run "
                               "predates it).")
        self.redraw()

    def reset(self, title: str = "") -> None:
        """Forget everything shown; `title` heads the empty view."""
        self.samples, self.alerts, self.layers, self.epochs = [], [], [], []
        self.alert_list.clear()
        self._show_empty_alerts()
        for line in self.alert_lines:
            for plot in (self.norms, self.losses):
                if line in plot.items:
                    plot.removeItem(line)
        self.alert_lines.clear()
        self._head = title
        self.title.setText(title)
        self.image.clear()
        for curve in (self.norm_curve, self.train_curve, self.val_curve):
            curve.setData([], [])
        self.plots_or_empty.setCurrentWidget(self.empty)

    def _show_empty_alerts(self) -> None:
        item = QListWidgetItem("No alerts: gradients, updates and units look healthy so far.")
        item.setData(32, "placeholder")
        self.alert_list.addItem(item)

    def _add_alert(self, alert: HealthAlert) -> None:
        if self.alert_list.count() == 1 and self.alert_list.item(0).data(32) == "placeholder":
            self.alert_list.clear()
        self.alerts.append(alert)
        message = for_the_app(alert.message)
        item = QListWidgetItem(f"Epoch {alert.epoch}, step {alert.step}: {message}")
        item.setData(32, alert.kind)
        item.setToolTip(message)
        if alert.kind == "plateau" and alert.suggested_lr > 0:
            item.setData(33, float(alert.suggested_lr))
            item.setToolTip(f"{message}\n\nDouble-click to use lr = {alert.suggested_lr:.3g}.")
        self.alert_list.addItem(item)
        for plot in (self.norms, self.losses):
            line = pg.InfiniteLine(pos=alert.step, angle=90, movable=False)
            line.setPen(pg.mkPen(PlotColors(self.palette()).role("alert"), width=1))
            line.setToolTip(message)
            plot.addItem(line, ignoreBounds=True)
            self.alert_lines.append(line)

    def _alert_chosen(self, item: QListWidgetItem) -> None:
        lr = item.data(33)
        if lr:
            self.lr_chosen.emit(float(lr))

    def _request(self) -> None:
        self._dirty = True
        # Hidden (another page showing): drawn when shown. A redraw took ~5 ms of the GUI
        # thread a few times a second while the Train page was in front.
        if self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._dirty and not self._timer.isActive():
            self._timer.start()

    # ---- drawing ----------------------------------------------------------------------------------
    def stat_key(self) -> str:
        """The statistic the strips show (a key of STATS)."""
        return self.stat.currentData()

    def strip_matrix(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """(values: layers × columns, layer names shown, the step of each column) for the chosen
        statistic; log10 where it is on a log scale. Columns sample the steps evenly."""
        key = self.stat_key()
        log = STATS[key][1]
        if not self.samples:
            return np.zeros((0, 0)), [], np.zeros(0)
        names = self.samples[-1].layers
        steps = np.asarray([s.step for s in self.samples], dtype=float)
        values = np.full((len(self.samples), len(names)), np.nan)
        for i, s in enumerate(self.samples):
            row = getattr(s, key)
            if len(row) == len(names):
                values[i] = row
        keep = [j for j in range(len(names)) if np.isfinite(values[:, j]).any()]
        values = values[:, keep]
        if log:
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)
        if len(steps) > 1:
            grid = np.linspace(steps[0], steps[-1], min(COLUMNS, max(2, len(steps) * 2)))
        else:
            grid = steps.copy()
        idx = np.clip(np.searchsorted(steps, grid, side="right") - 1, 0, len(steps) - 1)
        return values[idx].T, [names[j] for j in keep], grid

    @Slot()
    def redraw(self) -> None:
        """Draw the strips, the gradient-norm curve and the loss from what was received."""
        self._dirty = False
        self.plots_or_empty.setCurrentWidget(self.glw if self.samples or self.epochs else self.empty)
        matrix, names, grid = self.strip_matrix()
        self.layers = names
        key = self.stat_key()
        words, log, _where = STATS[key]
        if matrix.size:
            finite = matrix[np.isfinite(matrix)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            if key == "dead_fraction":
                lo, hi = 0.0, 1.0
            if hi <= lo:
                hi = lo + 1e-6
            x0, x1 = float(grid[0]), float(grid[-1]) if len(grid) > 1 else float(grid[0]) + 1
            self.image.setImage(np.nan_to_num(matrix, nan=lo), levels=(lo, hi))
            self.image.setRect(x0, 0, max(x1 - x0, 1e-9), len(names))
            self.colorbar.setLevels((lo, hi))
            step, values = linear_ticks(lo, hi, 6)  # the same plain numbers as the axes (never "-0")
            self.colorbar_ticks = [(v, tick_text(v, step)) for v in values]
            self.colorbar.getAxis("right").setTicks([self.colorbar_ticks, []])
            self.strips.getAxis("left").setTicks([[(i + 0.5, n) for i, n in enumerate(names)]])
            self.strips.setLabel("top", ("log₁₀ " if log else "") + words)
            self.strips.setXRange(x0, x1, padding=0)
            self.strips.setYRange(0, len(names), padding=0)
        steps = np.asarray([s.step for s in self.samples], dtype=float)
        totals = np.asarray([s.total_grad_norm for s in self.samples], dtype=float)
        ok = np.isfinite(totals) & (totals > 0)
        self.norm_curve.setData(steps[ok], totals[ok])
        if self.epochs:
            at, train, val = (np.asarray(col, dtype=float) for col in zip(*self.epochs))
            for curve, values in ((self.train_curve, train), (self.val_curve, val)):
                keep = np.isfinite(at) & np.isfinite(values)
                curve.setData(at[keep], values[keep])
        if self.samples:
            last = self.samples[-1]
            self.title.setText(f"{self._head} · {len(self.samples)} samples, the last at step {last.step} "
                               f"(epoch {last.epoch})")

    def _apply_colors(self) -> None:
        colors = PlotColors(self.palette())
        colors.apply_global()
        self.glw.setBackground(colors.background)
        for plot in (self.strips, self.norms, self.losses):
            style_axes(plot, colors)
        self.norm_curve.setPen(pg.mkPen(colors.role("train"), width=1.5))
        for curve, role in ((self.train_curve, "train"), (self.val_curve, "val")):
            curve.setPen(pg.mkPen(colors.role(role), width=1.5))
            curve.setSymbolPen(pg.mkPen(colors.role(role)))
            curve.setSymbolBrush(colors.role(role))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._apply_colors()


class DecadeAxis(PlainAxis):
    """A log axis with ticks at 1, 2 and 5 times each power of ten (or decades only, when it spans
    several): at a strip's height pyqtgraph's every-integer minor labels (0.02, 0.03, ... 0.9)
    print over each other."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802, N803 (pyqtgraph's names)
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        decades = [(spacing, values) for spacing, values in ticks if spacing is not None and len(values)]
        if decades:
            return decades
        kept = [(spacing, [v for v in values if round(10 ** (v - math.floor(v))) in (1, 2, 5)])
                for spacing, values in ticks]
        return kept if any(values for _s, values in kept) else ticks


def epoch_point(step: float, logs: dict) -> tuple[float, float, float]:
    """(step, train loss, val loss) of one epoch's logs; NaN where a value is missing."""
    def value(key):
        v = logs.get(key)
        return float(v) if isinstance(v, (int, float)) else math.nan

    return float(step), value("loss"), value("val_loss")


def alert_summary(alerts: list[HealthAlert]) -> str:
    """'2 alerts: dead units, exploding gradients' (for a status line); '' when none."""
    if not alerts:
        return ""
    kinds = list(dict.fromkeys(a.kind.replace("_", " ") for a in alerts))
    return f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}: {', '.join(kinds)}"
