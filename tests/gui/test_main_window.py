"""The main window: what a person sees on launch, the buttons' states, menus, shortcuts,
settings, the training panel, projects and autosave."""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from helpers import answer_modal, choose, wait_ready
from workbench.core.training import RunFinished


def menu_texts(window):
    return {a.text().replace("&", "") for a in window.menuBar().actions()}


def test_opens_ready_to_train(qtbot, make_window):
    window = make_window(spec=None)
    wait_ready(qtbot, window.session)
    assert menu_texts(window) == {"File", "Edit", "Run", "View"}
    assert window.train_button.isEnabled()
    assert not window.pause_button.isEnabled() and not window.stop_button.isEnabled()
    assert window.reason_label.text() == ""
    assert window.windowTitle().startswith("Untitled")
    assert window.pages.keys() == ["data", "model", "train", "evaluate", "diagnose", "runs", "sweeps", "export",
                                   "race"]  # stage order
    assert [window.pages.title(k) for k in window.pages.keys()] == ["Data", "Model", "Train", "Evaluate", "Diagnose",
                                                                     "Runs", "Sweeps", "Export", "Race"]
    assert window.pages.current_key == "data"


def test_fits_a_1366x768_screen(qtbot, make_window):
    window = make_window()
    window.resize(1366, 768)
    assert window.minimumSizeHint().width() <= 1366 and window.minimumSizeHint().height() <= 768
    assert window.width() <= 1366 and window.height() <= 768
    for key in window.pages.keys():
        window.show_page(key)
        qtbot.wait(20)
        container = window.pages.stack.currentWidget()
        assert not container.horizontalScrollBar().isVisible(), f"the {key} page scrolls sideways at 1366x768"
        assert not container.verticalScrollBar().isVisible(), f"the {key} page scrolls at 1366x768"
    body = window.training_panel.widget()
    # nothing cut off on the right, once the layouts have settled (over a few event-loop turns)
    qtbot.waitUntil(lambda: body.width() <= window.training_panel.viewport().width(), timeout=5000)


def test_pages_switch_by_rail_and_shortcut(qtbot, make_window):
    window = make_window()
    qtbot.mouseClick(window.pages.rail.widgetForAction(window.pages.action("runs")), Qt.MouseButton.LeftButton)
    assert window.pages.current_key == "runs" and window.runs_panel.isVisible()
    assert not window.data_panel.isVisible()
    for position, key in enumerate(window.pages.keys(), start=1):
        qtbot.keyClick(window, getattr(Qt.Key, f"Key_{position}"), Qt.KeyboardModifier.ControlModifier)
        assert window.pages.current_key == key
        assert window.pages.action(key).isChecked()
    assert "Ctrl+3" in window.pages.action("train").toolTip()


def test_a_page_beside_another_and_back(qtbot, make_window):
    window = make_window()
    window.show_page("train")
    window.pages.show_beside("model")
    assert window.plots.isVisible() and window.model_panel.isVisible()  # the stack beside the curves
    assert window.model_panel.x() >= 0 and window.pages.side.x() > window.pages.stack.x()
    window.show_page("data")  # the page beside stays
    assert window.data_panel.isVisible() and window.model_panel.isVisible() and not window.plots.isVisible()
    window.show_page("model")  # already in view: nothing moves
    assert window.pages.current_key == "data" and window.pages.beside_key == "model"
    window.pages.show_page("model")  # picked in the rail: back to its own place, full width
    assert window.pages.beside_key == "" and not window.pages.side.isVisible()
    assert window.pages.current_key == "model" and window.model_panel.isVisible()
    window.pages.show_beside("model")  # the current page moves beside: the page seen before fills the rest
    assert window.pages.current_key == "data" and window.pages.beside_key == "model"
    qtbot.mouseClick(window.pages.side_close, Qt.MouseButton.LeftButton)
    assert window.pages.beside_key == "" and window.pages.current_key == "data"


