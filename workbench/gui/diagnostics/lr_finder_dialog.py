"""The learning-rate finder dialog ("Find LR"): the range test runs on the spec's model and data
(the curve grows as it goes), then the smoothed loss against the LR (log axis) with the three
suggestions marked: valley (the default), steepest and minimum / 10. "Apply" sets
optimizer.lr; "Sweep around it…" asks for a sweep over [valley / 10, valley × 10]."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.spec import experiment_name
from workbench.gui.diagnostics.task import DiagnosticTask
from workbench.gui.plots.palette import PlotColors, style_axes
from workbench.gui.wording import for_the_app

REDRAW_MS = 100  # the growing curve redraws at most this often while the test runs
SUGGESTIONS = (  # key, words, role colour, pen style
    ("suggestion", "valley (suggested)", "train", Qt.PenStyle.SolidLine),
    ("steepest", "steepest descent", "val", Qt.PenStyle.DashLine),
    ("minimum", "minimum / 10", "lr", Qt.PenStyle.DotLine),
)


def _fmt(lr: float) -> str:
    """Three significant digits: what Apply sets (two said 'Apply lr = 0.015' and set 0.0148)."""
    return f"{lr:.3g}"


def _run_finder(spec, dataset, base_dir, report):
    from workbench.core.data import prepare
    from workbench.core.diagnostics import find_lr

    data = prepare(dataset, spec.data) if dataset is not None else None
    return find_lr(spec, data=data, base_dir=base_dir,
                   progress=lambda i, n, lr, loss: report((i, n, lr, loss)))


class LRFinderDialog(QDialog):
    """`start()` runs the range test; `result` is the LRFinderResult once done.
    `sweep_requested(space)` carries a SPACE.json mapping for optimizer.lr."""

    sweep_requested = Signal(dict)

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lrFinderDialog")
        self.setWindowTitle("Find the learning rate")
        self.session = session
        self.result = None
        self._tested: tuple[str, str] | None = None  # (experiment name, optimizer) of the test shown
        self._points: list[tuple[float, float]] = []
        session.spec_changed.connect(self._spec_changed)
        self.task = DiagnosticTask("lr-finder", self)
        self.task.progress.connect(self._on_step)
        # the curve redraws on a timer, not per step: a repaint per step (100 in a fraction of a
        # second) kept the window from answering for 60-160 ms at a time
        self._redraw = QTimer(self, interval=REDRAW_MS, singleShot=True)
        self._redraw.timeout.connect(self._draw_points)

        self.header = QLabel(objectName="lrFinderHeader")
        self.header.setWordWrap(True)
        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "learning rate")
        self.plot.setLabel("left", "loss (smoothed)")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setMenuEnabled(False)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.curve = pg.PlotDataItem()
        self.plot.addItem(self.curve)
        self.lines: dict[str, pg.InfiniteLine] = {}
        self.progress = QProgressBar(objectName="lrFinderProgress")
        self.choice = QButtonGroup(self)
        choice_row = QHBoxLayout()
        self.radios: dict[str, QRadioButton] = {}
        for i, (key, words, _role, _style) in enumerate(SUGGESTIONS):
            radio = QRadioButton(words, objectName=f"lrChoice_{key}")
            radio.setEnabled(False)
            self.choice.addButton(radio, i)
            self.radios[key] = radio
            choice_row.addWidget(radio)
        self.radios["suggestion"].setChecked(True)
        self.choice.idToggled.connect(lambda _i, _on: self._update_buttons())
        choice_row.addStretch(1)
        self.note = QLabel(objectName="lrFinderNote")
        self.note.setWordWrap(True)
        self.apply_button = QPushButton("Apply", objectName="lrApply")
        self.apply_button.setToolTip("Set the optimizer's learning rate to the chosen suggestion")
        self.sweep_button = QPushButton("Sweep around it…", objectName="lrSweep")
        self.sweep_button.setToolTip("Open a sweep over optimizer.lr from valley / 10 to valley × 10 (log scale)")
        self.again_button = QPushButton("Run again", objectName="lrAgain")
        close = QPushButton("Close")
        for b in (self.apply_button, self.sweep_button):
            b.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.sweep_button.clicked.connect(self._sweep)
        self.again_button.clicked.connect(self.start)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.again_button)
        buttons.addStretch(1)
        for b in (self.sweep_button, self.apply_button, close):
            buttons.addWidget(b)
        col = QVBoxLayout(self)
        col.addWidget(self.header)
        col.addWidget(self.plot_widget, 1)
        col.addWidget(self.progress)
        col.addLayout(choice_row)
        col.addWidget(self.note)
        col.addLayout(buttons)
        self.resize(760, 560)
        self._apply_colors()

    # ---- running ----------------------------------------------------------------------------
    @Slot()
    def start(self) -> None:
        """Run the range test on the session's current spec (off the GUI thread), plotting as it goes."""
        spec = self.session.spec
        self.result = None
        self._points = []
        self.curve.setData([], [])
        for line in self.lines.values():
            self.plot.removeItem(line)
        self.lines.clear()
        for radio in self.radios.values():
            radio.setEnabled(False)
        self._update_buttons()
        self.again_button.setEnabled(False)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.show()
        self._tested = (experiment_name(spec, self.session.meta), spec.optimizer.type)
        self._show_header()
        self.note.setText("")
        self.task.run(lambda report: _run_finder(spec, self.session.dataset, self.session.base_dir, report),
                      on_done=self._on_done, on_error=self._on_error)

    @Slot(object)
    def _on_step(self, item) -> None:
        if not self.task.accepts(item):
            return
        i, n, lr, loss = item[1]
        self.progress.setRange(0, n)
        self.progress.setValue(i)
        if math.isfinite(loss):
            self._points.append((lr, loss))
            if not self._redraw.isActive():
                self._redraw.start()

    def _draw_points(self) -> None:
        if self._points and self.result is None:
            xs, ys = zip(*self._points)
            self.curve.setData(np.asarray(xs), np.asarray(ys))

    def _on_done(self, result) -> None:
        self._redraw.stop()
        self.result = result
        self.progress.hide()
        self.again_button.setEnabled(True)
        lrs, losses = np.asarray(result.lrs), np.asarray(result.losses)
        keep = np.isfinite(losses)
        self.curve.setData(lrs[keep], losses[keep])
        colors = PlotColors(self.palette())
        for key, words, role, style in SUGGESTIONS:
            value = getattr(result, key)
            line = pg.InfiniteLine(pos=math.log10(value), angle=90, movable=False,
                                   label=f"{words.split(' (')[0]} {_fmt(value)}",
                                   labelOpts={"position": 0.9 - 0.12 * len(self.lines), "color": colors.role(role),
                                              "fill": pg.mkBrush(colors.legend_brush())})
            line.setPen(pg.mkPen(colors.role(role), width=2 if key == "suggestion" else 1.5, style=style))
            self.plot.addItem(line, ignoreBounds=True)
            self.lines[key] = line
            self.radios[key].setText(f"{words}: {_fmt(value)}")
            self.radios[key].setEnabled(True)
        # the divergence at the end would flatten the useful part of the curve
        finite = losses[keep]
        if finite.size:
            top = max(finite[0], float(np.median(finite)))
            self.plot.setYRange(float(finite.min()), top + 0.15 * (top - finite.min()), padding=0.02)
        self._show_note()
        self._update_buttons()

    def _spec_lr(self) -> float | None:
        return self.session.spec.optimizer.params.get("lr")

    def _show_header(self) -> None:
        """What the test does, and the spec's learning rate as it is now (Apply changes it)."""
        if self._tested is None:
            return
        name, optimizer = self._tested
        lr = self._spec_lr()
        self.header.setText(f"Training <b>{name}</b> for up to 100 steps while the learning rate grows from "
                            "1e-7 to 10, from the initial weights (nothing is kept); the test stops once the "
                            f"loss has run away. {optimizer}, lr now {_fmt(lr) if lr else 'default'}.")

    def _show_note(self, applied: float | None = None) -> None:
        result = self.result
        if result is None:
            return
        low, high = result.sweep_range()
        current = self._spec_lr()
        self.note.setText(
            f"The loss fell fastest around {_fmt(result.steepest)} and was lowest near {_fmt(result.minimum * 10)}"
            f"{', where it then ran away' if result.stopped_early else ''}. The valley, {_fmt(result.suggestion)}, is a "
            f"safe start (fastai's default). A sweep would try {_fmt(low)} to {_fmt(high)}."
            + (f" Applied: the optimizer's lr is now {_fmt(applied)}." if applied is not None and current == applied
               else f" The optimizer's lr is {_fmt(current)}." if current else ""))

    @Slot(object)
    def _spec_changed(self, _spec) -> None:
        self._show_header()
        self._show_note()

    def _on_error(self, err: BaseException, details: str) -> None:
        self.progress.hide()
        self.again_button.setEnabled(True)
        self.note.setText(f"The LR finder could not run: {err}")
        self.note.setToolTip(details)

    # ---- choosing -----------------------------------------------------------------------------
    def chosen_lr(self) -> float | None:
        """The suggestion picked by the radio buttons, to three significant digits (None before a result)."""
        if self.result is None:
            return None
        key = SUGGESTIONS[max(0, self.choice.checkedId())][0]
        return float(f"{getattr(self.result, key):.3g}")

    def _update_buttons(self) -> None:
        ready = self.result is not None and not self.session.is_running
        self.apply_button.setEnabled(ready)
        self.sweep_button.setEnabled(self.result is not None)
        lr = self.chosen_lr()
        self.apply_button.setText(f"Apply lr = {_fmt(lr)}" if lr else "Apply")

    @Slot()
    def apply(self) -> None:
        """Set optimizer.lr to the chosen suggestion (an undoable edit)."""
        lr = self.chosen_lr()
        if lr is None:
            return
        error = self.session.edit({"optimizer.lr": lr}, text="Apply the LR finder's learning rate")
        if error:
            self.note.setText(for_the_app(error))
        else:
            self._show_header()
            self._show_note(applied=lr)

    @Slot()
    def _sweep(self) -> None:
        if self.result is None:
            return
        low, high = self.result.sweep_range()
        self.sweep_requested.emit({"optimizer.lr": {"log_uniform": [float(f"{low:.3g}"), float(f"{high:.3g}")]}})

    def _apply_colors(self) -> None:
        colors = PlotColors(self.palette())
        colors.apply_global()
        self.plot_widget.setBackground(colors.background)
        style_axes(self.plot, colors)
        self.curve.setPen(pg.mkPen(colors.foreground, width=2))

    def done(self, code: int) -> None:
        self.task.cancel()
        super().done(code)

    def shutdown(self, wait: bool = True) -> None:
        self.task.shutdown(wait)
