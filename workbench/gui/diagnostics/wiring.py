"""Main-window wiring for diagnostics: Check and Find LR beside Train, the Diagnose page (the
health view, live and for the run selected on the Runs page), the Race page (the optimizer race,
with the selected finished run as "Your model"), the divergence bar and alert messages.
main_window.py only calls `install(window)` and `shutdown(window)`."""

from __future__ import annotations

from PySide6.QtWidgets import QToolBar

from workbench.core.training import HealthAlert, RunStarted
from workbench.gui.background import BackgroundCalls
from workbench.gui.diagnostics.diagnose_page import DiagnosePage
from workbench.gui.diagnostics.divergence_bar import DivergenceBar
from workbench.gui.wording import for_the_app


def _bring_to_front(widget) -> None:
    """Show a top-level window, in front when it was open already (the offscreen platform that
    tests use cannot raise windows and says so)."""
    from PySide6.QtGui import QGuiApplication

    visible = widget.isVisible()
    widget.show()
    if visible and QGuiApplication.platformName() != "offscreen":
        widget.raise_()
        widget.activateWindow()


def _load_health(store_path: str, run_id: int):
    from workbench.core.runs import RunStore, stored_health

    with RunStore(store_path) as store:
        return (*stored_health(store, run_id), store.epochs(run_id))


def _load_slice(store_path: str, run_id: int):
    from workbench.core.diagnostics import run_slice
    from workbench.core.runs import RunStore

    with RunStore(store_path) as store:
        return run_slice(store, run_id)


