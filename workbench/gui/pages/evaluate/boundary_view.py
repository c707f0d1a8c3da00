"""What the model learned over its input space: predicted class (colour) and confidence (shade)
over a plane, with train and test points on top (TensorFlow Playground's picture, for any loss,
any number of classes and the person's own data); a value map for a regression; curves along the
input for a one-input model. The plane is the model's two inputs, two chosen features with the
others at their median (or most frequent value), or the PCA plane of the training inputs."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.core.evaluation import format_value
from workbench.gui.pages.evaluate.plots import plot_colors, themed_legend, themed_plot
from workbench.gui.plots.palette import PlotColors
from workbench.gui.widgets.class_colors import class_rgb

__all__ = ["BoundaryView", "grid_image", "VIEW_DEFAULT", "VIEW_PCA", "VIEW_FEATURES"]

VIEW_DEFAULT, VIEW_PCA, VIEW_FEATURES = "The model's inputs", "PCA plane of the inputs", "Two features"


def grid_image(grid: dict, background: QColor) -> np.ndarray:
    """(ny, nx, 3) uint8: each cell in its predicted class's colour, faded toward the background
    where the model is unsure (classification), or a viridis map of the value (regression)."""
    ny, nx = int(grid["ny"]), int(grid["nx"])
    if grid.get("task") == "classification":
        classes = np.asarray(grid["classes"], dtype=np.int64).reshape(ny, nx)
        conf = np.asarray(grid["confidence"], dtype=np.float64).reshape(ny, nx)
        k = max(2, len(grid.get("class_names") or []) or int(classes.max()) + 1)
        strength = np.clip((conf - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
        alpha = (0.1 + 0.45 * strength)[..., None]  # lighter than the points drawn on top
        palette = np.array([class_rgb(i) for i in range(max(k, int(classes.max()) + 1))], dtype=np.float64)
        bg = np.array([background.red(), background.green(), background.blue()], dtype=np.float64)
        return (palette[classes] * alpha + bg * (1 - alpha)).astype(np.uint8)
    values = np.asarray(grid["values"], dtype=np.float64).reshape(ny, nx)
    lo, hi = np.nanmin(values), np.nanmax(values)
    scaled = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    return pg.colormap.get("viridis").map(scaled, mode="byte")[..., :3]


class BoundaryView(QWidget):
    """`set_grid(dict)` draws a grid from core.evaluation.grid_snapshot; `set_choices(...)` fills
    the view choices; `view_requested(method, i, j)` asks the page for another plane."""

    view_requested = Signal(str, int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view_combo = QComboBox(objectName="boundaryView")
        self.x_combo = QComboBox(objectName="boundaryX")
        self.y_combo = QComboBox(objectName="boundaryY")
        self.train_box = QCheckBox("train points", objectName="boundaryTrain", checked=True)
        self.test_box = QCheckBox("test points", objectName="boundaryTest", checked=True)
        self.plot_widget = themed_plot("boundaryPlot", grid=False)
        self.plot = self.plot_widget.getPlotItem()
        self.legend = themed_legend(self.plot_widget)
        self.status = QLabel(objectName="boundaryStatus")
        self.status.setWordWrap(True)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Plane"))
        controls.addWidget(self.view_combo)
        self.x_label, self.y_label = QLabel("x"), QLabel("y")
        for w in (self.x_label, self.x_combo, self.y_label, self.y_combo):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.train_box)
        controls.addWidget(self.test_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.status)
        self.grid: dict | None = None
        self._numeric: list[int] = []
        self.view_combo.currentTextChanged.connect(self._view_changed)
        self.x_combo.currentIndexChanged.connect(lambda _: self._features_changed())
        self.y_combo.currentIndexChanged.connect(lambda _: self._features_changed())
        self.train_box.toggled.connect(lambda _: self._draw())
        self.test_box.toggled.connect(lambda _: self._draw())
        self._show_feature_combos(False)

    # ---- choices -------------------------------------------------------------------------------
    def set_choices(self, feature_names: list[str], numeric: list[int], tabular: bool) -> None:
        """The planes this run offers: its inputs (two, or one), the PCA plane, two features."""
        self._numeric = list(numeric)
        for combo in (self.view_combo, self.x_combo, self.y_combo):
            combo.blockSignals(True)
            combo.clear()
        n = len(feature_names)
        views = []
        if tabular and n <= 2:
            views.append(VIEW_DEFAULT)
        if n != 1:
            views.append(VIEW_PCA)
        if tabular and len(numeric) >= 2 and n > 2:
            # numbers mixed with categories: two real columns first (core's default plane too)
            views.insert(0 if len(numeric) < n else len(views), VIEW_FEATURES)
        self.view_combo.addItems(views)
        for i in numeric:
            self.x_combo.addItem(feature_names[i], i)
            self.y_combo.addItem(feature_names[i], i)
        if len(numeric) >= 2:
            self.y_combo.setCurrentIndex(1)
        for combo in (self.view_combo, self.x_combo, self.y_combo):
            combo.blockSignals(False)
        self._show_feature_combos(self.view_combo.currentText() == VIEW_FEATURES)

    def select_view_for(self, grid: dict) -> None:
        """Show, in the choices, the plane a (live) grid was computed on, without asking for it."""
        method = grid.get("method")
        text = VIEW_PCA if method == "pca" else VIEW_DEFAULT
        if method == "features" and self.view_combo.findText(VIEW_DEFAULT) < 0:
            text = VIEW_FEATURES
        for w in (self.view_combo, self.x_combo, self.y_combo):
            w.blockSignals(True)
        if self.view_combo.findText(text) >= 0:
            self.view_combo.setCurrentText(text)
        features = grid.get("features") or []
        if text == VIEW_FEATURES and len(features) == 2:
            self.x_combo.setCurrentIndex(max(0, self.x_combo.findData(features[0])))
            self.y_combo.setCurrentIndex(max(0, self.y_combo.findData(features[1])))
        for w in (self.view_combo, self.x_combo, self.y_combo):
            w.blockSignals(False)
        self._show_feature_combos(self.view_combo.currentText() == VIEW_FEATURES)

    def requested_view(self) -> tuple[str, int, int]:
        text = self.view_combo.currentText()
        method = {VIEW_PCA: "pca", VIEW_FEATURES: "features"}.get(text, "default")
        return method, int(self.x_combo.currentData() or 0), int(self.y_combo.currentData() or 0)

    def _show_feature_combos(self, on: bool) -> None:
        for w in (self.x_label, self.x_combo, self.y_label, self.y_combo):
            w.setVisible(on)

    def _view_changed(self, text: str) -> None:
        self._show_feature_combos(text == VIEW_FEATURES)
        self.view_requested.emit(*self.requested_view())

    def _features_changed(self) -> None:
        if self.view_combo.currentText() == VIEW_FEATURES:
            self.view_requested.emit(*self.requested_view())

    # ---- drawing -------------------------------------------------------------------------------
    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def set_grid(self, grid: dict | None, status: str = "") -> None:
        self.grid = grid
        if status:
            self.status.setText(status)
        self._draw()

    def _draw(self) -> None:
        self.plot.clear()
        self.legend.clear()
        g = self.grid
        if not g:
            return
        colors = plot_colors()
        x0, x1 = g["x_range"]
        self.plot.setLabel("bottom", g["x_name"])
        names = g.get("class_names") or []
        points = g.get("points") or {}
        if int(g["ny"]) == 1:
            self._draw_line(g, names, points, colors)
            return
        y0, y1 = g["y_range"]
        self.plot.setLabel("left", g["y_name"])
        image = pg.ImageItem(np.ascontiguousarray(np.transpose(grid_image(g, colors.background), (1, 0, 2))),
                             levels=(0, 255))  # the colours as computed, not stretched
        image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        image.setZValue(-10)
        self.plot.addItem(image)
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        shown = [(s, sym) for s, sym, box in (("train", "o", self.train_box), ("test", "t", self.test_box))
                 if box.isChecked() and s in points]
        classification = g.get("task") == "classification"
        if not classification:
            values = np.asarray(g["values"], dtype=np.float64)
            lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
            cmap = pg.colormap.get("viridis")
        seen: set[int] = set()
        for split, symbol in shown:
            u, v, labels = (np.asarray(a, dtype=np.float64) for a in points[split])
            if classification:
                for c in np.unique(labels.astype(int)):
                    m = labels.astype(int) == c
                    seen.add(int(c))
                    self.plot.addItem(pg.ScatterPlotItem(
                        u[m], v[m], symbol=symbol, size=7 if split == "train" else 9,
                        brush=pg.mkBrush(*class_rgb(int(c))),
                        pen=pg.mkPen("w" if split == "train" else "k", width=1)))
            else:
                scaled = (labels - lo) / (hi - lo) if hi > lo else np.zeros_like(labels)
                brushes = [pg.mkBrush(*c) for c in cmap.map(np.clip(scaled, 0, 1), mode="byte")]
                self.plot.addItem(pg.ScatterPlotItem(u, v, symbol=symbol, size=7, brush=brushes,
                                                     pen=pg.mkPen("w" if split == "train" else "k")))
        self._legend(shown, names, sorted(seen) if classification else None,
                     None if classification else (lo, hi, g.get("value_name") or "prediction"), colors)

    def _legend(self, shown, names: list[str], classes: list[int] | None, value_range, colors: PlotColors) -> None:
        """One entry per class colour (or the colour scale's ends) and one per point shape, rather
        than one per class and split (20 entries for ten classes)."""
        def key(symbol: str, rgb, pen=None) -> pg.ScatterPlotItem:
            return pg.ScatterPlotItem(symbol=symbol, size=10, brush=pg.mkBrush(*rgb), pen=pen)

        self.legend.setColumnCount(2 if classes is not None and len(classes) > 8 else 1)
        if classes is not None:
            for c in classes:
                self.legend.addItem(key("s", class_rgb(c)), str(names[c]) if c < len(names) else str(c))
        else:
            lo, hi, what = value_range
            cmap = pg.colormap.get("viridis")
            for value, end in ((hi, 1.0), (lo, 0.0)):
                self.legend.addItem(key("s", cmap.map(end, mode="byte")[:3]), f"{what} {format_value(value)}")
        neutral = colors.foreground
        for split, symbol in shown:
            self.legend.addItem(pg.ScatterPlotItem(symbol=symbol, size=8 if split == "train" else 10,
                                                   brush=pg.mkBrush(neutral), pen=None), f"{split} rows")

    def _draw_line(self, g: dict, names: list[str], points: dict, colors: PlotColors) -> None:
        xs = np.linspace(*g["x_range"], int(g["nx"]))
        if g.get("task") == "classification":
            self.plot.setLabel("left", "probability")
            for c, probs in enumerate(g.get("probabilities") or []):
                self.plot.plot(xs, probs, pen=pg.mkPen(QColor(*class_rgb(c)), width=2),
                               name=f"p({names[c] if c < len(names) else c})")
            for split, box in (("train", self.train_box), ("test", self.test_box)):
                if box.isChecked() and split in points:
                    u, _, labels = (np.asarray(a, dtype=np.float64) for a in points[split])
                    for c in np.unique(labels.astype(int)):
                        m = labels.astype(int) == c
                        self.plot.addItem(pg.ScatterPlotItem(u[m], np.full(m.sum(), -0.04 - 0.04 * c), size=6,
                                                             brush=pg.mkBrush(*class_rgb(int(c))), pen=None))
            return
        self.plot.setLabel("left", "predicted value")
        self.plot.plot(xs, g["values"], pen=pg.mkPen(colors.role("train"), width=2), name="prediction")
        for split, box, brush in (("train", self.train_box, (127, 127, 127, 150)),
                                  ("test", self.test_box, (255, 127, 14, 200))):
            if box.isChecked() and split in points:
                u, _, labels = (np.asarray(a, dtype=np.float64) for a in points[split])
                self.plot.addItem(pg.ScatterPlotItem(u, labels, size=5, brush=pg.mkBrush(*brush), pen=None,
                                                     name=f"{split} rows"))
