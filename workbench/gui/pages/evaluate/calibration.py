"""Calibration: a reliability diagram of the top-label confidence (how often the model is right
when it says p) with the expected calibration error, and how many samples fall in each bin."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workbench.core.evaluation import Reliability
from workbench.gui.pages.evaluate.plots import themed_plot

__all__ = ["CalibrationView"]


class CalibrationView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.diagram = themed_plot("reliabilityPlot", "Reliability diagram", y="fraction correct", still=True)
        self.histogram = themed_plot("confidenceHistogram", y="samples", still=True)
        for widget in (self.diagram, self.histogram):
            widget.getPlotItem().setXRange(0, 1, padding=0.02)
        self.diagram.getPlotItem().setYRange(0, 1, padding=0.02)
        self.histogram.getPlotItem().setLabel("bottom", "confidence (probability of the predicted class)")
        self.histogram.setXLink(self.diagram)
        self.histogram.setMaximumHeight(170)
        self.caption = QLabel(objectName="calibrationCaption")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.diagram, 3)
        layout.addWidget(self.histogram, 1)
        layout.addWidget(self.caption)

    def set_reliability(self, rel: Reliability) -> None:
        d, h = self.diagram.getPlotItem(), self.histogram.getPlotItem()
        d.clear()
        h.clear()
        width = float(rel.edges[1] - rel.edges[0]) if len(rel.edges) > 1 else 0.1
        centers = (rel.edges[rel.bins] + width / 2) if len(rel.bins) else np.zeros(0)
        d.addItem(pg.PlotDataItem([0, 1], [0, 1], pen=pg.mkPen((150, 150, 150), style=Qt.PenStyle.DashLine)))
        if len(centers):
            d.addItem(pg.BarGraphItem(x=centers, height=rel.observed, width=width * 0.9,
                                      brush=pg.mkBrush(31, 119, 180, 160), pen=pg.mkPen(31, 119, 180)))
            # the gap to the diagonal: what the model claimed in each bin
            d.addItem(pg.ScatterPlotItem(rel.predicted, rel.observed, symbol="o", size=7,
                                         brush=pg.mkBrush(214, 39, 40), pen=pg.mkPen("w")))
            h.addItem(pg.BarGraphItem(x=centers, height=rel.counts, width=width * 0.9,
                                      brush=pg.mkBrush(127, 127, 127, 160)))
        ece = "–" if not math.isfinite(rel.ece) else f"{rel.ece:.3f}"
        self.caption.setText(
            f"Expected calibration error (ECE) {ece}: the sample-weighted gap between confidence and accuracy over "
            f"{len(rel.edges) - 1} equal bins. Bars: how often the model was right in each bin; red dots: the mean "
            "confidence it claimed there. A calibrated model's bars reach the diagonal.")