class DiagnosticsWiring:
    """Connects the diagnostics to the main window and its session (see the module doc)."""
    def __init__(self, window) -> None:
        self.window = w = window
        self.session = s = window.session
        self.background = BackgroundCalls("diagnostics", window)
        self.check_dialog = None
        self.lr_dialog = None
        self.race_view = None
        self._live = False
        self._shown_run: int | None = None

        w.check_action = w._action("&Check", self.open_check, "Ctrl+Shift+K", "apply",
                                   "Pre-flight check: seconds on the real model and data before a long run")
        w.find_lr_action = w._action("Find &LR", self.open_lr_finder, "Ctrl+Shift+L", None,
                                     "Learning-rate range test: suggests optimizer.lr")
        train_index = w.run_menu.actions().index(w.stop_action) + 1
        after = w.run_menu.actions()[train_index] if train_index < len(w.run_menu.actions()) else None
        w.run_menu.insertActions(after, [w.check_action, w.find_lr_action])
        bar = w.toolbar
        first_after_train = bar.actions()[bar.actions().index(w.stop_action) + 1]
        bar.insertActions(first_after_train, [w.check_action, w.find_lr_action])
        w.check_button = bar.widgetForAction(w.check_action)
        w.check_button.setObjectName("checkButton")
        w.find_lr_button = bar.widgetForAction(w.find_lr_action)
        w.find_lr_button.setObjectName("findLrButton")

        self.diagnose_page = DiagnosePage([w.check_action, w.find_lr_action])
        self.health = w.health_view = self.diagnose_page.health
        w.add_page("diagnose", "Diagnose", self.diagnose_page,
                   tip="Pre-flight check, LR finder, and each layer's health during and after a run")
        w.add_page("race", "Race", self._build_race,
                   tip="Optimizers racing on 2-D loss surfaces and on your model's loss (for teaching)")

        self.divergence = DivergenceBar()
        w.divergence_bar = self.divergence
        holder = QToolBar("Divergence", w)
        holder.setObjectName("divergenceToolbar")
        holder.setMovable(False)
        holder.addWidget(self.divergence)
        w.addToolBarBreak()
        w.addToolBar(holder)
        holder.hide()
        self.divergence_holder = holder
        self.divergence.resume_requested.connect(self._resume_lower)
        self.health.lr_chosen.connect(self._use_suggested_lr)
        self.divergence.stop_requested.connect(self._stop)

        s.run_events.connect(self._on_events)
        s.run_state_changed.connect(self._on_state)
        s.validity_changed.connect(lambda *_a: self._on_state(s.state))
        # the panel announces every change of selection (clicks and select_ids) with its overlays
        w.runs_panel.overlays_changed.connect(lambda _runs: self._on_runs_selected())
        self._on_state(s.state)

    # ---- enabling ------------------------------------------------------------------------------
    def _on_state(self, state: str) -> None:
        valid, reason = self.session.validity
        for action in (self.window.check_action, self.window.find_lr_action):
            action.setEnabled(valid)
        if not valid:
            self.window.check_action.setToolTip(f"Cannot check: {reason}")
        else:
            self.window.check_action.setToolTip("Pre-flight check: seconds on the real model and data")
        if state == "idle":
            self.divergence_holder.hide()

    # ---- dialogs -------------------------------------------------------------------------------
    def open_check(self) -> None:
        """Open (or bring forward) the pre-flight check dialog and run the check on the current spec."""
        from workbench.gui.diagnostics.check_dialog import CheckDialog

        if self.check_dialog is None:
            self.check_dialog = CheckDialog(self.session, self.window)
            self.check_dialog.find_lr_requested.connect(self.open_lr_finder)
        _bring_to_front(self.check_dialog)
        self.check_dialog.start()

    def open_lr_finder(self) -> None:
        """Open (or bring forward) the LR finder dialog and start the range test on the current spec."""
        from workbench.gui.diagnostics.lr_finder_dialog import LRFinderDialog

        if self.lr_dialog is None:
            self.lr_dialog = LRFinderDialog(self.session, self.window)
            self.lr_dialog.sweep_requested.connect(self._sweep_lr)
        _bring_to_front(self.lr_dialog)
        self.lr_dialog.start()

    def _sweep_lr(self, space: dict) -> None:
        w = self.window
        panel = getattr(w, "sweep_panel", None)
        if panel is None:
            return
        w.show_page("sweeps")
        panel.new_sweep(self.session.spec, self.session.base_dir, space=space)

    def _build_race(self):
        """The Race page, built the first time it is shown."""
        from workbench.gui.diagnostics.race_view import RaceView

        self.race_view = RaceView()
        self._offer_selected_run()
        return self.race_view

    # ---- live events ---------------------------------------------------------------------------
    def _on_events(self, events: list) -> None:
        self.health.handle_events(events)
        for event in events:
            if isinstance(event, RunStarted):
                self._live = True
                self._shown_run = None
            elif isinstance(event, HealthAlert):
                if event.kind == "divergence":
                    self.divergence.offer(event)
                    self.divergence_holder.show()
                else:
                    self.window.statusBar().showMessage(for_the_app(event.message), 15000)
        if any(type(e).__name__ in ("RunFinished", "RunStopped", "RunFailed") for e in events):
            self._live = False

    def _resume_lower(self, lr: float) -> None:
        self.divergence_holder.hide()
        error = self.session.set_lr(lr)
        if error:
            self.window.statusBar().showMessage(error, 8000)
        self.session.resume()

    def _use_suggested_lr(self, lr: float) -> None:
        """An alert's suggested learning rate: for the live run now (as the Train page's live LR
        control would set it), and for the spec either way."""
        s = self.session
        if s.state != "idle":
            s.set_lr(lr)
        error = s.edit({"optimizer.lr": float(f"{lr:.3g}")}, text="Use the health monitor's learning rate")
        self.window.statusBar().showMessage(for_the_app(error) if error else f"Optimizer: lr is now {lr:.3g}.", 8000)

    def _stop(self) -> None:
        self.divergence_holder.hide()
        self.session.stop()

    # ---- a past run --------------------------------------------------------------------------
    def _selected_run(self):
        records = self.window.runs_panel.selected_records()
        return records[0] if len(records) == 1 else None

    def _on_runs_selected(self) -> None:
        record = self._selected_run()
        if record is None or self._live or record.id == self._shown_run:
            return
        self._shown_run = record.id
        title = f"Run #{record.id} {record.name}"
        self.background.submit(_load_health, self.session.store_path, record.id,
                               on_done=lambda found: self._show_stored(record.id, title, found))
        self._offer_selected_run()

    def _show_stored(self, run_id: int, title: str, found) -> None:
        if self._shown_run == run_id and not self._live:
            self.health.show_stored(title, *found)

    def _offer_selected_run(self) -> None:
        """A finished run's loss slice becomes the race's "Your model" surface."""
        record = self._selected_run()
        if self.race_view is None or record is None or record.status not in ("finished", "stopped"):
            return
        title = f"run #{record.id} {record.name}"
        race = self.race_view
        self.background.submit(_load_slice, self.session.store_path, record.id,
                               on_done=lambda surface: race.set_model_surface(surface, title),
                               on_error=lambda err, _d: self.window.statusBar().showMessage(
                                   f"Your model's loss slice is not available: {err}", 8000))

    def shutdown(self, wait: bool = False) -> None:
        """Cancel every diagnostic; join their threads only with `wait` (tests): a closing window
        never waits for a computation in progress (its result is dropped, the threads are daemons)."""
        self.background.shutdown(wait=wait)
        for widget in (self.check_dialog, self.lr_dialog, self.race_view):
            if widget is not None:
                widget.shutdown(wait)


def install(window) -> None:
    """Add Check, Find LR, the Diagnose and Race pages and the divergence bar to `window`."""
    window.diagnostics = DiagnosticsWiring(window)


def shutdown(window, wait: bool = False) -> None:
    wiring = getattr(window, "diagnostics", None)
    if wiring is not None:
        wiring.shutdown(wait)
