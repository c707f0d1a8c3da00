"""The main window: pages by stage (Data, Model, Train, Runs, Sweeps… see gui/pages), menus,
the toolbar with the run controls, and the status bar. It wires panels to the Session and keeps
nothing of the experiment itself.

`add_page(key, title, widget)` adds a page; the rail on the left switches pages (Ctrl+1…9) and
one page can be shown beside another. QSettings keeps geometry, the page shown (and beside),
theme and recent projects. The first launch is maximised on screens up to 1920×1080; the
window never resizes itself after that.
"""

from __future__ import annotations

from pathlib import Path

from typing import Callable

from PySide6.QtCore import QByteArray, QSettings, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMenu, QSizePolicy, QToolBar, QWidget

from workbench.core.training import RunFailed, RunFinished, RunStarted, RunStopped
from workbench.gui import prompts
from workbench.gui.diagnostics import wiring as diagnostics
from workbench.gui.error_dialog import RunErrorDialog
from workbench.gui.log_messages import StatusLog
from workbench.gui.pages import DataPage, ExportPage, ModelPage, PageHost, RunsPage, TrainPage
from workbench.gui.panels.data_panel import DataPanel
from workbench.gui.panels.model_panel import ModelPanel
from workbench.gui.panels.runs_panel import RunsPanel
from workbench.gui.panels.training_panel import TrainingPanel
from workbench.gui.plots.image_menu import install_plot_image_menu
from workbench.gui.plots.live_curves import LiveCurves
from workbench.gui.project import ProjectController
from workbench.gui.runs import wiring as experiments
from workbench.gui.run_controls import LiveLrControl, RunProgress, clock
from workbench.gui.session import Session
from workbench.gui.theme import apply_theme, icon, is_dark
from workbench.gui.wording import for_the_app

SETTINGS_VERSION = 3  # bump when the layout changes so old saved states are not restored
MAXIMISE_UP_TO = (1920, 1080)  # first launch: maximised on screens this size or smaller
REASON_WIDTH = 420  # px of toolbar for "why Train is disabled" (the tooltip has all of it)
STATE_MESSAGES = {"starting": "Starting the run…", "stopping": "Stopping…", "paused": "Paused"}


