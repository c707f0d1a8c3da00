"""Hyperparameter importance as horizontal bars, most important on top."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QStackedLayout, QVBoxLayout, QWidget

from workbench.core.sweep import ImportanceError, estimate_importance

from .palette import PlotColors, style_axes
from .trial_axes import plain_numbers


class ImportanceChart(QWidget):
    """Bars of importance per parameter (shares summing to 1).

    `set_trials(trials, study=None, direction=...)` computes them (core.sweep.estimate_importance;
    the caption names the method and says when the estimate is rough); `set_importances(dict)`
    shows given scores; `set_message(text)` replaces the chart with a sentence (e.g. "needs at
    least 3 finished trials").
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._scores: dict[str, float] = {}
        self._method = ""
        self._note = ""
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setObjectName("importancePlot")
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setLabel("bottom", "share of the metric's variation (%)")
        for name in ("left", "bottom"):
            plain_numbers(self.plot.getAxis(name))
        self._bars: pg.BarGraphItem | None = None
        self._texts: list[pg.TextItem] = []

        self.message = QLabel()
        self.message.setObjectName("importanceMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.caption = QLabel()
        self.caption.setObjectName("importanceCaption")
        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(self.plot_widget, 1)
        page_layout.addWidget(self.caption)
        self._stack = QStackedLayout()
        self._stack.addWidget(page)
        self._stack.addWidget(self.message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._stack)
        self._apply_colors()
        self.set_message("Importance needs at least 3 finished trials")

    @property
    def importances(self) -> dict[str, float]:
        return dict(self._scores)

    @property
    def showing_message(self) -> bool:
        return self._stack.currentIndex() == 1

    @property
    def note(self) -> str:
        """Why the shown estimate is rough ("" when it is not)."""
        return self._note

    def set_trials(self, trials: Sequence[dict], study: Any = None, direction: str = "minimize") -> None:
        try:
            result = estimate_importance(trials, study, direction=direction)
        except ImportanceError as exc:
            self.set_message(f"Importance {exc}")
            return
        self.set_importances(result.scores, method=result.method, note=result.note)

    def set_message(self, text: str) -> None:
        self._scores = {}
        self.message.setText(text)
        self._stack.setCurrentIndex(1)

    def set_importances(self, scores: Mapping[str, float], *, method: str = "", note: str = "") -> None:
        self._scores = dict(sorted(scores.items(), key=lambda kv: -kv[1]))
        self._method = method
        self._note = note
        if not self._scores:
            self.set_message("No parameters to rank")
            return
        self._stack.setCurrentIndex(0)
        self._draw()

    def _draw(self) -> None:
        colors = self._colors
        for item in [self._bars, *self._texts]:
            if item is not None:
                self.plot.removeItem(item)
        self._texts = []
        names = list(self._scores)
        values = 100.0 * np.array([self._scores[n] for n in names], dtype=float)
        y = np.arange(len(names))[::-1].astype(float)  # most important on top
        self._bars = pg.BarGraphItem(x0=np.zeros(len(names)), y=y, height=0.6, width=values,
                                     brush=pg.mkBrush(colors.role("train")), pen=pg.mkPen(None))
        self.plot.addItem(self._bars)
        for name, v, yy in zip(names, values, y):
            text = pg.TextItem(f"{v:.0f} %", color=colors.foreground, anchor=(0, 0.5))
            text.setPos(v, yy)
            self.plot.addItem(text)
            self._texts.append(text)
        left = self.plot.getAxis("left")
        left.setTicks([[(float(yy), n) for n, yy in zip(names, y)], []])
        # The axis would only grow to fit its labels on the paint after next; size it now.
        left.setWidth(QFontMetrics(left.font()).horizontalAdvance(max(names, key=len)) + 18)
        self.plot.setYRange(-0.6, len(names) - 0.4, padding=0)
        self.plot.setXRange(0, max(float(values.max()), 5.0) * 1.15, padding=0)
        parts = [f"Method: {self._method}" if self._method else "", self._note]
        self.caption.setText(" · ".join(p for p in parts if p))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()

    def _apply_colors(self) -> None:
        self._colors = PlotColors(self.palette())
        self.plot_widget.setBackground(self._colors.background)
        style_axes(self.plot, self._colors)
        if self._scores:
            self._draw()
