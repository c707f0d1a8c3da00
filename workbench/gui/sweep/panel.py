"""The sweep panel: a live table of trials, their curves, and the parallel-coordinates, scatter
and importance views, all linked through one TrialSelection (select a row, a line or a point
and the same trial lights up everywhere, its curve included).

Events arrive in batches from SweepRunner (never storage reads on the GUI thread); they only
update the trial dicts and the table; curves and views redraw on a 250 ms timer when something
changed, so a busy sweep costs the GUI a few redraws a second whatever the epoch rate.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSpinBox, QSplitter, QTableView, QTabWidget, QVBoxLayout, QWidget)

from workbench.core.catalog import baseline_note
from workbench.core.spec import ExperimentSpec, SpecError
from workbench.core.sweep import (SweepFinished, SweepStarted, TrialEpoch, TrialFailed, TrialFinished, TrialStarted,
                                  default_storage, resolve_direction)
from workbench.core.execution import default_parallel
from workbench.core.sweep import apply_params, best_of, trial_label
from workbench.gui.plots.importance import ImportanceChart
from workbench.gui.plots.live_curves import LiveCurves
from workbench.gui.plots.palette import PlotColors
from workbench.gui.plots.parallel_coords import ParallelCoordinates
from workbench.gui.plots.param_scatter import ParamScatter
from workbench.gui.plots.trial_axes import AxisSpec
from workbench.gui.selection import TrialSelection
from workbench.gui.sweep.use_best import confirm_use_best

from .config import SweepConfig
from .picker import SweepPickerDialog
from .runner import LoadedSweep, SweepRunner
from .trial_table import ID_ROLE, TrialSortProxy, TrialTableModel, fmt_metric

REFRESH_MS = 250
_STATE = {"complete": "complete", "pruned": "pruned", "fail": "failed", "running": "running", "waiting": "waiting"}


def short_label(path: str) -> str:
    """'optimizer.lr' -> 'lr', 'model.layers.0.out_features' -> 'L1 out_features' (layers
    counted from 1, as the Model page counts them)."""
    parts = path.split(".")
    if parts[0] == "model" and len(parts) >= 4:
        idx = ".".join(str(int(p) + 1) for p in parts[2:-1] if p.isdigit())
        return f"L{idx} {parts[-1]}"
    if parts[0] in ("optimizer", "loss", "schedule") and parts[-1] == "type":
        return parts[0]
    return parts[-1] if parts[0] in ("optimizer", "train", "loss", "schedule") else ".".join(parts[1:])


def axes_for_space(space: dict[str, Any]) -> list[AxisSpec]:
    """Axes that show each field over its whole search range, on its scale."""
    axes = []
    for path, form in space.items():
        label = short_label(path)
        if isinstance(form, list):
            form = {"choices": form}
        if "choices" in form:
            axes.append(AxisSpec(path, "categorical", label, categories=tuple(form["choices"])))
            continue
        kind = next((k for k in ("log_uniform", "uniform", "int", "log_int") if k in form), "uniform")
        lo, hi = form[kind]
        log = kind in ("log_uniform", "log_int") or bool(form.get("log"))
        axes.append(AxisSpec(path, "log" if log and lo > 0 else "linear", label, low=lo, high=hi))
    return axes


class SweepPanel(QWidget):
    """Live view of one sweep. Start one with `new_sweep(spec, base_dir)` (opens SweepDialog)
    or `start(SweepConfig)`; reopen a stored one with `open_sweep(study)`; `shutdown()` before
    closing the window. `spec_source` (a callable returning (spec, base_dir)) lets the panel's
    own "New sweep…" button read the editor's current spec.

    Signals: use_spec(ExperimentSpec) — "Use best" with the best trial's values applied to the
    sweep's base spec; running_changed(bool).
    """

    use_spec = Signal(object)
    running_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None, store_path: str | Path | None = None, *,
                 runner: SweepRunner | None = None):
        super().__init__(parent)
        self.setObjectName("sweepPanel")
        if store_path is None:
            from workbench.core.runs import default_store_path

            store_path = default_store_path()
        self.store_path = str(store_path)
        self.storage = default_storage(self.store_path)
        self._spec_source: Callable[[], tuple[ExperimentSpec, Any]] | None = None
        self.runner = runner or SweepRunner(self)
        if self.runner.parent() is None:
            self.runner.setParent(self)
        self.selection = TrialSelection(self)

        self._trials: dict[int, dict] = {}
        self._base_spec: ExperimentSpec | None = None
        self._space: dict[str, Any] = {}
        self._metric = "val_loss"
        self._direction = "minimize"
        self._study: str | None = None
        self._parallel = default_parallel()
        self._sweep_state = "idle"  # idle | starting | running | paused | stopping | finished | stopped | failed
        self._message = ""
        self._syncing = False
        self._curves_dirty = False
        self._views_dirty = False
        self._n_done_for_importance = -1

        # -- toolbar ------------------------------------------------------------------------------------
        def button(text: str, name: str, tip: str) -> QPushButton:
            b = QPushButton(text)
            b.setObjectName(name)
            b.setToolTip(tip)
            return b

        self.new_button = button("New sweep…", "newSweepButton", "choose parameters to vary and run a sweep")
        self.open_button = button("Open sweep…", "openSweepButton", "reopen a stored sweep and its trials")
        self.continue_button = button("Continue", "continueSweepButton", "run more trials of this sweep")
        self.more_trials = QSpinBox()
        self.more_trials.setObjectName("moreTrialsSpin")
        self.more_trials.setRange(1, 10_000)
        self.more_trials.setValue(10)
        self.more_trials.setSuffix(" more")
        self.pause_button = button("Pause", "pauseSweepButton", "pause every running trial (resume continues them)")
        self.stop_button = button("Stop", "stopSweepButton", "stop the sweep; finished trials are kept")
        self.best_button = button("Use best…", "useBestButton",
                                  "see what the best trial's settings would change, then use them (undoable)")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (self.new_button, self.open_button, self.continue_button, self.more_trials):
            bar.addWidget(w)
        bar.addSpacing(12)
        bar.addWidget(self.pause_button)
        bar.addWidget(self.stop_button)
        bar.addStretch(1)
        bar.addWidget(self.best_button)
        self.status = QLabel("No sweep yet: Run ▸ Sweep… (or New sweep…) chooses what to vary.")
        self.status.setObjectName("sweepStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # -- table -----------------------------------------------------------------------------------------
        self.model = TrialTableModel(self)
        self.proxy = TrialSortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("trialTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAlternatingRowColors(True)
        self.table.selectionModel().selectionChanged.connect(self._table_selection_changed)

        # -- views ---------------------------------------------------------------------------------------------
        self.curves = LiveCurves(empty_text="Each trial's curves are drawn here while the sweep runs: New sweep… "
                                            "chooses what to vary (Open sweep… shows a stored one).")
        self.curves.set_x_axis("epoch")
        self.parallel_coords = ParallelCoordinates(self.selection)
        self.scatter = ParamScatter(self.selection)
        self.importance = ImportanceChart()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("sweepViews")
        self.tabs.addTab(self.curves, "Curves")
        self.tabs.addTab(self.parallel_coords, "Parallel coordinates")
        self.tabs.addTab(self.scatter, "Parameter vs metric")
        self.tabs.addTab(self.importance, "Importance")

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([460, 700])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)

        self.new_button.clicked.connect(self._new_clicked)
        self.open_button.clicked.connect(self._open_clicked)
        self.continue_button.clicked.connect(self.continue_sweep)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.best_button.clicked.connect(self.use_best)
        self.selection.selection_changed.connect(self._selection_changed)
        self.runner.events.connect(self._on_events)
        self.runner.loaded.connect(self._on_loaded)
        self.runner.failed.connect(self._on_failed)
        self.runner.running_changed.connect(self._on_running_changed)
        self._update_buttons()

    # ==== public API ==================================================================================
    @property
    def running(self) -> bool:
        return self.runner.running

    @property
    def study(self) -> str | None:
        return self._study

    @property
    def trials(self) -> list[dict]:
        """Trial dicts in trial order: {"id", "status", "params", "value", "metrics", "last",
        "epochs", "duration", "message", "run_id", "curve"}."""
        return [self._trials[k] for k in sorted(self._trials)]

    @property
    def metric_name(self) -> str:
        return self._metric

    @property
    def direction(self) -> str:
        return self._direction

    def new_sweep(self, spec: ExperimentSpec | None = None, base_dir: Any = None,
                  space: dict[str, Any] | None = None) -> SweepConfig | None:
        """Open the sweep dialog for `spec` (default: `spec_source()`), its space filled in from
        `space` when given (the LR finder's range); run what it returns."""
        if self.running:
            return None
        if spec is None:
            if self.spec_source is None:
                return None
            spec, base_dir = self.spec_source()
        from .dialog import SweepDialog

        dialog = SweepDialog(spec, base_dir, self, space=space)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            config = dialog.config()
        finally:
            dialog.deleteLater()
        self.start(config)
        return config

    def start(self, config: SweepConfig) -> None:
        """Run a new sweep (its trials replace what the panel showed)."""
        if self.running:
            raise RuntimeError("a sweep is already running")
        self._reset(config.spec, config.space, config.metric, resolve_direction(config.metric, config.direction))
        self._parallel = config.parallel
        self._sweep_state = "starting"
        self._message = ""
        self.runner.start(config, store_path=self.store_path, storage=self.storage)
        self._update_status()

    def open_sweep(self, study: str, storage: str | None = None) -> None:
        """Show a stored sweep's trials (read in the background; `sweep_loaded` is when done)."""
        if self.running:
            return
        self.storage = storage or self.storage
        self._sweep_state = "loading"
        self._message = f"Opening {study}…"
        self._update_status()
        self.runner.load(self.storage, study, store_path=self.store_path)

    def continue_sweep(self, n_trials: int | None = None) -> None:
        """Run more trials of the sweep shown (new or reopened)."""
        if self.running or self._study is None:
            return
        n = int(n_trials or self.more_trials.value())
        self._sweep_state = "starting"
        self._message = ""
        self.runner.continue_sweep(self.storage, self._study, n_trials=n, parallel=self._parallel,
                                   store_path=self.store_path)
        self._update_status()

    def stop(self) -> None:
        if self.running:
            self._sweep_state = "stopping"
            self.runner.stop()
            self._update_status()
            self._update_buttons()

    def toggle_pause(self) -> None:
        if not self.running:
            return
        if self.runner.paused:
            self.runner.resume()
            self._sweep_state = "running"
        else:
            self.runner.pause()
            self._sweep_state = "paused"
        self._update_status()
        self._update_buttons()

    def best_trial(self) -> dict | None:
        done = (t for t in self._trials.values() if t["status"] == "complete")
        return best_of(done, lambda t: t["value"], self._direction)

    def best_spec(self) -> ExperimentSpec | None:
        """The sweep's base spec with the best trial's values applied (core's apply_params)."""
        best = self.best_trial()
        if best is None or self._base_spec is None:
            return None
        spec, _applied = apply_params(self._base_spec, best["params"])
        return spec

    def use_best(self) -> None:
        """Ask (showing what would change), then emit `use_spec` with the best trial's settings."""
        try:
            spec = self.best_spec()
        except SpecError as err:
            self._message = f"The best trial's values do not make a valid spec: {err}"
            self._update_status()
            return
        if spec is None:
            return
        current = self.spec_source()[0] if self.spec_source is not None else self._base_spec
        if confirm_use_best(self, current, spec, self.best_trial(), self._metric):
            self.use_spec.emit(spec)

    def shutdown(self, timeout: float = 2.0) -> None:
        """Stop a running sweep and wait up to `timeout` s for it (its workers are closed as it ends); call before closing."""
        self._refresh_timer.stop()
        self.runner.shutdown(timeout)

    def refresh(self) -> None:
        """Redraw curves and views if something changed (the timer calls it; tests may too)."""
        now = time.monotonic()
        for t in self._trials.values():
            if t["status"] == "running" and t.get("t0") is not None:
                t["duration"] = now - t["t0"]
        for t in self._trials.values():
            if t["status"] == "running":
                self.model.upsert(t)  # its duration ticks
        if self._curves_dirty:
            self._curves_dirty = False
            self._draw_curves()
        if self._views_dirty:
            self._views_dirty = False
            self._draw_views()
        if not self.running and not self._curves_dirty and not self._views_dirty:
            self._refresh_timer.stop()

    # ==== events =======================================================================================
    def _reset(self, spec: ExperimentSpec | None, space: dict[str, Any], metric: str, direction: str) -> None:
        self.selection.clear()
        self._trials.clear()
        self._base_spec = spec
        self._space = dict(space)
        self._metric = metric
        self._direction = direction
        self._study = None
        self._n_done_for_importance = -1
        self.model.set_columns([(p, short_label(p)) for p in self._space], metric)
        self.model.clear()
        axes = axes_for_space(self._space)
        self.parallel_coords.set_axes(axes)
        self.scatter.set_axes(axes)
        self.curves.clear_overlays()
        self._curves_dirty = self._views_dirty = True
        self._refresh_timer.start()

    def _trial(self, number: int, params: dict | None = None) -> dict:
        t = self._trials.get(number)
        if t is None:
            t = {"id": number, "status": "running", "params": dict(params or {}), "value": None, "metrics": {},
                 "last": None, "epochs": 0, "duration": None, "message": "", "run_id": None, "curve": [],
                 "t0": time.monotonic()}
            self._trials[number] = t
        elif params:
            t["params"] = dict(params)
        return t

    def _on_events(self, batch: list) -> None:
        changed: dict[int, dict] = {}
        for ev in batch:
            if isinstance(ev, SweepStarted):
                self._study = ev.study
                self._metric = ev.metric
                self._direction = ev.direction
                self._sweep_state = "running"
                if ev.space != self._space:
                    self._space = dict(ev.space)
                    self.model.set_columns([(p, short_label(p)) for p in self._space], ev.metric)
                    axes = axes_for_space(self._space)
                    self.parallel_coords.set_axes(axes)
                    self.scatter.set_axes(axes)
                self._target = ev.n_trials
            elif isinstance(ev, TrialStarted):
                t = self._trial(ev.trial, ev.params)
                t["status"], t["t0"] = "running", time.monotonic()
                changed[ev.trial] = t
                self._views_dirty = True
            elif isinstance(ev, TrialEpoch):
                t = self._trial(ev.trial)
                if ev.repeat == 0:
                    t["curve"].append({"epoch": ev.epoch, **ev.logs})
                    t["epochs"] = ev.epoch
                    self._curves_dirty = True
                if ev.run_id is not None and t["run_id"] is None:
                    t["run_id"] = ev.run_id
                t["last"] = ev.logs.get(self._metric, t["last"])
                changed[ev.trial] = t
            elif isinstance(ev, TrialFinished):
                t = self._trial(ev.trial, ev.params or None)
                t.update(status=ev.status, value=ev.value, metrics=dict(ev.metrics), duration=ev.duration,
                         run_id=ev.run_id, t0=None)
                if ev.status == "stopped":
                    t["message"] = "stopped with the sweep"
                changed[ev.trial] = t
                self._views_dirty = self._curves_dirty = True
            elif isinstance(ev, TrialFailed):
                t = self._trial(ev.trial, ev.params or None)
                duration = time.monotonic() - t["t0"] if t.get("t0") is not None else None
                t.update(status="failed", value=None, message=ev.message, t0=None, duration=duration)
                changed[ev.trial] = t
                self._views_dirty = self._curves_dirty = True
            elif isinstance(ev, SweepFinished):
                self._sweep_state = ev.status
                self._study = ev.study or self._study
                if ev.message:
                    self._message = ev.message
        for t in changed.values():
            self.model.upsert(t)
        self._update_best()
        self._update_status()
        if (self._curves_dirty or self._views_dirty) and not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _on_loaded(self, loaded: LoadedSweep) -> None:
        rec = loaded.record
        s = rec.settings
        self._reset(rec.spec, rec.space.to_json(), s.metric, resolve_direction(s.metric, s.direction))
        self._study = rec.study
        for r in rec.trials:
            status = _STATE.get(r["state"], r["state"])
            if status == "waiting":
                continue  # grid points not run yet
            message = r.get("error") or ""
            if status == "failed" and message == "stopped with the sweep":
                status = "stopped"
            value = r["value"]
            if status == "pruned" and r["intermediate"]:
                value = r["intermediate"][max(r["intermediate"])]
            t = self._trial(r["trial"], r["params"])
            curve = loaded.epochs.get(r["trial"], [])
            duration = (r["finished"] - r["started"]) if r.get("finished") and r.get("started") else None
            t.update(status=status, value=value, metrics=dict(r.get("metrics") or {}), message=message, t0=None,
                     duration=duration, run_id=r["run_ids"][0] if r["run_ids"] else None, curve=list(curve),
                     epochs=len(curve) or (max(r["intermediate"]) if r["intermediate"] else 0))
        self.model.set_trials(self.trials)
        self._sweep_state = "opened"
        self._message = ""
        self._update_best()
        self._update_status()
        self._update_buttons()
        self.refresh()

    def _on_failed(self, message: str) -> None:
        self._sweep_state = "failed"
        self._message = message
        self._update_status()
        self._update_buttons()

    def _on_running_changed(self, running: bool) -> None:
        if not running and self._sweep_state in ("running", "starting", "paused", "stopping"):
            self._sweep_state = "stopped"
        self._update_buttons()
        self._update_status()
        if not running:
            self.refresh()
        self.running_changed.emit(running)

    # ==== drawing =======================================================================================
    def _update_best(self) -> None:
        best = self.best_trial()
        self.model.set_best(best["id"] if best else None)

    def _trial_colors(self) -> dict[int, QColor]:
        ids = sorted(self._trials)
        colors = PlotColors(self.curves.palette()).overlay_colors(max(ids) + 1 if ids else 0)
        return {i: colors[i] for i in ids}

    def trial_color(self, trial_id: int) -> QColor:
        """The colour of a trial's curve (faded when another trial is selected)."""
        return self._curve_colors().get(trial_id, QColor())

    def _curve_colors(self) -> dict[int, QColor]:
        selected = self.selection.selected_ids
        out = {}
        for tid, c in self._trial_colors().items():
            c = QColor(c)
            if selected and tid not in selected:
                c.setAlpha(45)
            out[tid] = c
        return out

    def _draw_curves(self) -> None:
        colors = self._curve_colors()
        selected = self.selection.selected_ids
        order = sorted((tid for tid in self._trials if self._trials[tid]["curve"]),
                       key=lambda tid: (tid in selected, tid))  # selected drawn last, on top
        self.curves.show_runs([(f"#{trial_label(tid)}", self._trials[tid]["curve"], colors[tid]) for tid in order])

    def _draw_views(self) -> None:
        trials = [{"id": t["id"], "params": t["params"], "value": t["value"], "status": t["status"]}
                  for t in self.trials]
        self.parallel_coords.set_data(trials, metric=self._metric, direction=self._direction)
        self.scatter.set_data(trials, metric=self._metric, direction=self._direction)
        n_done = sum(1 for t in trials if t["status"] == "complete")
        if n_done != self._n_done_for_importance:
            self._n_done_for_importance = n_done
            labelled = [{**t, "params": {short_label(k): v for k, v in t["params"].items()}} for t in trials]
            self.importance.set_trials(labelled, direction=self._direction)

    def _update_status(self) -> None:
        counts: dict[str, int] = {}
        for t in self._trials.values():
            counts[t["status"]] = counts.get(t["status"], 0) + 1
        parts = []
        if self._study:
            parts.append(f"<b>{self._study}</b>")
        state = {"starting": "starting workers…", "running": "running", "paused": "paused",
                 "stopping": "stopping…", "finished": "finished", "stopped": "stopped", "failed": "failed",
                 "opened": "stored", "loading": "opening…"}.get(self._sweep_state, "")
        if state:
            parts.append(state)
        if self._trials:
            done = [f"{counts.get('complete', 0)} complete"]
            for key in ("running", "pruned", "failed", "stopped"):
                if counts.get(key):
                    done.append(f"{counts[key]} {key}")
            parts.append(", ".join(done))
        best = self.best_trial()
        if best is not None:
            parts.append(f"best {self._metric} {fmt_metric(best['value'])} (trial {trial_label(best['id'])})")
        text = " · ".join(parts)
        chance = self.chance_warning()
        if chance:
            text += f"<br><span style='color:#e65100'>⚠ {chance}</span>"
        if self._message:
            color = "#c62828" if self._sweep_state == "failed" else "palette(text)"
            text = f"{text}<br><span style='color:{color}'>{self._message}</span>" if text else \
                f"<span style='color:{color}'>{self._message}</span>"
        if text:
            self.status.setText(text)
        self._update_buttons()

    def chance_warning(self) -> str:
        """What to say when every finished trial (two at least) scored no better than always
        guessing the most common class; '' otherwise."""
        done = [t for t in self._trials.values() if t["status"] == "complete"]
        if len(done) < 2 or not all(baseline_note(t.get("metrics") or {}) for t in done):
            return ""
        return (f"All {len(done)} finished trials are at chance level: no better than always guessing the most "
                "common class, so none of these settings learns anything. Check the experiment first (Check and "
                "Find LR beside Train), or widen the ranges.")

    def _update_buttons(self) -> None:
        running = self.running
        stopping = self._sweep_state == "stopping"
        self.new_button.setEnabled(not running and self.spec_source is not None)
        self.open_button.setEnabled(not running)
        self.continue_button.setEnabled(not running and self._study is not None)
        self.more_trials.setEnabled(not running and self._study is not None)
        self.pause_button.setEnabled(running and not stopping and self._study is not None)
        self.pause_button.setText("Resume" if running and self.runner.paused else "Pause")
        self.stop_button.setEnabled(running and not stopping)
        self.best_button.setEnabled(self.best_trial() is not None and self._base_spec is not None)

    @property
    def spec_source(self) -> Callable[[], tuple[ExperimentSpec, Any]] | None:
        """Where "New sweep…" reads the spec to sweep (the editor's); None: the button is off."""
        return self._spec_source

    @spec_source.setter
    def spec_source(self, source: Callable[[], tuple[ExperimentSpec, Any]] | None) -> None:
        self._spec_source = source
        self._update_buttons()  # "New sweep…" is the first thing to do on an empty page

    # ==== selection ======================================================================================
    def _table_selection_changed(self, *_args) -> None:
        if self._syncing:
            return
        ids = {self.proxy.index(i.row(), 0).data(ID_ROLE) for i in self.table.selectionModel().selectedRows()}
        self._syncing = True
        try:
            self.selection.set_selected(ids)
        finally:
            self._syncing = False

    def _selection_changed(self, ids: set) -> None:
        if not self._syncing:
            self._syncing = True
            try:
                sm = self.table.selectionModel()
                sel = QItemSelection()
                for tid in ids:
                    row = self.model.row_of(tid)
                    if row is None:
                        continue
                    prow = self.proxy.mapFromSource(self.model.index(row, 0)).row()
                    sel.select(self.proxy.index(prow, 0), self.proxy.index(prow, self.proxy.columnCount() - 1))
                sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                if ids and not sel.isEmpty():
                    self.table.scrollTo(sel.indexes()[0])
            finally:
                self._syncing = False
        self._draw_curves()

    def selected_rows(self) -> list[int]:
        """Trial numbers of the table's selected rows."""
        return sorted(self.proxy.index(i.row(), 0).data(ID_ROLE) for i in self.table.selectionModel().selectedRows())

    # ==== buttons ============================================================================================
    def _new_clicked(self) -> None:
        self.new_sweep()

    def _open_clicked(self) -> None:
        picker = SweepPickerDialog(self.storage, self)
        try:
            if picker.exec() == QDialog.DialogCode.Accepted and picker.chosen:
                self.open_sweep(picker.chosen)
        finally:
            picker.deleteLater()