class MainWindow(QMainWindow):
    def __init__(self, session: Session | None = None, settings: QSettings | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.session = session or Session(parent=self)
        self.settings = settings or QSettings()
        self.error_dialog: RunErrorDialog | None = None
        self._closed = False
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        install_plot_image_menu(QApplication.instance())  # right-click on any plot: copy or save it

        self.project = ProjectController(self.session, self, self.settings)
        self.pages = PageHost(self)
        self.setCentralWidget(self.pages)
        self._build_pages()

        self.progress = RunProgress(self)
        self.live_lr = LiveLrControl(self.session, self)
        self.reason_label = QLabel(objectName="reasonLabel")
        self.reason_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.reason_label.setMaximumWidth(REASON_WIDTH)
        self._build_actions()
        self._build_menus()
        experiments.install(self)  # Sweeps page, seeds/branch/resume actions
        self._build_view_menu()
        self._build_toolbar()
        diagnostics.install(self)  # Check, Find LR, the Diagnose and Race pages, the divergence bar
        self.statusBar().addPermanentWidget(self.progress)

        s = self.session
        s.run_events.connect(self.plots.handle_events)  # a batch at a time; the plots redraw on a timer
        s.run_event.connect(self._on_run_event)
        s.run_state_changed.connect(self._on_state)
        s.validity_changed.connect(self._on_validity)
        s.data_error.connect(lambda text: text and self.statusBar().showMessage(text.splitlines()[0], 8000))
        s.dataset_changed.connect(self._on_dataset)
        self.runs_panel.overlays_changed.connect(self.plots.show_runs)
        self.runs_panel.evaluate_requested.connect(self.evaluate_run)
        self.project.status.connect(lambda text: self.statusBar().showMessage(text, 6000))
        s.notice.connect(lambda text: self.statusBar().showMessage(text, 12000))
        self.status_log = StatusLog(self)  # the core's warnings (a store that reconnected, ...)
        self.status_log.message.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.project.title_changed.connect(self.setWindowTitle)
        self.setWindowTitle(self.project.title())
        self._on_state(s.state)
        self._on_validity(*s.validity)
        self._restore_settings()

    # ---- pages --------------------------------------------------------------------------
    def _build_pages(self) -> None:
        """The pages by stage. A new page is one `add_page` line here (see gui/pages)."""
        s = self.session
        self.data_panel = DataPanel(s)
        self.model_panel = ModelPanel(s)
        self.training_panel = TrainingPanel(s)
        self.plots = LiveCurves(self)
        self.plots.setObjectName("liveCurves")
        self.runs_panel = RunsPanel(s)
        self.train_page = TrainPage(self.plots, self.training_panel)
        self.add_page("data", "Data", DataPage(self.data_panel),
                      tip="Choose a sample or open a file; target, task and splits")
        self.add_page("model", "Model", ModelPage(self.model_panel), tip="Stack layers from the palette; shapes and sizes")
        self.add_page("train", "Train", self.train_page, tip="Live curves, loss, optimizer, schedule and loop")
        self.add_page("runs", "Runs", RunsPage(self.runs_panel),
                      tip="Every recorded run: compare, overlay, branch, resume")
        self.evaluate_page = None  # built the first time it is shown (its plots take a moment)
        self._last_started: RunStarted | None = None
        self.add_page("evaluate", "Evaluate", self._build_evaluate_page,
                      tip="What a model gets right and wrong: confusion matrix, samples, curves, boundary, playground")
        self.add_page("export", "Export", self._build_export_page,
                      tip="Export a run's model (ONNX, torch.export, safetensors, a training script), compress it, "
                          "or start a new run from its weights")

    def _build_evaluate_page(self) -> QWidget:
        from workbench.gui.pages.evaluate import EvaluatePage

        page = EvaluatePage(self.session)
        self.session.run_events.connect(page.handle_events)
        if self._last_started is not None and self.session.is_running:
            page.handle_events([self._last_started])  # a run started before the page was built
        self.evaluate_page = page
        return page

    def evaluate_run(self, run_id: int) -> None:
        """Show a recorded run on the Evaluate page."""
        self.show_page("evaluate")
        self.pages.page("evaluate").show_run(run_id)

    def _build_export_page(self) -> QWidget:
        self.export_page = ExportPage(self.session)
        return self.export_page

    def add_page(self, key: str, title: str, widget: QWidget | Callable[[], QWidget], shortcut: str | None = None,
                 *, tip: str = "", icon_name: str | None = None) -> QAction:
        """Add a page to the window (see gui/pages/__init__.py); returns its action.

        `key` places it in the rail (pages.STAGE_ORDER) and names its icon (page-<key>.svg);
        `widget` may be a function that builds the page when it is first shown; `shortcut`
        defaults to Ctrl+<position>. The action is also added to the window, so its shortcut
        works wherever the focus is."""
        action = self.pages.add_page(key, title, widget, shortcut, tip=tip, icon_name=icon_name)
        self.addAction(action)
        if hasattr(self, "pages_menu"):
            self._fill_pages_menu()
        return action

    def show_page(self, key: str) -> None:
        """Bring a page into view (nothing changes if it is already shown, even beside)."""
        if not self.pages.is_visible_page(key):
            self.pages.show_page(key)

    # ---- building -----------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, icon_name: str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
            action.setProperty("iconName", icon_name)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in shortcuts])
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        p, s = self.project, self.session
        key = QKeySequence.StandardKey
        self.new_action = self._action("&New", p.new, key.New, "new", "Start a new project")
        self.open_action = self._action("&Open…", p.open, key.Open, "open", "Open a project file")
        self.save_action = self._action("&Save", p.save, key.Save, "save", "Save the project")
        self.save_as_action = self._action("Save &As…", p.save_as, key.SaveAs, None, "Save the project under a new name")
        self.open_data_action = self._action("Open &Data…", self._open_data, "Ctrl+Shift+O", "open",
                                             "Load a CSV/TSV/NPY/NPZ file as the dataset")
        self.quit_action = self._action("&Quit", self.close, key.Quit, None, "Close Workbench")
        self.undo_action = s.undo_stack.createUndoAction(self, "&Undo")
        self.redo_action = s.undo_stack.createRedoAction(self, "&Redo")
        for action, name, k in ((self.undo_action, "undo", key.Undo), (self.redo_action, "redo", key.Redo)):
            action.setIcon(icon(name))
            action.setProperty("iconName", name)
            action.setShortcut(k)
        self.train_action = self._action("&Train", self._train, ["Ctrl+Return", "Ctrl+Enter"], "train",
                                         "Train the model (Ctrl+Enter)")
        self.pause_action = self._action("&Pause", s.toggle_pause, "Ctrl+P", "pause", "Pause or resume the run (Ctrl+P)")
        self.stop_action = self._action("&Stop", s.stop, "Esc", "stop", "Stop the run (Esc)")
        self.dark_action = self._action("&Dark mode", self._toggle_dark, "Ctrl+Shift+D", None, "Switch light/dark")
        self.dark_action.setCheckable(True)
        self.dark_action.setChecked(is_dark())
        self.reset_layout_action = self._action("Reset &layout", self._reset_layout, None, None,
                                                "Close the page beside and give every page its first sizes")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        file_menu.addMenu(self.project.recent_menu)
        file_menu.addActions([self.save_action, self.save_as_action])
        file_menu.addSeparator()
        file_menu.addAction(self.open_data_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        self.run_menu = run_menu = bar.addMenu("&Run")
        run_menu.addActions([self.train_action, self.pause_action, self.stop_action])
        self.view_menu = bar.addMenu("&View")

    def _build_view_menu(self) -> None:
        view_menu = self.view_menu
        self.pages_menu = view_menu  # the pages come first, then the rest
        self._fill_pages_menu()

    def _fill_pages_menu(self) -> None:
        view_menu = self.view_menu
        view_menu.clear()
        view_menu.addActions([self.pages.action(k) for k in self.pages.keys()])
        self.beside_menu = QMenu("Show &beside", view_menu)
        self.beside_menu.setObjectName("besideMenu")
        self.beside_menu.aboutToShow.connect(self._fill_beside_menu)
        view_menu.addMenu(self.beside_menu)
        view_menu.addSeparator()
        view_menu.addAction(self.dark_action)
        view_menu.addAction(self.reset_layout_action)

    @Slot()
    def _fill_beside_menu(self) -> None:
        self.beside_menu.clear()
        self.pages.fill_beside_menu(self.beside_menu)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main", self)
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(bar)
        for action in (self.new_action, self.open_action, self.save_action):
            bar.addAction(action)
            bar.widgetForAction(action).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        bar.addSeparator()
        for action in (self.undo_action, self.redo_action):
            bar.addAction(action)
            bar.widgetForAction(action).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        bar.addSeparator()
        bar.addActions([self.train_action, self.pause_action, self.stop_action])
        self.train_button = bar.widgetForAction(self.train_action)
        self.train_button.setObjectName("trainButton")
        self.pause_button = bar.widgetForAction(self.pause_action)
        self.pause_button.setObjectName("pauseButton")
        self.stop_button = bar.widgetForAction(self.stop_action)
        self.stop_button.setObjectName("stopButton")
        self.reason_action = bar.addWidget(self.reason_label)
        bar.addSeparator()
        bar.addWidget(self.live_lr)
        self.toolbar = bar

    # ---- running ------------------------------------------------------------------------
    @Slot()
    def _train(self) -> None:
        if self.session.state != "idle":
            return
        branch = self.session.next_run
        if self.session.train():
            self.plots.reset()
            self.show_page("train")  # the curves are what a person wants to see now
            if branch is not None:  # the child's curve continues its parent's, shown under it
                self.runs_panel.select_ids([branch.parent_id])

    @Slot(object)
    def _on_run_event(self, event) -> None:
        self.progress.handle_event(event)
        bar = self.statusBar()
        if isinstance(event, RunStarted):
            self._last_started = event
            fine_tuning = "".join(f" · {note}" for note in event.notes)  # "loaded 4 of 5 layers from run #3 ..."
            bar.showMessage(f"Training on {event.device_name}: {event.n_train} samples, "
                            f"{event.total_params:,} parameters{fine_tuning}", 12000 if fine_tuning else 5000)
        elif isinstance(event, RunFinished):
            bar.showMessage(f"Finished in {clock(event.duration)}{self._headline(event.metrics)}", 15000)
        elif isinstance(event, RunStopped):
            bar.showMessage(f"Stopped after {event.epochs} epochs{self._headline(event.metrics)}", 15000)
        elif isinstance(event, RunFailed):
            message = for_the_app(event.message)  # core names spec fields; the window names its controls
            bar.showMessage("The run failed: " + message.splitlines()[0] if message else "The run failed", 15000)
            self.show_run_error(message, event.details)

    @staticmethod
    def _headline(metrics: dict) -> str:
        for key in ("test_accuracy", "val_accuracy", "test_r2", "val_r2", "val_loss", "loss"):
            value = metrics.get(key)
            if value is not None:
                text = f"{value:.1%}" if key.endswith("accuracy") else f"{value:.4g}"
                return f" · {key.replace('_', ' ')} {text}"
        return ""

    def show_run_error(self, message: str, details: str = "") -> None:
        if self.error_dialog is not None:
            self.error_dialog.close()
        self.error_dialog = RunErrorDialog(message, details, parent=self)
        self.error_dialog.destroyed.connect(self._error_dialog_gone)
        self.error_dialog.show()

    @Slot()
    def _error_dialog_gone(self) -> None:
        self.error_dialog = None

    @Slot(str)
    def _on_state(self, state: str) -> None:
        valid, _reason = self.session.validity
        self.train_action.setEnabled(state == "idle" and valid)
        self.pause_action.setEnabled(state in ("running", "paused"))
        self.stop_action.setEnabled(state in ("starting", "running", "paused"))
        paused = state == "paused"
        self.pause_action.setText("&Resume" if paused else "&Pause")
        self.pause_action.setIcon(icon("train" if paused else "pause"))
        self.pause_action.setProperty("iconName", "train" if paused else "pause")
        if state in STATE_MESSAGES:
            self.statusBar().showMessage(STATE_MESSAGES[state], 4000 if state != "paused" else 0)
        elif state == "running":
            self.statusBar().clearMessage() if self.statusBar().currentMessage() == "Paused" else None
        self._update_reason()

    @Slot(bool, str)
    def _on_validity(self, valid: bool, reason: str) -> None:
        self.train_action.setEnabled(valid and self.session.state == "idle")
        self._update_reason()

    def _update_reason(self) -> None:
        valid, reason = self.session.validity
        text = "" if valid or self.session.state != "idle" else reason
        metrics = self.reason_label.fontMetrics()
        self.reason_label.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, REASON_WIDTH - 12))
        self.reason_label.setToolTip(text)
        self.reason_action.setVisible(bool(text))  # a toolbar widget shows and hides by its action
        self.train_action.setToolTip(f"Cannot train: {reason}" if text else "Train the model (Ctrl+Enter)")

    # ---- data and files -----------------------------------------------------------------
    @Slot(object)
    def _on_dataset(self, dataset) -> None:
        if dataset is None:
            return
        meta = dataset.meta
        name = Path(meta.source).name if not meta.source.startswith("sample:") else meta.source[7:]
        kind = f"{len(meta.class_names)} classes" if meta.task == "classification" else "regression"
        self.statusBar().showMessage(f"Loaded {name}: {meta.n_samples:,} samples, {kind}", 4000)

    @Slot()
    def _open_data(self) -> None:
        path = prompts.ask_open_data(self)
        if path:
            self.load_data_path(path)

    def load_data_path(self, path: str) -> None:
        self.data_panel.load_path(path)
        self.show_page("data")
        self.statusBar().showMessage(f"Loading {Path(path).name}…", 4000)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt name)
        urls = event.mimeData().urls()
        if not urls or not urls[0].isLocalFile():
            event.ignore()
            return
        path = urls[0].toLocalFile()
        event.acceptProposedAction()
        if path.lower().endswith(".json"):
            self.project.open_path(path)
        else:
            self.load_data_path(path)

    # ---- view ---------------------------------------------------------------------------
    @Slot(bool)
    def _toggle_dark(self, dark: bool) -> None:
        apply_theme(QApplication.instance(), dark)
        for action in self.findChildren(QAction):
            name = action.property("iconName")
            if name:
                action.setIcon(icon(name))
        self.live_lr.apply_button.setIcon(icon("apply"))
        self.pages.refresh_icons()
        self.settings.setValue("view/dark", dark)

    @Slot()
    def _reset_layout(self) -> None:
        self.pages.close_beside()
        self.train_page.reset_sizes()
        self.pages.show_page(self.pages.keys()[0])

    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        self._first_launch = not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry))
        if self._first_launch:
            screen = QApplication.primaryScreen()
            available = screen.availableGeometry() if screen else None
            if available is not None:
                self.setGeometry(available if self._maximise_on(available)
                                 else available.adjusted(available.width() // 10, available.height() // 10,
                                                         -available.width() // 10, -available.height() // 10))
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state, SETTINGS_VERSION)
        self.pages.restore_state({"current": self.settings.value("pages/current", ""),
                                  "beside": self.settings.value("pages/beside", ""),
                                  "splitter": self.settings.value("pages/splitter")})

    @staticmethod
    def _maximise_on(available) -> bool:
        return available.width() <= MAXIMISE_UP_TO[0] and available.height() <= MAXIMISE_UP_TO[1]

    def show_first(self) -> None:
        """Show the window: maximised at the first launch on a screen up to 1920×1080, else as it was."""
        screen = QApplication.primaryScreen()
        if self._first_launch and screen is not None and self._maximise_on(screen.availableGeometry()):
            self.showMaximized()
        else:
            self.show()

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(SETTINGS_VERSION))
        state = self.pages.save_state()
        self.settings.setValue("pages/current", state["current"])
        self.settings.setValue("pages/beside", state["beside"])
        self.settings.setValue("pages/splitter", state["splitter"])
        self.settings.sync()

    # ---- closing ------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        if self._closed:
            event.accept()
            return
        if not (self._may_stop_run() if self.session.is_running else self.project.maybe_save()):
            event.ignore()
            return
        self.shutdown(wait=False)
        event.accept()

    def _may_stop_run(self) -> bool:
        """Closing during a run: one question (the run and any unsaved changes together), the run
        paused while it is asked; True to close (the run then stops), False to keep training."""
        held = self.session.state == "running"
        if held:
            self.session.pause()
        answer = prompts.ask_stop_run(self, self.project.display_name() if self.session.is_dirty else None)
        if answer == "save" and not self.project.save():
            answer = "keep"  # the save was cancelled (or failed, and said why)
        if answer == "keep":
            if held:
                self.session.resume()
            return False
        if answer == "discard":
            self.project.remove_autosave()
        return True

    def shutdown(self, wait: bool = True) -> None:
        """Save the layout, stop the run and close every thread. `wait` (tests, scripts): wait
        for the run to stop (killing it if it will not). Closing the window never waits: the
        run stops on its own thread (app.main gives it a moment after the window is gone)."""
        if self._closed:
            return
        self._closed = True
        self.status_log.close()
        self.save_settings()
        self.project.flush_autosave()
        if self.error_dialog is not None:
            self.error_dialog.close()
        self.session.shutdown(5.0 if wait else None)
        experiments.shutdown(self, wait)
        diagnostics.shutdown(self, wait)
        self.runs_panel.shutdown()
        self.training_panel.shutdown()
        self.data_panel.shutdown()
        if getattr(self, "export_page", None) is not None:
            self.export_page.shutdown()
        if self.evaluate_page is not None:
            self.evaluate_page.shutdown()
