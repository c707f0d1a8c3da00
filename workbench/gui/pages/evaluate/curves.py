"""ROC and precision-recall curves, one-vs-rest per class, with the AUC / average precision in
the legend and macro and micro averages. With two classes, the operating point of the decision
threshold sits on both curves and can be dragged along them (the threshold follows)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.core.evaluation import Curve, OneVsRest, threshold_point
from workbench.gui.pages.evaluate.plots import plot_colors, themed_legend, themed_plot
from workbench.gui.widgets.class_colors import class_color

__all__ = ["MAX_CLASS_CURVES", "CurvesView", "macro_pr", "macro_roc"]

MAX_CLASS_CURVES = 10  # more classes: only the averages are drawn
GRID = np.linspace(0.0, 1.0, 201)


def _fmt(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{v:.3f}"


def macro_roc(curves: list[Curve]) -> tuple[np.ndarray, np.ndarray]:
    """The mean true positive rate over classes at common false positive rates (classes whose
    ROC is defined), for drawing the macro-average curve."""
    tprs = [np.interp(GRID, c.x, c.y) for c in curves if math.isfinite(c.area)]
    if not tprs:
        return np.zeros(0), np.zeros(0)
    return GRID, np.mean(tprs, axis=0)


def macro_pr(curves: list[Curve]) -> tuple[np.ndarray, np.ndarray]:
    """The mean interpolated precision over classes (at each recall, the best precision at that
    recall or more, as the PASCAL VOC curves draw it), for drawing the macro-average PR curve."""
    precisions = []
    for c in curves:
        if not math.isfinite(c.area):
            continue
        best_from_here = np.maximum.accumulate(c.y[::-1])[::-1]
        at = np.minimum(np.searchsorted(c.x, GRID, side="left"), len(c.x) - 1)
        precisions.append(best_from_here[at])
    if not precisions:
        return np.zeros(0), np.zeros(0)
    return GRID, np.mean(precisions, axis=0)


def _curve_plot(title: str, x_label: str, y_label: str, name: str) -> pg.PlotWidget:
    widget = themed_plot(name, title, x_label, y_label, still=True)
    item = widget.getPlotItem()
    item.setXRange(0, 1, padding=0.02)
    item.setYRange(0, 1.02, padding=0.02)
    # in the empty corner: ROC curves climb the top-left, PR curves run along the top
    widget.legend = themed_legend(widget, offset=(-8, -8) if "ROC" in title else (8, -8))
    return widget


def _clear(widget: pg.PlotWidget) -> None:
    widget.getPlotItem().clear()
    widget.legend.clear()


class CurvesView(QWidget):
    """`set_curves(ovr, names, threshold)`; emits `threshold_changed(float)` while the operating
    point is dragged (two classes)."""

    threshold_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.roc = _curve_plot("ROC (one class against the rest)", "false positive rate", "true positive rate",
                              "rocPlot")
        self.pr = _curve_plot("Precision-recall", "recall", "precision", "prPlot")
        self.caption = QLabel(objectName="curvesCaption")
        self.caption.setWordWrap(True)
        plots = QHBoxLayout()
        plots.addWidget(self.roc)
        plots.addWidget(self.pr)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(plots, 1)
        layout.addWidget(self.caption)
        self._ovr: OneVsRest | None = None
        self._binary = False
        self.roc_point: pg.TargetItem | None = None
        self.pr_point: pg.TargetItem | None = None
        self._moving = False

    def set_curves(self, ovr: OneVsRest, names: list[str], threshold: float | None = None) -> None:
        self._ovr = ovr
        self._binary = len(names) == 2
        _clear(self.roc)
        _clear(self.pr)
        self.roc_point = self.pr_point = None
        diag = pg.PlotDataItem([0, 1], [0, 1], pen=pg.mkPen((150, 150, 150), width=1, style=Qt.PenStyle.DashLine))
        self.roc.getPlotItem().addItem(diag)
        shown = [1] if self._binary else (range(len(names)) if len(names) <= MAX_CLASS_CURVES else [])
        for c in shown:
            pen = pg.mkPen(class_color(c), width=2)
            r, p = ovr.roc[c], ovr.pr[c]
            if math.isfinite(r.area):
                self.roc.getPlotItem().plot(r.x, r.y, pen=pen, name=f"{names[c]} (AUC {_fmt(r.area)})")
            if math.isfinite(p.area):
                self.pr.getPlotItem().plot(p.x, p.y, pen=pen, name=f"{names[c]} (AP {_fmt(p.area)})", stepMode=None)
        if not self._binary:
            mx, my = macro_roc(ovr.roc)
            fg = plot_colors().foreground
            if len(mx):
                self.roc.getPlotItem().plot(mx, my, pen=pg.mkPen(fg, width=2, style=Qt.PenStyle.DashLine),
                                        name=f"macro avg (AUC {_fmt(ovr.roc_auc_macro)})")
            self.roc.getPlotItem().plot(ovr.roc_micro.x, ovr.roc_micro.y,
                                    pen=pg.mkPen(fg, width=2, style=Qt.PenStyle.DotLine),
                                    name=f"micro avg (AUC {_fmt(ovr.roc_micro.area)})")
            px, py = macro_pr(ovr.pr)
            if len(px):
                self.pr.getPlotItem().plot(px, py, pen=pg.mkPen(fg, width=2, style=Qt.PenStyle.DashLine),
                                           name=f"macro avg (AP {_fmt(ovr.average_precision_macro)})")
            self.pr.getPlotItem().plot(ovr.pr_micro.x, ovr.pr_micro.y, pen=pg.mkPen(fg, width=2, style=Qt.PenStyle.DotLine),
                                   name=f"micro avg (AP {_fmt(ovr.pr_micro.area)})")
        text = (f"macro ROC AUC {_fmt(ovr.roc_auc_macro)} · micro {_fmt(ovr.roc_micro.area)} · macro average precision "
                f"{_fmt(ovr.average_precision_macro)} · micro {_fmt(ovr.pr_micro.area)}")
        if len(names) > MAX_CLASS_CURVES:
            text += f" · {len(names)} classes: per-class values are in the Classes tab"
        if self._binary:
            text = (f"class '{names[1]}' against '{names[0]}': ROC AUC {_fmt(ovr.roc[1].area)}, average precision "
                    f"{_fmt(ovr.pr[1].area)}. Drag the point along a curve to move the decision threshold.")
            self._add_points()
            self.set_threshold(0.5 if threshold is None else threshold)
        self.caption.setText(text)

    def _add_points(self) -> None:
        for plot, attr in ((self.roc, "roc_point"), (self.pr, "pr_point")):
            point = pg.TargetItem(pos=(0, 0), size=14, movable=True, pen=pg.mkPen("k", width=2),
                                  brush=pg.mkBrush(255, 215, 0, 220), hoverBrush=pg.mkBrush(255, 235, 90, 255))
            point.setZValue(10)
            point.sigPositionChanged.connect(lambda item, curve=attr: self._dragged(item, curve))
            point.sigPositionChangeFinished.connect(lambda _item: self._snap())
            plot.getPlotItem().addItem(point)
            setattr(self, attr, point)

    def _curves(self) -> tuple[Curve, Curve]:
        return self._ovr.roc[1], self._ovr.pr[1]

    def set_threshold(self, threshold: float) -> None:
        """Put the operating points where predicting class 1 at p >= threshold lands."""
        if not self._binary or self._ovr is None or self.roc_point is None:
            return
        roc, pr = self._curves()
        self._moving = True
        try:
            if len(roc.thresholds):
                i = threshold_point(roc, threshold)
                self.roc_point.setPos(float(roc.x[i]), float(roc.y[i]))
            if len(pr.thresholds):
                j = threshold_point(pr, threshold)
                self.pr_point.setPos(float(pr.x[j]), float(pr.y[j]))
        finally:
            self._moving = False
        self._threshold = threshold

    def _dragged(self, item: pg.TargetItem, which: str) -> None:
        if self._moving or self._ovr is None:
            return
        curve = self._curves()[0 if which == "roc_point" else 1]
        if not len(curve.thresholds):
            return
        pos = item.pos()
        d = (curve.x - pos.x()) ** 2 + (curve.y - pos.y()) ** 2
        i = int(np.nanargmin(np.where(np.isfinite(d), d, np.inf)))
        thr = float(curve.thresholds[i])
        if not math.isfinite(thr):  # the (0, 0) / (0, 1) end: nothing predicted positive
            thr = float(np.nextafter(curve.thresholds[1], np.inf)) if len(curve.thresholds) > 1 else 1.0
        thr = min(max(thr, 0.0), 1.0)
        self._threshold = thr
        self.threshold_changed.emit(thr)

    def _snap(self) -> None:
        self.set_threshold(getattr(self, "_threshold", 0.5))
