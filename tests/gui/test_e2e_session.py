"""A whole session driven as a person would: pick a sample, build the model, set the optimizer,
train (in a real child process, as in the app), pause, change the learning rate, resume, stop;
load CSVs; broken models and runs (these in a thread stand-in, quicker to start and break);
closing during a run; saving and opening a project. Screenshots of each moment go to
./screenshots/ (look at them after a change to the GUI).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from helpers import answer_modal, choose, save_screenshot, wait_ready
from panel_support import click_item
from workbench.core.training import EpochEnd, LRChanged, RunFailed, RunStarted, RunStopped


def drawn_points(window, name="batch_loss") -> int:
    x, _y = window.plots.series[name].curve.getOriginalDataset()
    return 0 if x is None else len(x)


def layer_types(session):
    return [layer.type for layer in session.spec.model.layers]


# Waits that include a spawned child importing torch (seconds on an idle machine, a minute or more
# on a loaded one); other waits get conftest's CONDITION_TIMEOUT_MS. All wait on conditions.
CHILD_START_MS = 180_000


def test_a_person_builds_trains_pauses_changes_lr_and_stops(qtbot, make_window, tiny_spec):
    """The path a person takes, through the real child process: the run goes to the spare child of
    the warm pool, its events cross the pipe back, and pause, the LR change and stop cross it out."""
    window = make_window(spec=tiny_spec.with_values({"train.epochs": 100_000, "data.n_samples": 1000}),
                         run_factory=None)
    session = window.session
    session.warm_pool()  # as the app does once the window is up: the spare imports torch meanwhile
    wait_ready(qtbot, session)
    save_screenshot(window, "01_start")

    # pick another sample, then back to the spiral
    choose(qtbot, window.data_panel.sample_combo, "Two moons")
    wait_ready(qtbot, session)
    assert session.spec.data.source == "sample:moons"
    choose(qtbot, window.data_panel.sample_combo, "Spiral")
    wait_ready(qtbot, session)

    # the model: add a Dropout after the first layer, then move it down one
    window.show_page("model")
    panel = window.model_panel
    click_item(qtbot, panel.stack, panel.stack.topLevelItem(0))
    click_item(qtbot, panel.palette, panel.palette.item_for("Dropout"), double=True)
    assert layer_types(session) == ["Linear", "Dropout", "Tanh", "Linear"]
    qtbot.mouseClick(panel.down_button, Qt.MouseButton.LeftButton)
    assert layer_types(session) == ["Linear", "Tanh", "Dropout", "Linear"]
    wait_ready(qtbot, session)
    save_screenshot(window, "02_model")

    # the optimizer
    window.show_page("train")
    choose(qtbot, window.training_panel.optimizer.combo, "SGD")
    assert session.spec.optimizer.type == "SGD"

    # train: a curve appears
    events = []
    session.run_event.connect(events.append)
    qtbot.waitUntil(window.train_button.isEnabled, timeout=CHILD_START_MS)  # torch imported here too
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sum(isinstance(e, EpochEnd) for e in events) >= 2, timeout=CHILD_START_MS)
    run = session._worker._run
    assert run.pid is not None and run.pid != os.getpid()  # a child process trains, not this one
    qtbot.waitUntil(lambda: drawn_points(window, "train_loss") >= 2 and drawn_points(window, "val_loss") >= 2)
    qtbot.waitUntil(lambda: "Epoch" in window.progress.text() and "samples/s" in window.progress.text())
    save_screenshot(window, "03_training")

    # pause, change the LR, resume
    qtbot.mouseClick(window.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.state == "paused")
    assert window.pause_action.text() == "&Resume"
    spin = window.live_lr.spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "0.003")
    qtbot.mouseClick(window.live_lr.apply_button, Qt.MouseButton.LeftButton)
    save_screenshot(window, "04_paused")
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)  # resume
    qtbot.waitUntil(lambda: any(isinstance(e, LRChanged) for e in events))
    qtbot.waitUntil(lambda: session.state == "running")
    qtbot.waitUntil(lambda: window.plots.series["lr"].values().size and
                    window.plots.series["lr"].values()[-1] == pytest.approx(0.003))
    save_screenshot(window, "05_lr_changed")

    # stop: the child stops the run, records it and ends by itself; the run is in the table
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: session.state == "idle")  # at the terminal event, not the child's exit
    assert isinstance(events[-1], RunStopped) and events[-1].reason == "stopped by the user"
    assert window.train_button.isEnabled()
    qtbot.waitUntil(lambda: not session._ending)  # the worker thread reaped the child
    assert run.exitcode == 0
    window.show_page("runs")
    table = window.runs_panel.table
    from workbench.gui.runs.table_model import COL

    qtbot.waitUntil(lambda: table.model().rowCount() == 1 and
                    table.model().index(0, COL["Status"]).data() == "stopped")
    save_screenshot(window, "06_stopped")

    # selecting the run overlays it; Load settings (an explicit action) brings its settings back
    table.selectRow(0)
    qtbot.waitUntil(lambda: len(window.plots.overlays) == 1)
    window.show_page("train")
    choose(qtbot, window.training_panel.optimizer.combo, "Adam")
    window.show_page("runs")
    rect = table.visualRect(table.model().index(0, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert session.spec.optimizer.type == "Adam"  # a double-click is no way to replace settings
    qtbot.mouseClick(window.runs_panel.details.load_button, Qt.MouseButton.LeftButton)
    assert session.spec.optimizer.type == "SGD"


def _write_csv(path, rows=60):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    label = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    lines = ["a,b,c,label"] + [f"{a:.3f},{b:.3f},{c:.3f},{lab}" for (a, b, c), lab in zip(x, label)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_load_a_csv_by_path_and_by_dropping_it(qtbot, make_window, tmp_path, monkeypatch):
    from workbench.gui import prompts

    window = make_window()
    session = window.session
    wait_ready(qtbot, session)
    first = _write_csv(tmp_path / "first.csv")
    monkeypatch.setattr(prompts, "ask_open_data", lambda parent, start="": str(first))
    window.open_data_action.trigger()
    wait_ready(qtbot, session)
    assert session.dataset.meta.n_samples == 60 and session.dataset.meta.class_names == ["no", "yes"]
    assert window.train_button.isEnabled()

    second = _write_csv(tmp_path / "dropped.csv", rows=80)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(second))])
    pos = QPointF(window.plots.geometry().center())
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    wait_ready(qtbot, session)
    assert session.spec.data.source == str(second)
    assert session.dataset.meta.n_samples == 80
    save_screenshot(window, "07_csv_dropped")

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    window.load_data_path(str(bad))
    wait_ready(qtbot, session)
    assert not window.train_button.isEnabled()
    assert window.reason_label.text().startswith("No data:")


def test_invalid_model_shows_the_message_and_disables_train(qtbot, make_window):
    window = make_window()
    session = window.session
    wait_ready(qtbot, session)
    window.show_page("model")
    session.set_layers([{"type": "Linear", "out_features": 16}, {"type": "Conv2d", "out_channels": 8},
                        {"type": "Linear", "out_features": "auto"}])
    wait_ready(qtbot, session)
    assert not window.train_button.isEnabled()
    assert "Layer 2 (Conv2d)" in window.reason_label.text()
    qtbot.waitUntil(window.reason_label.isVisible)  # the toolbar lays out on the next turn
    assert window.reason_label.width() > 200
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert session.state == "idle"  # the shortcut does nothing either
    save_screenshot(window, "08_invalid_model")


def test_a_run_that_raises_shows_the_dialog_and_the_app_stays_usable(qtbot, make_window, in_process_runs):
    calls = []

    def factory(spec, base_dir, store_path):
        calls.append(spec)
        if len(calls) == 1:
            def broken(spec, **kwargs):
                yield from ()
                raise MemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return in_process_runs(spec, base_dir, store_path, train_fn=broken)
        return in_process_runs(spec, base_dir, store_path)

    window = make_window(run_factory=factory)
    wait_ready(qtbot, window.session)
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible(), timeout=5000)
    dialog = window.error_dialog
    assert "out of memory" in dialog.message_label.text()
    assert not dialog.details.isVisible()
    qtbot.mouseClick(dialog.details_button, Qt.MouseButton.LeftButton)
    assert dialog.details.isVisible() and "MemoryError" in dialog.details.toPlainText()
    save_screenshot(dialog, "09_run_error_dialog")
    qtbot.waitUntil(lambda: window.session.state == "idle")
    # the window still works, with the dialog open
    events = []
    window.session.run_event.connect(events.append)
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.state == "idle" and bool(events), timeout=8000)
    assert not any(isinstance(e, RunFailed) for e in events)
    dialog.close()


def test_close_during_a_run_asks_then_stops_cleanly(qtbot, make_window, tiny_spec):
    window = make_window(spec=tiny_spec.with_values({"train.epochs": 1000}))
    session = window.session
    wait_ready(qtbot, session)
    events = []
    session.run_event.connect(events.append)
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(e, RunStarted) for e in events), timeout=8000)

    asked = []
    answer_modal(qtbot, "keepButton", asked)
    assert not window.close()
    assert "still training" in asked[0] and session.is_running and window.isVisible()

    answer_modal(qtbot, "stopButton")
    worker = session._worker
    assert window.close()  # at once: the run stops on its own thread (tests/gui/test_closing.py)
    assert not window.isVisible() and not session.is_running
    assert session.wait_runs_ended(30)
    assert not worker.is_alive()


def test_project_save_and_open_round_trip(qtbot, make_window, tmp_path, monkeypatch):
    from workbench.gui import prompts

    window = make_window()
    wait_ready(qtbot, window.session)
    choose(qtbot, window.training_panel.optimizer.combo, "RMSprop")
    choose(qtbot, window.training_panel.schedule.combo, "CosineAnnealingLR")
    window.training_panel.early_box.setFocus()
    qtbot.keyClick(window.training_panel.early_box, Qt.Key.Key_Space)  # its title checkbox
    assert window.session.spec.train.early_stopping is not None
    path = tmp_path / "project.json"
    monkeypatch.setattr(prompts, "ask_save_project", lambda parent, suggested: str(path))
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert path.exists() and not window.session.is_dirty
    saved = window.session.spec

    other = make_window(spec=None)
    monkeypatch.setattr(prompts, "ask_open_project", lambda parent, start="": str(path))
    other.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is other)
    qtbot.keyClick(other, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert other.session.spec.to_dict() == saved.to_dict()
    assert other.windowTitle() == "project.json — Workbench"
    panel = other.training_panel
    assert panel.optimizer.combo.currentText() == "RMSprop"
    assert panel.schedule.combo.currentText() == "CosineAnnealingLR"
    assert panel.early_box.isChecked()
    save_screenshot(other, "10_project_opened")


def test_dark_mode_screenshot(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    window.dark_action.trigger()
    try:
        save_screenshot(window, "11_dark")
        window.show_page("train")
        save_screenshot(window.training_panel.widget(), "12_training_panel_dark")
    finally:
        window.dark_action.trigger()
