"""Repeated runs as mean ± std bands: one colour per group, epochs on x, and a sentence saying
whether the two best groups differ by more than their seed noise."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.core.catalog import metric_direction
from workbench.core.runs import Group, compare_groups, group_stats, metric_keys, per_run_values

from .palette import PlotColors, style_axes
from .trial_axes import plain_numbers

class BandCurves(QWidget):
    """Mean ± std of a chosen metric over the runs of each group.

    `set_groups([Group(label, runs)])`, each run a list of epoch logs; `set_key("val_loss")`
    picks the metric (the combo lists the keys found). `comparison` is the latest
    core.repeats.Comparison (None with fewer than two groups).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._groups: list[Group] = []
        self._key: str | None = None
        self._items: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem, pg.PlotDataItem, pg.FillBetweenItem]] = {}
        self._run_items: list[pg.PlotDataItem] = []
        self.comparison = None

        self.key_combo = QComboBox()
        self.key_combo.setObjectName("bandCurvesKey")
        self.key_combo.setToolTip("Which logged metric to plot")
        self.key_combo.currentIndexChanged.connect(self._key_picked)
        self.show_runs = QCheckBox("Show each run")
        self.show_runs.setObjectName("bandCurvesShowRuns")
        self.show_runs.toggled.connect(self._draw)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Metric:"))
        controls.addWidget(self.key_combo)
        controls.addWidget(self.show_runs)
        controls.addStretch(1)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setObjectName("bandCurvesPlot")
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setLabel("bottom", "epoch")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.verdict = QLabel()
        self.verdict.setObjectName("bandCurvesVerdict")
        self.verdict.setWordWrap(True)
        for name in ("left", "bottom"):
            plain_numbers(self.plot.getAxis(name))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.verdict)
        self._apply_colors()

    @property
    def key(self) -> str | None:
        return self._key

    def set_groups(self, groups: Sequence[Group]) -> None:
        self._groups = list(groups)
        keys = metric_keys([run for g in self._groups for run in g.runs])
        self.key_combo.blockSignals(True)
        self.key_combo.clear()
        self.key_combo.addItems(keys)
        if self._key in keys:
            self.key_combo.setCurrentText(self._key)
        elif keys:
            self._key = keys[0]
        else:
            self._key = None
        self.key_combo.blockSignals(False)
        self._draw()

    def set_key(self, key: str) -> None:
        self._key = key
        if self.key_combo.findText(key) >= 0:
            self.key_combo.setCurrentText(key)
        self._draw()

    def band(self, label: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(epochs, mean, lower, upper) as drawn for one group."""
        mean_item, lower, upper, _ = self._items[label]
        x, mean = mean_item.getData()
        return x, mean, lower.getData()[1], upper.getData()[1]

    def _key_picked(self, _index: int) -> None:
        self._key = self.key_combo.currentText() or None
        self._draw()

    def _draw(self) -> None:
        for mean_item, lower, upper, fill in self._items.values():
            for item in (fill, lower, upper, mean_item):
                self.plot.removeItem(item)
        for item in self._run_items:
            self.plot.removeItem(item)
        self._items, self._run_items = {}, []
        self.legend.clear()
        key = self._key
        self.plot.setLabel("left", key or "")
        if key is None:
            self.verdict.setText("No runs to show" if not self._groups else "The runs logged no metrics")
            self.comparison = None
            return
        colors = self._colors
        palette = colors.overlay_colors(len(self._groups))
        for group, color in zip(self._groups, palette):
            epochs, mean, std, n = group_stats(group.runs, key)
            if self.show_runs.isChecked():
                for run in group.runs:
                    pts = [(l.get("epoch", i + 1), l[key]) for i, l in enumerate(run) if l.get(key) is not None]
                    if pts:
                        item = pg.PlotDataItem(*zip(*pts), pen=pg.mkPen(colors.faint(color, 90), width=1))
                        self.plot.addItem(item)
                        self._run_items.append(item)
            lower = pg.PlotDataItem(epochs, mean - std, pen=pg.mkPen(colors.faint(color, 110), width=1))
            upper = pg.PlotDataItem(epochs, mean + std, pen=pg.mkPen(colors.faint(color, 110), width=1))
            fill = pg.FillBetweenItem(lower, upper, brush=pg.mkBrush(colors.faint(color, 70)))
            seeds = int(n.max()) if len(n) else 0
            mean_item = pg.PlotDataItem(epochs, mean, pen=pg.mkPen(color, width=2.2),
                                        name=f"{group.label} ({seeds} seed{'s' if seeds != 1 else ''})")
            for z, item in enumerate((fill, lower, upper, mean_item)):
                item.setZValue(10 + z)
                self.plot.addItem(item)
            self._items[group.label] = (mean_item, lower, upper, fill)
        self._update_verdict(key)

    def _update_verdict(self, key: str) -> None:
        maximize = metric_direction(key) == "max"
        scored = []
        for g in self._groups:
            values = per_run_values(g.runs, key, higher_is_better=maximize)
            if values:
                scored.append((float(np.mean(values)), g.label, values))
        if len(scored) < 2:
            self.comparison = None
            self.verdict.setText("Add a second group to compare against seed noise" if scored else "")
            return
        scored.sort(key=lambda s: -s[0] if maximize else s[0])
        (_, la, va), (_, lb, vb) = scored[0], scored[1]
        self.comparison = compare_groups(va, vb, higher_is_better=maximize, labels=(la, lb))
        best = "highest" if maximize else "lowest"
        self.verdict.setText(f"Best {key} per seed ({best} is better): {self.comparison.text}")

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()

    def _apply_colors(self) -> None:
        self._colors = PlotColors(self.palette())
        self.plot_widget.setBackground(self._colors.background)
        style_axes(self.plot, self._colors)
        self.legend.setLabelTextColor(self._colors.foreground)
        self.legend.setBrush(self._colors.legend_brush())
        self._draw()
