"""The optimizer race (a page for teaching): 2-D loss surfaces with contour lines, and optimizers
from the catalog racing from the same start, their paths animated side by side with a step
counter and each one's loss. The surfaces are the textbook ones (Rosenbrock, Beale, a saddle,
Rastrigin, an ill-conditioned bowl) and the person's own model: a slice through a finished run's
weights along two filter-normalised random directions, where full-batch gradient descent races
mini-batch SGD.

The paths are computed first (background thread; the real torch.optim optimizers), then drawn
a few steps per frame.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.diagnostics.race_paths import MODEL_KEY, compute_race, contour_levels, duration_words
from workbench.gui.diagnostics.racer_card import RacerCard
from workbench.gui.diagnostics.task import DiagnosticTask
from workbench.gui.plots.palette import PlotColors, style_axes

FRAME_MS = 30


class RaceView(QWidget):
    """The Race page: a surface with contours, racer cards, and the animated paths with a step counter and
    losses."""
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("raceView")
        from workbench.core.diagnostics import SURFACES

        self.surfaces = dict(SURFACES)
        self.surface = None
        self.model_surface = None  # a ModelSlice once a run was chosen
        self.paths: list = []
        self.frame = 0
        self._grid_for = None
        self._grid = None
        self.task = DiagnosticTask("race", self)
        self.task.progress.connect(self._on_progress)

        # ---- controls (left) -------------------------------------------------------------------
        self.surface_combo = QComboBox(objectName="surfaceCombo")
        for key, s in self.surfaces.items():
            self.surface_combo.addItem(s.title, key)
        self.surface_combo.addItem("Your model (finish a run first)", MODEL_KEY)
        self._model_item_enabled(False)
        self.description = QLabel(objectName="surfaceDescription")
        self.description.setWordWrap(True)
        self.cards_box = QWidget()
        self.cards = QVBoxLayout(self.cards_box)
        self.cards.setContentsMargins(0, 0, 0, 0)
        self.cards.setSpacing(4)
        self.cards.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.cards_box)
        scroll.setMinimumWidth(300)
        self.add_button = QPushButton("Add optimizer", objectName="raceAdd")
        self.defaults_button = QPushButton("Default field", objectName="raceDefaults")
        self.defaults_button.setToolTip("Put back the racers and learning rates that suit this surface")
        self.steps = QSpinBox(objectName="raceSteps")
        self.steps.setRange(10, 5000)
        self.steps.setValue(300)
        self.steps.setSuffix(" steps")
        self.speed = QSlider(Qt.Orientation.Horizontal, objectName="raceSpeed")
        self.speed.setRange(1, 20)
        self.speed.setValue(3)
        self.speed.setToolTip("Steps drawn per frame")
        self.start_button = QPushButton("Race", objectName="raceStart")
        self.pause_button = QPushButton("Pause", objectName="racePause")
        self.pause_button.setCheckable(True)
        self.pause_button.setEnabled(False)
        grid = QGridLayout()
        grid.addWidget(QLabel("Surface"), 0, 0)
        grid.addWidget(self.surface_combo, 0, 1, 1, 2)
        grid.addWidget(self.steps, 1, 0)
        grid.addWidget(QLabel("Speed"), 1, 1)
        grid.addWidget(self.speed, 1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.defaults_button)
        run_row = QHBoxLayout()
        run_row.addWidget(self.start_button, 1)
        run_row.addWidget(self.pause_button)
        left = QWidget()
        lc = QVBoxLayout(left)
        lc.setContentsMargins(4, 4, 4, 4)
        lc.addLayout(grid)
        lc.addWidget(self.description)
        lc.addWidget(scroll, 1)
        lc.addLayout(buttons)
        lc.addLayout(run_row)

        # ---- plot (right) ---------------------------------------------------------------------------
        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setAspectLocked(False)
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-20)
        self.plot.addItem(self.image)
        self.isocurves: list[pg.IsocurveItem] = []
        self.start_marker = pg.ScatterPlotItem(symbol="star", size=16)
        self.min_marker = pg.ScatterPlotItem(symbol="x", size=14)
        for item in (self.start_marker, self.min_marker):
            item.setZValue(10)
            self.plot.addItem(item)
        self.legend = self.plot.addLegend(offset=(-8, 8))
        self.path_items: list[tuple[pg.PlotDataItem, pg.ScatterPlotItem]] = []
        self.step_label = QLabel("Press Race.", objectName="raceStep")
        self.step_label.setWordWrap(True)
        self.progress = QProgressBar(objectName="raceProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.hide()
        self._t0 = 0.0
        self.estimate = 0.0  # seconds the computation was measured to need (0 before)
        self.scores = QLabel(objectName="raceScores")
        self.scores.setTextFormat(Qt.TextFormat.RichText)
        self.scores.setWordWrap(True)
        right = QWidget()
        rc = QVBoxLayout(right)
        rc.setContentsMargins(4, 4, 4, 4)
        rc.addWidget(self.plot_widget, 1)
        rc.addWidget(self.progress)
        rc.addWidget(self.step_label)
        rc.addWidget(self.scores)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(split)

        self.timer = QTimer(self, interval=FRAME_MS)
        self.timer.timeout.connect(self._advance)
        self.surface_combo.currentIndexChanged.connect(self._surface_chosen)
        self.add_button.clicked.connect(self._add_clicked)
        self.defaults_button.clicked.connect(self.reset_racers)
        self.start_button.clicked.connect(self._start_or_cancel)
        self.pause_button.toggled.connect(self._pause_toggled)
        self._colors = PlotColors(self.palette())
        self._apply_colors()
        self._surface_chosen()

    # ---- surfaces ------------------------------------------------------------------------------------
    def _model_item_enabled(self, on: bool) -> None:
        item = self.surface_combo.model().item(self.surface_combo.count() - 1)
        item.setEnabled(on)

    def set_model_surface(self, surface, title: str) -> None:
        """Offer a finished run's loss slice (a ModelSlice) as the "Your model" surface."""
        self.model_surface = surface
        index = self.surface_combo.findData(MODEL_KEY)
        self.surface_combo.setItemText(index, f"Your model: {title}")
        self._model_item_enabled(True)
        if self.surface_combo.currentData() == MODEL_KEY:
            self._surface_chosen()

    def current_surface(self):
        """The surface chosen in the combo (None for 'Your model' before a run offered its slice)."""
        key = self.surface_combo.currentData()
        return self.model_surface if key == MODEL_KEY else self.surfaces[key]

    @Slot()
    def _surface_chosen(self, *_args) -> None:
        self.stop()
        self.surface = self.current_surface()
        if self.surface is None:
            return
        self.description.setText(self.surface.description)
        self.reset_racers()
        self._clear_paths()
        self._grid_for = None
        self.image.clear()
        self._clear_contours()
        (x0, x1), (y0, y1) = self.surface.x_range, self.surface.y_range
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)
        self.start_marker.setData([self.surface.start[0]], [self.surface.start[1]])
        m = self.surface.minimum
        self.min_marker.setData([m[0]] if m else [], [m[1]] if m else [])
        if self.surface_combo.currentData() != MODEL_KEY:
            self._show_grid(self.surface.grid(161))
        else:
            self.step_label.setText("Press Race: the loss over the slice is computed first. How long that takes on "
                                    "this model is measured and shown, with progress and Cancel.")

    def _clear_contours(self) -> None:
        for iso in self.isocurves:
            scene = iso.scene()
            if scene is not None:
                scene.removeItem(iso)
        self.isocurves.clear()

    def _show_grid(self, grid) -> None:
        self._clear_contours()
        xs, ys, z = grid
        self._grid_for = self.surface
        shown, levels = contour_levels(z, self.surface.log_scale)
        fill = float(np.nanmax(shown[np.isfinite(shown)])) if np.isfinite(shown).any() else 0.0
        data = np.nan_to_num(shown, nan=fill, posinf=fill, neginf=float(np.nanmin(shown[np.isfinite(shown)])))
        self.image.setImage(data, autoLevels=True)
        self.image.setLookupTable(self._faint_lut())
        self.image.setRect(xs[0], ys[0], xs[-1] - xs[0], ys[-1] - ys[0])
        for level in levels:
            iso = pg.IsocurveItem(data=data, level=level, pen=pg.mkPen(self._colors.faint(self._colors.foreground, 90)))
            iso.setParentItem(self.image)
            self.isocurves.append(iso)

    def _faint_lut(self) -> np.ndarray:
        """Pale background shading: low loss light, high loss a little darker, in either theme."""
        base = np.array(self._colors.background.getRgb()[:3], dtype=float)
        fg = np.array(self._colors.role("train").getRgb()[:3], dtype=float)
        t = np.linspace(0, 0.35, 256)[:, None]
        return (base * (1 - t) + fg * t).astype(np.uint8)

    # ---- racers ------------------------------------------------------------------------------------
    def racer_cards(self) -> list[RacerCard]:
        return [self.cards.itemAt(i).widget() for i in range(self.cards.count() - 1)]

    @Slot()
    def reset_racers(self) -> None:
        from workbench.core.diagnostics import default_racers

        for card in self.racer_cards():
            self._remove_card(card)
        key = self.surface_combo.currentData()
        for racer in default_racers(key):
            self.add_racer(racer)

    def add_racer(self, racer) -> RacerCard:
        colors = self._colors.overlay_colors(12)
        card = RacerCard(racer, colors[len(self.racer_cards()) % len(colors)])
        card.set_batch_visible(self.surface_combo.currentData() == MODEL_KEY)
        card.remove_requested.connect(self._remove_card)
        self.cards.insertWidget(self.cards.count() - 1, card)
        return card

    @Slot()
    def _add_clicked(self) -> None:
        from workbench.core.diagnostics import Racer

        self.add_racer(Racer(f"Racer {len(self.racer_cards()) + 1}", {"type": "Adam", "lr": 0.01}))

    @Slot(object)
    def _remove_card(self, card: RacerCard) -> None:
        self.cards.removeWidget(card)
        card.hide()
        card.deleteLater()

    # ---- racing --------------------------------------------------------------------------------------
    @Slot()
    def start(self) -> None:
        """Compute every racer's path off the GUI thread, then animate them side by side."""
        surface = self.current_surface()
        cards = self.racer_cards()
        if surface is None or not cards:
            self.step_label.setText("Add at least one racer.")
            return
        with_batch = self.surface_combo.currentData() == MODEL_KEY
        racers = [c.racer(with_batch) for c in cards]
        from workbench.core.diagnostics import racer_problems

        problems = [p for r in racers for p in racer_problems(r)]
        if problems:
            self.step_label.setText("Cannot race: " + "; ".join(problems))
            return
        self.stop()
        self._clear_paths()
        self._computing(True)
        self.step_label.setText("Measuring how long the race will take…")
        colors = [c.color for c in cards]
        need_grid = self._grid_for is not surface
        self.task.run(lambda report: compute_race(surface, racers, self.steps.value(), need_grid, report),
                      on_done=lambda result: self._on_computed(result, colors),
                      on_error=self._on_error)

    @Slot()
    def _start_or_cancel(self) -> None:
        if self.task.running:
            self.stop()
            self.step_label.setText("Cancelled. Press Race to start again.")
        else:
            self.start()

    def _computing(self, on: bool) -> None:
        """While the paths are computed: the Race button is Cancel, and a progress bar shows."""
        self.start_button.setText("Cancel" if on else "Race")
        self.start_button.setToolTip("Stop computing the race" if on else "Compute every racer's path, then animate them")
        self.start_button.setEnabled(True)
        self.progress.setValue(0)
        self.progress.setVisible(on)

    @Slot(object)
    def _on_progress(self, item) -> None:
        if not self.task.accepts(item):
            return
        kind, value = item[1]
        if kind == "estimate":
            self._t0, self.estimate = time.monotonic(), float(value)
            self.step_label.setText(f"Computing the paths: about {duration_words(value)} on this machine "
                                    "(measured)…" if value >= 2 else "Computing the paths…")
            return
        self.progress.setValue(round(1000 * value))
        spent = time.monotonic() - self._t0
        if self.estimate >= 2 and value > 0.02:
            left = spent / value - spent
            self.step_label.setText(f"Computing the paths: {value:.0%}, about {duration_words(left)} left…")

    def _on_computed(self, result, colors) -> None:
        grid, paths = result
        self._computing(False)
        if grid is not None:
            self._show_grid(grid)
        self.paths = paths
        for path, color in zip(paths, colors):
            line = pg.PlotDataItem(pen=pg.mkPen(color, width=2), name=path.name)
            head = pg.ScatterPlotItem(size=10, brush=pg.mkBrush(color), pen=pg.mkPen(self._colors.foreground))
            head.setZValue(8)
            self.plot.addItem(line)
            self.plot.addItem(head)
            self.path_items.append((line, head))
        self.frame = 0
        self.pause_button.setEnabled(True)
        self.pause_button.setChecked(False)
        self.timer.start()

    def _on_error(self, err: BaseException, details: str) -> None:
        self._computing(False)
        self.step_label.setText(f"The race could not run: {err}")
        self.step_label.setToolTip(details)

    @Slot()
    def _advance(self) -> None:
        total = max((len(p.loss) - 1 for p in self.paths), default=0)
        self.frame = min(self.frame + self.speed.value(), self.steps.value())
        self.show_step(self.frame)
        if self.frame >= self.steps.value() or self.frame >= total and all(
                p.diverged_at is not None or len(p.loss) - 1 <= self.frame for p in self.paths):
            self.timer.stop()
            self.pause_button.setEnabled(False)
            self.show_step(self.steps.value())

    def show_step(self, step: int) -> None:
        """Draw every path up to `step` and write the scores."""
        rows = []
        for path, (line, head) in zip(self.paths, self.path_items):
            k = min(step, len(path.xy) - 1)
            line.setData(path.xy[:k + 1, 0], path.xy[:k + 1, 1])
            head.setData([path.xy[k, 0]], [path.xy[k, 1]])
            gone = path.diverged_at is not None and step >= path.diverged_at
            loss = "diverged" if gone else f"{path.loss[k]:.4g}"
            color = line.opts["pen"].color().name()
            rows.append(f"<span style='color:{color}'>■</span> {path.name}: {loss}")
        self.step_label.setText(f"Step {step} of {self.steps.value()}")
        self.scores.setText(" &nbsp; ".join(rows))

    @Slot(bool)
    def _pause_toggled(self, paused: bool) -> None:
        if paused:
            self.timer.stop()
            self.pause_button.setText("Resume")
        else:
            self.pause_button.setText("Pause")
            if self.paths and self.frame < self.steps.value():
                self.timer.start()

    def stop(self) -> None:
        """Stop the animation and cancel a computation in progress."""
        self.timer.stop()
        self.task.cancel()
        self._computing(False)
        self.pause_button.setEnabled(False)

    def _clear_paths(self) -> None:
        for line, head in self.path_items:
            self.plot.removeItem(line)
            self.plot.removeItem(head)
        self.path_items.clear()
        self.paths = []
        self.scores.setText("")

    def _apply_colors(self) -> None:
        self._colors = colors = PlotColors(self.palette())
        colors.apply_global()
        self.plot_widget.setBackground(colors.background)
        style_axes(self.plot, colors)
        self.start_marker.setBrush(pg.mkBrush(colors.foreground))
        self.min_marker.setPen(pg.mkPen(colors.role("overfit"), width=2))

    def shutdown(self, wait: bool = True) -> None:
        self.timer.stop()
        self.task.shutdown(wait)

