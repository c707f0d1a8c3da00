"""The run controls a person uses while a run goes (issue 8, items 5 and 6): the progress bar
while paused, and where the keyboard focus is after Esc stops a run."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from helpers import wait_ready
from workbench.core.training import BatchProgress, Paused, Resumed, RunFinished, RunStarted
from workbench.gui import run_controls
from workbench.gui.run_controls import RunProgress


def _started(epochs=10):
    return RunStarted(name="t", spec_json="{}", device="cpu", device_name="CPU", precision="fp32",
                      task="classification", class_names=["a", "b"], n_train=100, n_val=0, n_test=0,
                      epochs=epochs, batch_size=10, steps_per_epoch=10, summary=[], total_params=1,
                      total_flops=1, memory_bytes=1)


def _batch(epoch, b, elapsed):
    return BatchProgress(epoch=epoch, batch=b, batches=10, step=(epoch - 1) * 10 + b, loss=0.5, lr=0.01,
                         samples_per_s=1000.0, elapsed=elapsed)


def test_paused_progress_shows_no_eta_and_the_pause_is_not_counted(qtbot, monkeypatch):
    bar = RunProgress()
    qtbot.addWidget(bar)
    clock = [1000.0]
    monkeypatch.setattr(run_controls.time, "monotonic", lambda: clock[0])
    bar.handle_event(_started())
    bar.handle_event(_batch(5, 10, elapsed=10.0))  # half way in 10 s
    assert bar.text().endswith("ETA 0:10")
    bar.handle_event(Paused(epoch=5, step=50))
    assert "Paused" in bar.text() and "ETA" not in bar.text()
    bar.handle_event(_batch(6, 1, elapsed=10.2))  # sent just before the pause, arrives after it
    assert "Paused" in bar.text() and "ETA" not in bar.text()
    clock[0] += 100.0  # a long pause
    bar.handle_event(Resumed(epoch=6, step=51))
    assert "ETA" not in bar.text()
    clock[0] += 1.0  # (the bar shows progress at most every PROGRESS_EVERY_S)
    bar.handle_event(_batch(6, 10, elapsed=112.0))  # 12 s of training in 112 s of wall time
    assert bar.text().endswith("ETA 0:08")  # 12 s * 0.4 / 0.6, not 112 s * 0.4 / 0.6


def test_a_burst_of_progress_repaints_the_bar_a_few_times_and_ends_on_the_latest(qtbot):
    """QProgressBar.setValue repaints at once: hundreds of batches a second must not mean
    hundreds of synchronous paints on the GUI thread."""
    bar = RunProgress()
    qtbot.addWidget(bar)
    bar.show()
    values = []
    bar.valueChanged.connect(values.append)
    bar.handle_event(_started())
    for b in range(1, 11):
        bar.handle_event(_batch(1, b, elapsed=0.01 * b))
    assert len(values) <= 2  # the first at once; the rest wait
    qtbot.waitUntil(lambda: "batch 10/10" in bar.text(), timeout=2000)
    assert bar.value() == 100 and len(values) <= 3
    bar.handle_event(_batch(2, 5, elapsed=0.15))
    bar.handle_event(RunFinished(epochs=2, duration=0.2, metrics={}))  # shows at once, after that batch
    assert bar.value() == 1000 and bar.text().startswith("Finished 2 epochs")
    qtbot.wait(300)
    assert bar.text().startswith("Finished")  # nothing pending overwrote it


LONG = {"train.epochs": 400, "data.n_samples": 400}


def _start_long_run(qtbot, make_window, tiny_spec):
    window = make_window(spec=tiny_spec.with_values(LONG))
    wait_ready(qtbot, window.session)
    window.activateWindow()
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.state == "running", timeout=8000)
    qtbot.waitUntil(lambda: "Epoch" in window.progress.text(), timeout=8000)
    return window


def test_pause_button_stops_the_eta(qtbot, make_window, tiny_spec):
    window = _start_long_run(qtbot, make_window, tiny_spec)
    qtbot.mouseClick(window.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.state == "paused", timeout=8000)
    qtbot.wait(100)  # events queued before the pause have arrived
    assert "Paused" in window.progress.text() and "ETA" not in window.progress.text()
    qtbot.mouseClick(window.pause_button, Qt.MouseButton.LeftButton)  # Resume
    qtbot.waitUntil(lambda: "ETA" in window.progress.text(), timeout=8000)
    window.session.stop()
    qtbot.waitUntil(lambda: window.session.state == "idle", timeout=8000)


@pytest.mark.parametrize("last_used", ["spin", "apply"])
def test_esc_after_a_live_lr_change_leaves_the_focus_out_of_the_forms(qtbot, make_window, tiny_spec, last_used):
    window = _start_long_run(qtbot, make_window, tiny_spec)
    live = window.live_lr
    qtbot.mouseClick(live.spin.lineEdit(), Qt.MouseButton.LeftButton)
    live.spin.lineEdit().selectAll()
    qtbot.keyClicks(live.spin.lineEdit(), "0.003")
    if last_used == "apply":
        qtbot.mouseClick(live.apply_button, Qt.MouseButton.LeftButton)
    else:
        qtbot.keyClick(live.spin.lineEdit(), Qt.Key.Key_Return)
    focus = QApplication.focusWidget()
    assert focus is not None and live.isAncestorOf(focus)
    qtbot.keyClick(focus, Qt.Key.Key_Escape)  # Stop (Esc)
    qtbot.waitUntil(lambda: window.session.state == "idle", timeout=8000)
    focus = QApplication.focusWidget()
    # not handed on to the next control in tab order (a form field, the x-axis combo …), where
    # the next key would change a setting
    assert focus in (None, window), f"the focus jumped to {type(focus).__name__} {focus.objectName()!r}"
    # the box shows what the next run starts with again, not the stopped run's live rate
    assert live.spin.value() == pytest.approx(window.session.spec.optimizer.params["lr"]) != 0.003
    # and the window's shortcuts still work from there
    hits = []
    window.save_action.triggered.disconnect()
    window.save_action.triggered.connect(lambda: hits.append(1))
    qtbot.keyClick(focus or window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert hits == [1]


def test_a_result_below_the_majority_baseline_says_so_beside_it(qtbot):
    from workbench.core.training import RunFinished
    from workbench.gui.runs.details import RunDetails

    bar = RunProgress()
    qtbot.addWidget(bar)
    bar.handle_event(_started())
    metrics = {"test_accuracy": 0.293, "test_baseline_accuracy": 0.41, "val_accuracy": 0.3}
    bar.handle_event(RunFinished(epochs=10, metrics=metrics, duration=3.0))
    assert "below the 41.0% of always guessing the most common class" in bar.text()
    assert bar.toolTip().startswith("test accuracy 29.3% is below")
    bar.handle_event(_started())
    bar.handle_event(RunFinished(epochs=10, metrics={"test_accuracy": 0.9, "test_baseline_accuracy": 0.41},
                                 duration=3.0))
    assert "guessing" not in bar.text() and bar.toolTip() == ""

    class Record:
        id, name, status, notes, tags, parent_id = 7, "customers.csv · MLP 64-3", "finished", "", [], None

    details = RunDetails()
    qtbot.addWidget(details)
    record = Record()
    record.metrics = metrics
    details.show_run(record)
    assert "test accuracy 29.3%" in details.result.text() and "below the 41.0%" in details.result.text()
    record.metrics = {"test_accuracy": 0.9, "test_baseline_accuracy": 0.41}
    details.show_run(record)
    assert details.result.text() == "test accuracy 90.0%"


def test_runs_table_marks_results_below_the_baseline(qtbot, tiny_spec):
    import os

    from PySide6.QtCore import Qt as _Qt
    from workbench.core.runs import RunStore
    from workbench.gui.runs.table_model import COL, RunTableModel

    with RunStore(os.environ["WORKBENCH_STORE"]) as store:
        bad = store.create_run(tiny_spec.with_values({"data.source": "/data/customers.csv"}))
        store.finish_run(bad, "finished", {"test_accuracy": 0.293, "test_baseline_accuracy": 0.41}, 1.0)
        good = store.create_run(tiny_spec)
        store.finish_run(good, "finished", {"test_accuracy": 0.95, "test_baseline_accuracy": 0.5}, 1.0)
        records = store.list_runs()
    model = RunTableModel()
    model.set_records(records)
    row = {model.record_at(i).id: i for i in range(model.rowCount())}
    test_bad = model.index(row[bad], COL["Test"])
    assert model.data(test_bad).endswith("⚠") and "always guessing" in model.data(test_bad, _Qt.ItemDataRole.ToolTipRole)
    assert "⚠" not in model.data(model.index(row[good], COL["Test"]))
    dataset = model.index(row[bad], COL["Dataset"])
    assert model.data(dataset) == "customers.csv"
    assert model.data(dataset, _Qt.ItemDataRole.ToolTipRole) == "/data/customers.csv"


def test_window_shortcuts_work_from_every_control_of_every_page(qtbot, make_window):
    """Ctrl+S with the focus anywhere - on a plot, in a table, in a form field - saves."""
    from PySide6.QtWidgets import QWidget

    window = make_window()
    wait_ready(qtbot, window.session)
    hits = []
    window.save_action.triggered.disconnect()
    window.save_action.triggered.connect(lambda: hits.append(1))
    missed = []
    for key in window.pages.keys():
        window.show_page(key)
        qtbot.wait(20)
        for widget in window.findChildren(QWidget):
            if (not widget.isVisible() or not widget.isEnabled()
                    or widget.focusPolicy() == Qt.FocusPolicy.NoFocus):
                continue
            widget.setFocus()
            if QApplication.focusWidget() is not widget:
                continue
            before = len(hits)
            qtbot.keyClick(widget, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
            if len(hits) == before:
                missed.append(f"{key}: {type(widget).__name__} {widget.objectName()!r}")
    assert not missed, missed
    assert hits


def test_status_messages_have_room_beside_the_progress_bar(qtbot, make_window):
    """The walkthrough saw status messages cut off by a progress bar half the window wide."""
    window = make_window()
    bar = window.statusBar()
    message = ("The data is 28×28 images: added a Flatten layer first so the model can take them "
               "(Edit ▸ Undo takes it out)")
    bar.showMessage(message)
    room = window.progress.geometry().left()
    assert room >= 0.6 * bar.width()
    assert bar.fontMetrics().horizontalAdvance(message) + 24 <= room
    window.progress.setFormat("Epoch 12/60 · batch 7/7 · 12,345 samples/s · ETA 0:42")
    assert window.progress.fontMetrics().horizontalAdvance(window.progress.text()) + 16 <= window.progress.width()
