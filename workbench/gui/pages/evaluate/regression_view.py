"""How a regression errs, in the target's own units: predicted against actual with the y = x
line, residuals against predicted, a residual histogram, MAE/RMSE/R²/MAPE and the worst rows."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.evaluation import (
    Preprocessing,
    SplitPredictions,
    format_value,
    regression_metrics,
    residuals,
    sample_label,
    worst_rows,
)
from workbench.gui.pages.evaluate.plots import plot_colors, themed_plot, units_axes

__all__ = ["RegressionView", "WORST_ROWS"]

WORST_ROWS = 50
MAX_POINTS = 20_000  # scatter points drawn (a seeded sample beyond this)


class RegressionView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.metrics_label = QLabel(objectName="regressionMetrics")
        self.metrics_label.setTextFormat(Qt.TextFormat.RichText)
        self.metrics_label.setWordWrap(True)
        self.target_combo = QComboBox(objectName="regressionTarget")
        self.scatter = themed_plot("predictedVsActual", "Predicted against actual", "actual", "predicted")
        self.residual_plot = themed_plot("residualPlot", "Residuals", "predicted", "actual − predicted")
        self.histogram = themed_plot("residualHistogram", "Residual histogram", "actual − predicted", "rows")
        for plot in (self.scatter, self.residual_plot):
            units_axes(plot)
        units_axes(self.histogram, ("bottom",))
        self.worst = QStandardItemModel(0, 4, self)
        self.worst_table = QTableView(objectName="worstRows")
        self.worst_table.setModel(self.worst)
        self.worst_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.worst_table.verticalHeader().setVisible(False)
        self.worst_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        top = QHBoxLayout()
        top.addWidget(self.metrics_label, 1)
        self.target_label = QLabel("Target")
        top.addWidget(self.target_label)
        top.addWidget(self.target_combo)
        plots = QWidget()
        row = QHBoxLayout(plots)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.scatter, self.residual_plot, self.histogram):
            row.addWidget(w)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(plots)
        worst_box = QWidget()
        wl = QVBoxLayout(worst_box)
        wl.setContentsMargins(0, 0, 0, 0)
        wl.addWidget(QLabel(f"The {WORST_ROWS} rows with the largest errors"))
        wl.addWidget(self.worst_table)
        split.addWidget(worst_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([600, 400])  # room for several worst rows, not only the plots' size hints
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self._sp: SplitPredictions | None = None
        self._columns: list = []  # Preprocessing.input_blocks()
        self.target_combo.currentIndexChanged.connect(lambda _: self._draw())

    def set_predictions(self, sp: SplitPredictions, columns: list) -> None:
        """`columns`: the run's Preprocessing.input_blocks() (the worst rows show their values)."""
        self._sp, self._columns = sp, list(columns)
        names = sp.target_names or ["target"]
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        self.target_combo.addItems(names)
        self.target_combo.blockSignals(False)
        self.target_combo.setVisible(len(names) > 1)
        self.target_label.setVisible(len(names) > 1)
        self._draw()

    def _draw(self) -> None:
        sp = self._sp
        if sp is None or not len(sp):
            return
        col = max(0, self.target_combo.currentIndex())
        y = np.asarray(sp.y_true, dtype=np.float64).reshape(len(sp), -1)[:, col]
        p = sp.predictions[:, col]
        r = residuals(sp.y_true, sp.predictions)[:, col]
        m = regression_metrics(y, p)
        unit = sp.target_names[col] if sp.target_names else "target"
        mape = f"{100 * m.mape:.2f} %" if m.mape is not None else "– (a target is zero)"
        self.metrics_label.setText(
            f"<b>{sp.split}</b>, {len(sp)} rows, in units of <b>{unit}</b>: MAE <b>{format_value(m.mae)}</b> · RMSE "
            f"<b>{format_value(m.rmse)}</b> · R² <b>{format_value(m.r2)}</b> · MAPE <b>{mape}</b>")
        idx = np.arange(len(y))
        if len(idx) > MAX_POINTS:
            idx = np.sort(np.random.default_rng(0).choice(len(idx), MAX_POINTS, replace=False))
        brush = pg.mkBrush(31, 119, 180, 140)
        for w in (self.scatter, self.residual_plot, self.histogram):
            w.getPlotItem().clear()
        lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
        fg = plot_colors().foreground
        self.scatter.getPlotItem().addItem(pg.PlotDataItem([lo, hi], [lo, hi], pen=pg.mkPen(fg, style=Qt.PenStyle.DashLine)))
        self.scatter.getPlotItem().addItem(pg.ScatterPlotItem(y[idx], p[idx], size=5, pen=None, brush=brush))
        self.residual_plot.getPlotItem().addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen(fg, style=Qt.PenStyle.DashLine)))
        self.residual_plot.getPlotItem().addItem(pg.ScatterPlotItem(p[idx], r[idx], size=5, pen=None, brush=brush))
        counts, edges = np.histogram(r, bins=min(40, max(5, len(r) // 5)))
        self.histogram.getPlotItem().addItem(pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=counts,
                                                             brush=pg.mkBrush(127, 127, 127, 170)))
        self._fill_worst(y, p, col)

    def _fill_worst(self, y: np.ndarray, p: np.ndarray, col: int) -> None:
        sp = self._sp
        show_features = sp.inputs is not None and sp.inputs.ndim == 2
        columns = self._columns[:20] if show_features else []
        self.worst.clear()
        self.worst.setHorizontalHeaderLabels(["where", "actual", "predicted", "residual", *[c[0] for c in columns]])
        for i in worst_rows(sp.y_true, sp.predictions, WORST_ROWS, column=col):
            cells = [sample_label(sp, int(i)), format_value(y[i]), format_value(p[i]), format_value(y[i] - p[i])]
            for column in columns:
                value = Preprocessing.block_value(column, sp.inputs[i])
                cells.append(value if isinstance(value, str) else format_value(value))
            items = []
            for k, text in enumerate(cells):
                it = QStandardItem(text)
                if k:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                items.append(it)
            self.worst.appendRow(items)
