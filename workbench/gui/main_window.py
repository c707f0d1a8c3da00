"""The main window: docks for the panels, the live plots in the middle, menus, toolbar and
status bar. It wires panels to the Session and keeps nothing of the experiment itself.

Layout (fits 1366×768): Data and Model tabbed on the left, Training on the right, the live
curves in the centre with the runs table under them. QSettings keeps geometry, dock layout,
theme and recent projects.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QSizePolicy, QToolBar, QWidget

from workbench.core.training import RunFailed, RunFinished, RunStarted, RunStopped
from workbench.gui import prompts
from workbench.gui.error_dialog import RunErrorDialog
from workbench.gui.panels.data_panel import DataPanel
from workbench.gui.panels.model_panel import ModelPanel
from workbench.gui.panels.runs_panel import RunsPanel
from workbench.gui.panels.training_panel import TrainingPanel
from workbench.gui.plots.live_curves import LiveCurves
from workbench.gui.project import ProjectController
from workbench.gui.runs import wiring as experiments
from workbench.gui.run_controls import LiveLrControl, RunProgress, clock
from workbench.gui.session import Session
from workbench.gui.theme import apply_theme, icon, is_dark

SETTINGS_VERSION = 2  # bump when the dock layout changes so old saved states are not restored
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
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

        self.project = ProjectController(self.session, self, self.settings)
        self.plots = LiveCurves(self)
        self.plots.setObjectName("liveCurves")
        self.setCentralWidget(self.plots)
        self.data_panel = DataPanel(self.session)
        self.model_panel = ModelPanel(self.session)
        self.training_panel = TrainingPanel(self.session)
        self.runs_panel = RunsPanel(self.session)
        self.data_dock = self._dock("Data", self.data_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.model_dock = self._dock("Model", self.model_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.training_dock = self._dock("Training", self.training_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.runs_dock = self._dock("Runs", self.runs_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.data_dock, self.model_dock)
        self.data_dock.raise_()
        self._default_state = self.saveState(SETTINGS_VERSION)
        self._layout_restored = False

        self.progress = RunProgress(self)
        self.live_lr = LiveLrControl(self.session, self)
        self.reason_label = QLabel(objectName="reasonLabel")
        self.reason_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.reason_label.setMaximumWidth(REASON_WIDTH)
        self._build_actions()
        self._build_menus()
        experiments.install(self)  # Sweep dock, seeds/branch/resume actions
        self._default_state = self.saveState(SETTINGS_VERSION)
        self._build_toolbar()
        self.statusBar().addPermanentWidget(self.progress)

        s = self.session
        s.run_events.connect(self.plots.handle_events)  # a batch at a time; the plots redraw on a timer
        s.run_event.connect(self._on_run_event)
        s.run_state_changed.connect(self._on_state)
        s.validity_changed.connect(self._on_validity)
        s.data_error.connect(lambda text: text and self.statusBar().showMessage(text.splitlines()[0], 8000))
        s.dataset_changed.connect(self._on_dataset)
        self.runs_panel.overlays_changed.connect(self.plots.show_runs)
        self.project.status.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.project.title_changed.connect(self.setWindowTitle)
        self.setWindowTitle(self.project.title())
        self._on_state(s.state)
        self._on_validity(*s.validity)
        self._restore_settings()

    # ---- building -----------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title.lower()}Dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

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
                                                "Put the panels back where they started")

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
        self.view_menu = view_menu = bar.addMenu("&View")
        view_menu.addAction(self.dark_action)
        view_menu.addSeparator()
        for dock in (self.data_dock, self.model_dock, self.training_dock, self.runs_dock):
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(self.reset_layout_action)

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
            if branch is not None:  # the child's curve continues its parent's, shown under it
                self.runs_panel.select_ids([branch.parent_id])

    @Slot(object)
    def _on_run_event(self, event) -> None:
        self.progress.handle_event(event)
        bar = self.statusBar()
        if isinstance(event, RunStarted):
            bar.showMessage(f"Training on {event.device_name}: {event.n_train} samples, "
                            f"{event.total_params:,} parameters", 5000)
        elif isinstance(event, RunFinished):
            bar.showMessage(f"Finished in {clock(event.duration)}{self._headline(event.metrics)}", 15000)
        elif isinstance(event, RunStopped):
            bar.showMessage(f"Stopped after {event.epochs} epochs{self._headline(event.metrics)}", 15000)
        elif isinstance(event, RunFailed):
            bar.showMessage("The run failed: " + event.message.splitlines()[0] if event.message else "The run failed",
                            15000)
            self.show_run_error(event.message, event.details)

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
        self.data_dock.show()
        self.data_dock.raise_()
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
        self.settings.setValue("view/dark", dark)

    @Slot()
    def _reset_layout(self) -> None:
        self.restoreState(self._default_state, SETTINGS_VERSION)
        for dock in (self.data_dock, self.model_dock, self.training_dock, self.runs_dock, self.sweep_dock):
            dock.show()
        self.runs_dock.raise_()
        self.data_dock.raise_()
        self._default_dock_sizes()

    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        restored = isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)
        if not restored:
            screen = QApplication.primaryScreen()
            available = screen.availableGeometry() if screen else None
            width, height = 1280, 760
            if available is not None:
                width, height = min(width, available.width()), min(height, available.height())
            self.resize(width, height)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self._layout_restored = self.restoreState(state, SETTINGS_VERSION)

    def _default_dock_sizes(self) -> None:
        # Only meaningful once the window has its size, hence from the first showEvent.
        width = max(self.width(), 1000)
        self.resizeDocks([self.data_dock, self.training_dock], [int(width * 0.35), int(width * 0.25)],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.runs_dock], [int(self.height() * 0.24)], Qt.Orientation.Vertical)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if not self._layout_restored:
            self._layout_restored = True
            self._default_dock_sizes()

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(SETTINGS_VERSION))
        self.settings.sync()

    # ---- closing ------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        if self._closed:
            event.accept()
            return
        if self.session.is_running and not prompts.ask_stop_run(self):
            event.ignore()
            return
        if not self.project.maybe_save():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Save the layout, stop the run (killing it if it will not stop) and join every thread."""
        if self._closed:
            return
        self._closed = True
        self.save_settings()
        self.project.flush_autosave()
        if self.error_dialog is not None:
            self.error_dialog.close()
        self.session.shutdown()
        experiments.shutdown(self)
        self.runs_panel.shutdown()
        self.training_panel.shutdown()
