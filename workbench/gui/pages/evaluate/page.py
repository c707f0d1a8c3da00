"""The Evaluate page: what a model gets right and wrong, for the live run or any recorded one.

Top: the run, the split and (two classes) the decision threshold. Tabs: Confusion (matrix with
the samples of the clicked cell beside it), Classes (per-class table), Curves (ROC and PR),
Calibration, Errors (regressions), Boundary (what the model learned over its inputs) and
Playground (try inputs). Files are read, curves computed and models rebuilt on a background
thread; the live run refreshes from its EvaluationSnapshot events (every few epochs) and once
more when it ends.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.evaluation import (
    TOP_K_MIN_CLASSES,
    accuracy,
    confusion_matrix,
    one_vs_rest,
    per_class_metrics,
    reliability,
    thresholded,
    top_k_accuracy,
)
from workbench.core.training import EvaluationSnapshot, RunRecorded, RunStarted, TerminalEvent
from workbench.gui.background import BackgroundCalls
from workbench.gui.pages.evaluate.boundary_view import BoundaryView
from workbench.gui.pages.evaluate.calibration import CalibrationView
from workbench.gui.pages.evaluate.class_table import ClassTable
from workbench.gui.pages.evaluate.confusion import ConfusionView
from workbench.gui.pages.evaluate.curves import CurvesView
from workbench.gui.pages.evaluate.model_views import ModelViews
from workbench.gui.pages.evaluate.playground import PlaygroundView
from workbench.gui.pages.evaluate.plots import restyle
from workbench.gui.pages.evaluate.regression_view import RegressionView
from workbench.gui.pages.evaluate.samples_view import SamplesView
from workbench.gui.pages.evaluate.source import EvalSource, load_source, recent_sources
from workbench.gui.pages.evaluate.threshold_bar import ThresholdBar

__all__ = ["EvaluatePage"]

SPLIT_LABELS = {"test": "Test", "val": "Validation", "train": "Train"}


def _analysis(sp) -> dict[str, Any]:
    """What does not change with the threshold, for one split (off the GUI thread): the curves and
    the top-k accuracies (both sort every row's scores)."""
    top_k = ({str(k): top_k_accuracy(sp.y_true, sp.probabilities, k) for k in (2, 3, 5) if k < sp.n_classes}
             if sp.n_classes >= TOP_K_MIN_CLASSES else None)
    return {"ovr": one_vs_rest(sp.y_true, sp.probabilities), "top_k": top_k}


class EvaluatePage(QWidget):
    """See the module doc. `session` supplies the store path, the live run's folder and its events
    (connect `session.run_events` to `handle_events`, as the window does)."""

    loaded = Signal()  # a run's predictions are shown (tests wait on it)
    boundary_ready = Signal()
    prediction_ready = Signal()

    def __init__(self, session=None, store_path: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("evaluatePage")
        self.session = session
        self.store_path = store_path or (session.store_path if session is not None else None)
        self.calls = BackgroundCalls("evaluate", self)
        self._sources: list[EvalSource] = []
        self._live: EvalSource | None = None
        self._recorded: RunRecorded | None = None  # the record of the run about to start
        self._follow_live = True
        self.generation = 0  # which run is shown; results for an earlier one are dropped
        self.loaded_data = None  # source.Loaded
        self.sp = None  # the SplitPredictions shown
        self.threshold: float | None = None
        self.ovr = None
        self._top_k: dict[str, float] | None = None
        self._requested: EvalSource | None = None  # the run asked for last (maybe still loading)
        self._configured_for: EvalSource | None = None  # the run the tabs and choices are set up for

        # ---- top bar ----
        self.run_combo = QComboBox(objectName="evaluateRun")
        self.run_combo.setMinimumContentsLength(36)
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.split_combo = QComboBox(objectName="evaluateSplit")
        self.split_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # "Test (2700)" whole
        self.refresh_button = QPushButton("Refresh", objectName="evaluateRefresh")
        self.status = QLabel(objectName="evaluateStatus")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.run_combo, 2)
        top.addWidget(QLabel("Split"))
        top.addWidget(self.split_combo)
        top.addWidget(self.refresh_button)
        top.addWidget(self.status, 3)

        self.threshold_bar = ThresholdBar()
        self.threshold_slider, self.threshold_spin = self.threshold_bar.slider, self.threshold_bar.spin
        self.threshold_reset = self.threshold_bar.reset
        self.threshold_bar.setVisible(False)

        # ---- views ----
        self.confusion = ConfusionView()
        self.samples = SamplesView()
        self.classes = ClassTable()
        self.curves = CurvesView()
        self.calibration = CalibrationView()
        self.regression = RegressionView()
        self.boundary = BoundaryView()
        self.playground = PlaygroundView()
        self.model_views = ModelViews(self)
        confusion_tab = QSplitter(objectName="confusionSplitter")
        confusion_tab.addWidget(self.confusion)
        confusion_tab.addWidget(self.samples)
        confusion_tab.setStretchFactor(0, 2)
        confusion_tab.setStretchFactor(1, 3)
        self.tabs = QTabWidget(objectName="evaluateTabs")
        self.tab_index = {}
        for key, widget, title in (("confusion", confusion_tab, "Confusion"), ("classes", self.classes, "Classes"),
                                   ("curves", self.curves, "ROC / PR"), ("calibration", self.calibration, "Calibration"),
                                   ("errors", self.regression, "Errors"), ("boundary", self.boundary, "Boundary"),
                                   ("playground", self.playground, "Playground")):
            self.tab_index[key] = self.tabs.addTab(widget, title)
        self.message = QLabel(objectName="evaluateMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.tabs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.threshold_bar)
        layout.addWidget(self.stack, 1)
        self._show_message("Train a model, or pick a recorded run, to see what it gets right and wrong.")

        self.run_combo.activated.connect(self._run_chosen)
        self.split_combo.currentIndexChanged.connect(lambda _: self._show_split())
        self.refresh_button.clicked.connect(self.refresh)
        self.confusion.samples_requested.connect(self._samples_requested)
        self.samples.sample_activated.connect(self.model_views.open_in_playground)
        self.threshold_bar.threshold_changed.connect(self.set_threshold)
        self.curves.threshold_changed.connect(self.set_threshold)
        self.boundary.view_requested.connect(lambda *_: self.model_views.request_boundary())
        self.playground.predict_requested.connect(self.model_views.predict)
        self.tabs.currentChanged.connect(self.model_views.tab_shown)
        self.refresh_runs()

    # ---- runs ------------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        """Reload the list of recorded runs (in the background)."""
        self.calls.submit(recent_sources, self.store_path, on_done=self._set_sources,
                           on_error=lambda exc, _: self.status.setText(f"Cannot read the run store: {exc}"))

    def _set_sources(self, sources: list[EvalSource]) -> None:
        current = self._requested
        self._sources = sources
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        if self._live is not None:
            self.run_combo.addItem(self._live.label, self._live)
        for s in sources:
            self.run_combo.addItem(s.label, s)
        if current is not None:
            k = self._find(current)
            if k >= 0:
                self.run_combo.setCurrentIndex(k)
        self.run_combo.blockSignals(False)
        if current is None and self.run_combo.count():
            self._run_chosen(0)
            self._follow_live = True  # nobody chose a run: show the newest, and the next one when it starts

    def _find(self, source: EvalSource) -> int:
        for k in range(self.run_combo.count()):
            s = self.run_combo.itemData(k)
            if s == source or (source.run_id is not None and s.run_id == source.run_id and not s.live):
                return k
        return -1

    def current_source(self) -> EvalSource | None:
        return self.loaded_data.source if self.loaded_data is not None else None

    def show_run(self, run_id: int) -> None:
        """Show a recorded run (e.g. from the runs table)."""
        for k in range(self.run_combo.count()):
            s = self.run_combo.itemData(k)
            if s.run_id == run_id and not s.live:
                self.run_combo.setCurrentIndex(k)
                self._run_chosen(k)
                return
        self._follow_live = False
        self.load(EvalSource(f"#{run_id}", "", "", run_id))  # the list is still loading

    def _run_chosen(self, k: int) -> None:
        source = self.run_combo.itemData(k)
        if source is None:
            return
        self._follow_live = source.live
        self.load(source)

    def load(self, source: EvalSource) -> None:
        """Show `source` (reads its files in the background)."""
        self.generation += 1
        gen = self.generation
        self.model_views.forget_model()
        self._requested = source
        self.status.setText(f"Loading {source.label}…")
        self.calls.submit(load_source, source, self.store_path,
                           on_done=lambda loaded: self._loaded(loaded, gen),
                           on_error=lambda exc, _: self._show_message(f"Cannot read this run: {exc}"))

    def refresh(self) -> None:
        source = self.current_source()
        self.refresh_runs()
        if source is not None:
            self._reload(source)

    def _reload(self, source: EvalSource) -> None:
        gen = self.generation  # same source: keep the choices the person made
        self.calls.submit(load_source, source, self.store_path,
                           on_done=lambda loaded: self._loaded(loaded, gen, keep=True))

    # ---- live run --------------------------------------------------------------------------------
    def handle_events(self, events: list) -> None:
        for ev in events:
            if isinstance(ev, RunRecorded):  # first: the live run's id and folder
                self._recorded = ev
            elif isinstance(ev, RunStarted):
                recorded = self._recorded
                folder = recorded.run_dir if recorded is not None else getattr(self.session, "current_run_dir", None)
                self._live = EvalSource(f"● live: {ev.name}", str(folder or ""), ev.spec_json, None, True)
                self._recorded = None
                self.model_views.live_grid = None
                self._set_sources(self._sources)
                if self._follow_live or self.loaded_data is None:
                    self.run_combo.setCurrentIndex(0)
                    self._follow_live = True
                    self.load(self._live)
            elif isinstance(ev, EvaluationSnapshot) and self._live is not None:
                if ev.boundary:
                    self.model_views.live_grid = ev.boundary
                if self.current_source() == self._live:
                    self.model_views.forget_model()  # newer weights
                    self._reload(self._live)
                    if ev.boundary and self.boundary.requested_view()[0] in ("default", "pca"):
                        self.model_views.show_live_grid(ev.epoch)
            elif isinstance(ev, TerminalEvent) and self._live is not None:
                ended = self._live
                self._live = EvalSource(ended.label.replace("● live", "last run"), ended.folder, ended.spec_json,
                                        None, True)
                showing = self.current_source() == ended
                self._set_sources(self._sources)
                self.refresh_runs()
                if showing:
                    self.load(self._live)

    # ---- showing predictions ---------------------------------------------------------------------
    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def _loaded(self, loaded, gen: int, keep: bool = False) -> None:
        if gen != self.generation:
            return
        first = not keep or self._configured_for != loaded.source
        self.loaded_data = loaded
        preds = loaded.predictions
        if preds is None:
            self.status.setText(loaded.source.label)
            self._show_message(loaded.problem)
            self.loaded.emit()
            return
        when = (f"final weights, epoch {preds.epoch}" if preds.final else
                f"live: validation predictions at epoch {preds.epoch}")
        self.status.setText(f"{when}" + (f" · {'; '.join(loaded.notes)}" if loaded.notes else ""))
        available = [s for s in ("test", "val", "train") if s in preds.splits]
        current = self.split_combo.currentData()
        self.split_combo.blockSignals(True)
        self.split_combo.clear()
        for s in available:
            self.split_combo.addItem(f"{SPLIT_LABELS[s]} ({len(preds.splits[s])})", s)
        k = self.split_combo.findData(current)
        self.split_combo.setCurrentIndex(max(k, 0))
        self.split_combo.blockSignals(False)
        if first:
            self._configure(loaded)
            self._configured_for = loaded.source
        self._show_split()
        self.loaded.emit()

    def _configure(self, loaded) -> None:
        """Tabs and choices for a newly chosen run (its task, classes and inputs)."""
        preds, prep = loaded.predictions, loaded.prep
        cls = preds.task == "classification"
        for key in ("confusion", "classes", "curves", "calibration"):
            self.tabs.setTabVisible(self.tab_index[key], cls)
        self.tabs.setTabVisible(self.tab_index["errors"], not cls)
        has_prep = prep is not None
        self.tabs.setTabVisible(self.tab_index["boundary"], has_prep)
        self.tabs.setTabVisible(self.tab_index["playground"], has_prep)
        if not self.tabs.isTabVisible(self.tabs.currentIndex()):
            self.tabs.setCurrentIndex(self.tab_index["confusion" if cls else "errors"])
        self.threshold = None
        binary = cls and len(preds.class_names) == 2
        self.threshold_bar.setVisible(binary)
        if binary:
            self.threshold_bar.set_positive_class(preds.class_names[1])
            self.threshold_bar.show_value(0.5)
        self.samples.show_samples(None, None, "wrong", "All misclassified")
        if has_prep:
            self.boundary.set_choices(prep.feature_names, prep.numeric_features() if prep.kind == "tabular" else [],
                                      prep.kind == "tabular")
            self.boundary.set_grid(None, "")
            self.playground.set_preprocessing(prep)

    def _split(self):
        preds = self.loaded_data.predictions if self.loaded_data is not None else None
        key = self.split_combo.currentData()
        return preds.splits.get(key) if preds is not None and key else None

    def _show_split(self) -> None:
        sp = self._split()
        self.sp = sp
        if sp is None:
            return
        self.stack.setCurrentWidget(self.tabs)
        columns = self.loaded_data.prep.input_blocks() if self.loaded_data.prep is not None else []
        if sp.task != "classification":
            self.regression.set_predictions(sp, columns)
        else:
            self.ovr = self._top_k = None
            self._show_classification()
            gen = self.generation
            self.calls.submit(_analysis, sp, on_done=lambda result: self._analysed(result, sp, gen))
        self.model_views.tab_shown(self.tabs.currentIndex())

    def _analysed(self, result: dict, sp, gen: int) -> None:
        if gen != self.generation or sp is not self.sp:
            return
        self.ovr, self._top_k = result["ovr"], result["top_k"]
        self._show_classification()
        self.curves.set_curves(self.ovr, sp.class_names, self.threshold)

    def predicted(self) -> np.ndarray:
        return thresholded(self.sp, self.threshold)

    def _show_classification(self) -> None:
        sp = self.sp
        pred = self.predicted()
        cm = confusion_matrix(sp.y_true, pred, sp.n_classes)
        self.confusion.set_matrix(cm, sp.class_names)
        metrics = per_class_metrics(cm)
        auc = [c.area for c in self.ovr.roc] if self.ovr is not None else None
        ap = [c.area for c in self.ovr.pr] if self.ovr is not None else None
        top_k = self._top_k
        auc_macro = (self.ovr.roc[1].area if sp.n_classes == 2 else self.ovr.roc_auc_macro) if self.ovr else None
        self.classes.set_metrics(sp.class_names, metrics, accuracy(cm), auc, ap, top_k, auc_macro)
        columns = self.loaded_data.prep.input_blocks() if self.loaded_data.prep is not None else []
        self.samples.set_predictions(sp, pred if self.threshold is not None else None, columns)
        conf = sp.probabilities[np.arange(len(sp)), pred]
        self.calibration.set_reliability(reliability(conf, pred == sp.y_true))

    # ---- threshold -------------------------------------------------------------------------------
    def set_threshold(self, value: float | None) -> None:
        """Two classes: predict class 1 when p >= value (None: the argmax). Updates everything."""
        if self.sp is None or self.sp.task != "classification" or self.sp.n_classes != 2:
            return
        value = None if value is None else float(min(max(value, 0.0), 1.0))
        if value == self.threshold:
            return
        self.threshold = value
        self.threshold_bar.show_value(0.5 if value is None else value)
        self._show_classification()
        self.curves.set_threshold(0.5 if value is None else value)
        if self.tabs.currentIndex() == self.tab_index["playground"]:
            self.playground.request()  # its prediction follows the threshold too

    def _samples_requested(self, true, pred, which, title) -> None:
        self.samples.show_samples(true, pred, which, title)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # light/dark theme switched: redraw in its colours
            for widget in self.findChildren(pg.PlotWidget):
                restyle(widget)
            if self.sp is not None:
                self._show_split()
            self.boundary.set_grid(self.boundary.grid)

    def shutdown(self) -> None:
        self.calls.shutdown(wait=False)