def test_train_shows_the_curves(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    window.show_page("runs")
    window.train_action.trigger()
    assert window.pages.current_key == "train" and window.plots.isVisible()
    qtbot.waitUntil(lambda: window.session.state == "idle", timeout=8000)


def test_add_page_places_it_by_stage_and_builds_it_when_first_shown(qtbot, make_window, monkeypatch):
    from PySide6.QtWidgets import QLabel

    window = make_window()
    built = []

    def build():
        built.append(QLabel("loss surface"))
        return built[-1]

    # every stage has its page already: a new stage key between train and evaluate shows the placing
    from workbench.gui.pages import host
    monkeypatch.setattr(host, "STAGE_ORDER", ("data", "model", "train", "lab", *host.STAGE_ORDER[3:]))
    window.add_page("lab", "Lab", build, tip="Try things")
    assert window.pages.keys() == ["data", "model", "train", "lab", "evaluate", "diagnose", "runs", "sweeps",
                                   "export", "race"]
    assert window.pages.action("runs").shortcut().toString() == "Ctrl+7"  # renumbered
    assert window.pages.action("lab") in window.view_menu.actions()
    assert not built
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.current_key == "lab" and built and built[0].isVisible()


def test_train_shortcut_runs_and_buttons_follow_the_state(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    events = []
    window.session.run_event.connect(events.append)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not window.train_button.isEnabled()
    qtbot.waitUntil(lambda: any(isinstance(e, RunFinished) for e in events), timeout=8000)
    qtbot.waitUntil(lambda: window.session.state == "idle")
    assert window.train_button.isEnabled()
    assert "Finished 3 epochs" in window.progress.text()
    assert "Finished" in window.statusBar().currentMessage()


def test_invalid_model_disables_train_with_the_reason(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    window.session.set_layers([{"type": "Conv2d", "out_channels": 4}])
    wait_ready(qtbot, window.session)
    assert not window.train_button.isEnabled()
    assert "Layer 1 (Conv2d)" in window.reason_label.text()
    qtbot.waitUntil(window.reason_label.isVisible)  # the toolbar lays out on the next turn
    assert window.reason_label.width() > 200
    assert "Layer 1 (Conv2d)" in window.train_action.toolTip()
    window.undo_action.trigger()
    wait_ready(qtbot, window.session)
    assert window.train_button.isEnabled() and window.reason_label.text() == ""
    qtbot.waitUntil(lambda: not window.reason_label.isVisible())  # hidden on the toolbar's next layout turn


def test_training_panel_edits_go_through_the_session(qtbot, make_window):
    window = make_window()
    window.show_page("train")
    panel = window.training_panel
    choose(qtbot, panel.optimizer.combo, "SGD")
    assert window.session.spec.optimizer.type == "SGD"
    assert window.session.spec.optimizer.params["lr"] == 0.01  # kept across the switch
    assert panel.optimizer.form.entry.name == "SGD"
    panel.epochs.setFocus()
    panel.epochs.selectAll()
    qtbot.keyClicks(panel.epochs, "12")
    qtbot.keyClick(panel.epochs, Qt.Key.Key_Return)
    assert window.session.spec.train.epochs == 12
    qtbot.mouseClick(panel.full_batch, Qt.MouseButton.LeftButton)
    assert window.session.spec.train.batch_size == "full" and not panel.batch.isEnabled()
    window.undo_action.trigger()
    assert window.session.spec.train.batch_size == 32 and panel.batch.isEnabled()
    assert not panel.full_batch.isChecked()


def test_loss_choices_follow_the_task(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    combo = window.training_panel.loss.combo
    names = [combo.itemText(i) for i in range(combo.count())]
    assert "CrossEntropyLoss" in names and "MSELoss" not in names
    window.session.load_data("sample:sine")
    wait_ready(qtbot, window.session)
    names = [combo.itemText(i) for i in range(combo.count())]
    assert "MSELoss" in names and "CrossEntropyLoss" not in names
    assert combo.currentText() == "MSELoss"


def test_schedule_shows_its_lr_preview(qtbot, make_window):
    window = make_window()
    window.show_page("train")
    panel = window.training_panel
    assert not panel.lr_preview.isVisible()
    choose(qtbot, panel.schedule.combo, "StepLR")
    assert window.session.spec.schedule.type == "StepLR"
    assert panel.lr_preview.isVisible() and panel.schedule.form is not None
    qtbot.waitUntil(lambda: len(panel.lr_preview.values) == window.session.spec.train.epochs, timeout=8000)
    qtbot.mouseClick(panel.warmup_check, Qt.MouseButton.LeftButton)
    assert window.session.spec.schedule.warmup is not None


def test_device_combo_lists_only_present_devices(qtbot, make_window):
    from workbench.core.training import available_devices

    window = make_window()
    combo = window.training_panel.device
    keys = [combo.itemData(i) for i in range(combo.count())]
    assert keys == ["auto"] + [k for k, _ in available_devices()]
    assert any("CPU" in combo.itemText(i) for i in range(combo.count()))


def test_settings_remember_layout_and_theme(qtbot, make_window, make_session):
    window = make_window()
    window.show_page("runs")
    window.pages.show_beside("model")
    window.dark_action.trigger()
    assert QApplication.instance().property("workbench_dark") is True
    window.shutdown()
    window.dark_action.trigger()  # back to light for the other tests
    settings = QSettings()
    assert settings.value("view/dark", type=bool) is False
    again = make_window(show=False)
    assert again.pages.current_key == "runs" and again.pages.beside_key == "model"


def test_save_open_recent_and_title(qtbot, make_window, tmp_path, monkeypatch):
    from workbench.gui import prompts

    window = make_window()
    window.session.edit({"train.epochs": 7})
    assert window.windowTitle().startswith("Untitled •")
    path = tmp_path / "exp.json"
    monkeypatch.setattr(prompts, "ask_save_project", lambda parent, suggested: str(path))
    window.save_action.trigger()
    assert json.loads(path.read_text())["train"]["epochs"] == 7
    assert window.windowTitle() == "exp.json — Workbench"
    assert window.project.recent_files() == [str(path.resolve())]
    window.project.recent_menu.aboutToShow.emit()
    assert any("exp.json" in a.text() for a in window.project.recent_menu.actions())


def test_unsaved_changes_prompt_can_cancel_new(qtbot, make_window):
    window = make_window()
    window.session.edit({"train.epochs": 8})
    asked = []
    answer_modal(qtbot, "cancelButton", asked)
    window.new_action.trigger()
    assert "Save the changes" in asked[0]
    assert window.session.spec.train.epochs == 8  # cancelled: nothing lost
    answer_modal(qtbot, "discardButton")
    window.new_action.trigger()
    assert window.session.spec.train.epochs != 8 and not window.session.is_dirty


def test_autosave_is_written_and_restored(qtbot, make_window, make_session):
    window = make_window()
    window.session.edit({"train.epochs": 42})
    window.project.autosave()
    saved = json.loads(window.project.autosave_path.read_text())
    assert saved["spec"]["train"]["epochs"] == 42 and saved["project"] is None
    window.shutdown()  # gone without saving (as after a crash): its work is left over
    again = make_window(spec=None)
    assert again.project.restore_autosave()
    assert again.session.spec.train.epochs == 42 and again.session.is_dirty
    assert "Restored" in again.statusBar().currentMessage()


def test_main_opens_the_window_and_quits_cleanly(qtbot, monkeypatch):
    from workbench.gui import app as app_module

    shown = []
    real_create = app_module.create_window

    order = []
    import workbench.core.execution as execution

    real_pool = execution.WarmPool

    class RecordedPool(real_pool):
        def __init__(self, *args, **kwargs):
            order.append("spare spawned")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(execution, "WarmPool", RecordedPool)

    def spy(project=None):
        order.append("window")
        window = real_create(project)
        QTimer.singleShot(300, window, lambda: order.append(isinstance(window.session.warm_pool(), RecordedPool)))
        shown.append(window)
        QTimer.singleShot(400, window, lambda: gc_state.append((gc.isenabled(), gc.get_freeze_count() > 0)))
        QTimer.singleShot(800, window, window.close)  # the person closes it
        return window

    import gc

    gc_state = []
    enabled = gc.isenabled()
    monkeypatch.setattr(app_module, "create_window", spy)
    assert app_module.main([]) == 0
    # while it ran, what the start left was frozen and garbage was collected on the GUI's timer;
    # afterwards the process is as before
    assert gc_state == [(False, True)] and gc.isenabled() == enabled and gc.get_freeze_count() == 0
    # the spare training process was spawned before the window was built, and is the session's
    assert order == ["spare spawned", "window", True]
    window = shown[0]
    assert window.session.spec.data.source == "sample:spiral"
    assert not window.isVisible() and window.session.state == "idle"


def test_a_warning_of_the_core_shows_in_the_status_bar_from_any_thread(qtbot, make_window):
    """The run store's 'lost its file locks; reconnected' went to a terminal nobody watches."""
    import logging
    import threading

    window = make_window()
    text = "The run store runs.db lost its file locks (...); reconnected. Every run recorded so far is kept."
    worker = threading.Thread(target=lambda: logging.getLogger("workbench.core.runs.store").warning(text))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == text)
    window.shutdown()
    logging.getLogger("workbench.core.runs.store").warning("after the window is gone")  # nothing breaks
    assert window.statusBar().currentMessage() == text
