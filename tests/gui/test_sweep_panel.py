"""The sweep GUI as a person uses it: build a 2-parameter space by clicking in the dialog, run 6
trials on 2 worker processes, watch the table fill, pick a parallel-coordinates line and see the
row and curve light up, use the best trial, reopen the stored sweep and continue it.

Trials run the scripted trainer of tests/core/sweep_fake_trainer.py in the worker processes
(val_loss = 10·lr + 1/epoch, so the best trial is the one with the smallest lr), through the
runner's `train_target` hook; the workers, the study and the run store are the real ones.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from helpers import choose, on_next_modal
from workbench.gui.sweep import SweepDialog, SweepPanel, SweepRunner

FAKE = str(Path(__file__).resolve().parents[1] / "core" / "sweep_fake_trainer.py") + ":train"
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
LR, WIDTH = "optimizer.lr", "model.layers.0.out_features"


def shot(widget, name):
    SHOTS.mkdir(exist_ok=True)
    QApplication.processEvents()
    widget.grab().save(str(SHOTS / f"sweep_panel_{name}.png"))


@pytest.fixture
def fake_spec(tiny_spec):
    """The tiny spiral spec, trained by the scripted trainer (0.1 s an epoch, 4 epochs)."""
    return tiny_spec.with_values({"name": "tiny delay=0.1", "train.epochs": 4})


@pytest.fixture
def make_panel(qtbot, isolated_environment):
    made = []

    def make():
        panel = SweepPanel(store_path=isolated_environment / "runs.db",
                           runner=SweepRunner(train_target=FAKE, threads=1))
        qtbot.addWidget(panel)
        made.append(panel)
        panel.resize(1200, 620)
        panel.show()
        qtbot.waitExposed(panel)
        return panel

    yield make
    for panel in made:
        panel.shutdown(timeout=60)  # tests wait for the sweep's workers to be closed
        assert not panel.running


def tick(qtbot, dialog, path):
    """Click the check box of a parameter in the dialog's tree."""
    tree = dialog.tree
    item = dialog.item(path)
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.x() + 10, rect.center().y()))
    assert item.checkState(0) == Qt.CheckState.Checked, f"clicking did not tick {path}"


def type_into(qtbot, box, text):
    """Replace a spin box's text by typing, as a person does."""
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Tab)


def build_dialog(qtbot, spec):
    dialog = SweepDialog(spec)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    tick(qtbot, dialog, LR)
    tick(qtbot, dialog, WIDTH)
    assert list(dialog.space()) == [LR, WIDTH]
    # prefilled from the catalog: lr log-uniform around its value, the width an int range
    assert dialog.row(LR).kind.currentData() == "log_uniform"
    assert dialog.row(WIDTH).kind.currentData() in ("int", "log_int")
    return dialog


def test_bad_range_is_shown_at_its_row(qtbot, fake_spec, tmp_path):
    dialog = build_dialog(qtbot, fake_spec)
    qtbot.waitUntil(lambda: dialog.valid, timeout=2000)
    row = dialog.row(LR)
    type_into(qtbot, row.low, "0.5")
    type_into(qtbot, row.high, "0.05")
    qtbot.waitUntil(lambda: not dialog.valid, timeout=2000)
    assert "low must be below high" in row.error_text
    assert row.error.isVisible() and not dialog.run_button.isEnabled()
    assert dialog.row(WIDTH).error_text == ""
    # a log range through zero says what to use instead
    type_into(qtbot, row.low, "0")
    qtbot.waitUntil(lambda: "log range needs low > 0" in row.error_text, timeout=2000)
    # an integer field swept with a float range: the message names the fix
    choose(qtbot, dialog.row(WIDTH).kind, "uniform")
    qtbot.waitUntil(lambda: "is an integer" in dialog.row(WIDTH).error_text, timeout=2000)
    shot(dialog, "dialog_errors")
    # fixed by typing: the errors go, Run is enabled again
    type_into(qtbot, row.low, "0.001")
    choose(qtbot, dialog.row(WIDTH).kind, "int")
    qtbot.waitUntil(lambda: dialog.valid, timeout=2000)
    assert row.error_text == "" and dialog.run_button.isEnabled()
    # Save space… writes the CLI's SPACE.json; Load space… reads it back
    path = tmp_path / "space.json"
    dialog.save_space(path)
    saved = json.loads(path.read_text())
    assert saved[LR] == {"log_uniform": [0.001, 0.05]}
    other = SweepDialog(fake_spec)
    qtbot.addWidget(other)
    assert other.load_space(path) == ""
    assert other.space() == saved and other.valid
    assert other.item(LR).checkState(0) == Qt.CheckState.Checked


def test_unknown_path_in_loaded_space_is_reported(qtbot, fake_spec, tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps({LR: {"log_uniform": [0.001, 0.1]}, "model.layers.7.p": {"uniform": [0, 0.5]}}))
    dialog = SweepDialog(fake_spec)
    qtbot.addWidget(dialog)
    assert "model.layers.7.p" in dialog.load_space(path)
    assert not dialog.valid
    # counted as the Model page counts: the 8th layer, of layers 1 to 4
    error = dialog.row("model.layers.7.p").error_text
    assert "there is no Layer 8" in error and "(1: Linear" in error
    path.write_text("{not json")
    assert "not valid JSON" in dialog.load_space(path)
    assert dialog.space_error.text().startswith("Could not load space.json")


def answer_use_best(qtbot, button: str, seen: list) -> None:
    """Click `button` in the Use best dialog once it is up, noting the settings it lists."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QAbstractButton

    def act():
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(50, act)
            return
        seen.append(box.diff.visible_labels())
        qtbot.mouseClick(box.findChild(QAbstractButton, button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(50, act)


def test_sweep_by_clicking_runs_links_and_reopens(qtbot, fake_spec, make_panel):
    # ---- the dialog, by clicking and typing ---------------------------------------------------
    dialog = build_dialog(qtbot, fake_spec)
    type_into(qtbot, dialog.row(LR).high, "0.05")
    width = dialog.row(WIDTH)
    choose(qtbot, width.kind, "int")
    type_into(qtbot, width.low, "8")
    type_into(qtbot, width.high, "32")
    choose(qtbot, dialog.strategy, "Random")
    type_into(qtbot, dialog.trials, "6")
    type_into(qtbot, dialog.parallel, "2")
    qtbot.waitUntil(lambda: dialog.valid, timeout=2000)
    assert dialog.space() == {LR: {"log_uniform": [0.001, 0.05]}, WIDTH: {"int": [8, 32]}}
    assert "6 trials" in dialog.summary.text() and "2 workers" in dialog.summary.text()
    shot(dialog, "dialog")
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == SweepDialog.DialogCode.Accepted
    config = dialog.config()
    assert (config.strategy, config.n_trials, config.parallel, config.metric) == ("random", 6, 2, "val_loss")

    # ---- run it -------------------------------------------------------------------------------
    panel = make_panel()
    with qtbot.waitSignal(panel.running_changed, timeout=5000) as started:
        panel.start(config)
    assert started.args == [True]
    qtbot.waitUntil(lambda: any(t["status"] == "complete" for t in panel.trials)
                    and any(t["status"] == "running" and t["curve"] for t in panel.trials), timeout=20000)
    panel.refresh()
    shot(panel, "running")
    assert panel.stop_button.isEnabled() and panel.pause_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.running, timeout=30000)

    trials = panel.trials
    assert len(trials) == 6 and panel.model.rowCount() == 6
    assert [t["status"] for t in trials] == ["complete"] * 6
    for t in trials:
        assert 0.001 <= t["params"][LR] <= 0.05 and 8 <= t["params"][WIDTH] <= 32
        assert t["value"] == pytest.approx(10 * t["params"][LR] + 1 / 4)
        assert len(t["curve"]) == 4
    best = min(trials, key=lambda t: t["value"])
    assert panel.model.best_id == best["id"]
    assert "6 complete" in panel.status.text() and "finished" in panel.status.text()
    assert len(panel.curves.overlays) == 6
    # sorting by the metric puts the best first
    panel.table.sortByColumn(panel.model.metric_column, Qt.SortOrder.AscendingOrder)
    assert panel.proxy.index(0, 0).data().endswith(str(best["id"] + 1))  # numbered from 1 as people count
    assert panel.proxy.index(0, 0).data().startswith("★")
    shot(panel, "finished")
    for view, name in ((panel.scatter, "scatter"), (panel.importance, "importance")):
        panel.tabs.setCurrentWidget(view)
        panel.refresh()
        shot(panel, name)
    assert not panel.importance.showing_message  # 6 finished trials are enough to rank

    # ---- pick a parallel-coordinates line: row and curve follow -------------------------------
    panel.tabs.setCurrentWidget(panel.parallel_coords)
    panel.refresh()
    pc = panel.parallel_coords
    qtbot.waitExposed(pc)
    QApplication.processEvents()
    picked, mid = pickable_midpoint(pc, [t for t in trials if t["id"] != best["id"]] + [best])
    scene = pc.plot.getViewBox().mapViewToScene(mid)
    qtbot.mouseClick(pc.view.viewport(), Qt.MouseButton.LeftButton, pos=pc.view.mapFromScene(scene))
    qtbot.waitUntil(lambda: panel.selected_rows() == [picked["id"]], timeout=2000)
    assert panel.selection.selected_ids == {picked["id"]}
    shot(panel, "picked_line")
    panel.tabs.setCurrentWidget(panel.curves)
    overlays = panel.curves.overlays
    assert overlays[-1].label == f"#{picked['id'] + 1}"  # drawn on top; numbered from 1 as people count
    assert overlays[-1].color.alpha() == 255
    assert all(o.color.alpha() < 100 for o in overlays[:-1])  # the others fade
    shot(panel, "picked_curve")
    # selecting a row selects the trial everywhere (its scatter points too)
    row = panel.proxy.mapFromSource(panel.model.index(panel.model.row_of(best["id"]), 0)).row()
    panel.table.selectRow(row)
    assert panel.selection.selected_ids == {best["id"]}
    assert len(panel.scatter.selected_points(LR)) == 1

    # ---- use best: asks first, showing what changes; Cancel changes nothing ------------------------
    emitted = []
    panel.use_spec.connect(emitted.append)
    seen = []
    answer_use_best(qtbot, "useBestCancel", seen)
    qtbot.mouseClick(panel.best_button, Qt.MouseButton.LeftButton)
    assert emitted == [] and seen and seen[0], "the dialog lists what would change"
    assert all(label.startswith(("Optimizer: lr", "Layer 1 (Linear): out_features")) for label in seen[0]), seen
    answer_use_best(qtbot, "useBestConfirm", seen)
    with qtbot.waitSignal(panel.use_spec, timeout=2000) as used:
        qtbot.mouseClick(panel.best_button, Qt.MouseButton.LeftButton)
    spec = used.args[0]
    assert spec.optimizer.params["lr"] == pytest.approx(best["params"][LR])
    assert spec.model.layers[0].params["out_features"] == best["params"][WIDTH]
    assert spec.model.layers[1].type == "Tanh" and spec.train.epochs == 4  # the rest is the base spec

    # ---- reopen the stored sweep in a fresh panel, then continue it ----------------------------------
    study = panel.study
    other = make_panel()
    other.open_sweep(study)
    qtbot.waitUntil(lambda: len(other.trials) == 6, timeout=10000)
    assert [(t["id"], t["status"], t["params"]) for t in other.trials] == \
        [(t["id"], t["status"], t["params"]) for t in trials]
    assert [t["value"] for t in other.trials] == pytest.approx([t["value"] for t in trials])
    assert all(len(t["curve"]) == 4 for t in other.trials)  # curves come from the run store
    assert other.model.best_id == best["id"] and other.continue_button.isEnabled()
    other.refresh()
    shot(other, "reopened")
    other.more_trials.setValue(2)
    qtbot.mouseClick(other.continue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: other.running, timeout=2000)
    qtbot.waitUntil(lambda: not other.running, timeout=30000)
    assert len(other.trials) == 8 and all(t["status"] == "complete" for t in other.trials)
    assert other.model.rowCount() == 8


def pickable_midpoint(pc, trials):
    """A trial and the midpoint of its first segment, where no other line is nearer."""
    for t in trials:
        a, b = pc.trial_point(t["id"], 0), pc.trial_point(t["id"], 1)
        mid = QPointF((a.x() + b.x()) / 2, (a.y() + b.y()) / 2)
        if pc.trial_at(pc.plot.getViewBox().mapViewToScene(mid)) == t["id"]:
            return t, mid
    raise AssertionError("no line can be picked on its own")


def test_pause_stop_and_a_sweep_that_cannot_start(qtbot, fake_spec, make_panel):
    from workbench.gui.sweep import SweepConfig

    panel = make_panel()
    # a bad space never gets to the workers: a sentence in the status line, no traceback
    bad = SweepConfig(fake_spec, {LR: {"log_uniform": [0.5, 0.05]}}, strategy="random", n_trials=2, parallel=1)
    with qtbot.waitSignal(panel.runner.failed, timeout=5000) as failed:
        panel.start(bad)
    assert "low must be below high" in failed.args[0] and "Traceback" not in panel.status.text()
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    assert "low must be below high" in panel.status.text()

    slow = fake_spec.with_values({"name": "tiny delay=0.3", "train.epochs": 20})
    panel.start(SweepConfig(slow, {LR: {"log_uniform": [0.001, 0.1]}}, strategy="random", n_trials=4, parallel=1))
    qtbot.waitUntil(lambda: any(t["curve"] for t in panel.trials), timeout=20000)
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert panel.pause_button.text() == "Resume" and "paused" in panel.status.text()
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert panel.pause_button.text() == "Pause"
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=20000)
    assert "stopped" in panel.status.text()
    statuses = [t["status"] for t in panel.trials]
    assert "stopped" in statuses and "running" not in statuses
    stopped = next(t for t in panel.trials if t["status"] == "stopped")
    row = panel.model.row_of(stopped["id"])
    assert "stopped with the sweep" in panel.model.index(row, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert not math.isnan(panel.trials[0]["duration"] or 0.0)


def test_new_sweep_is_the_first_action_on_an_empty_sweeps_page(qtbot, make_window):
    """On a fresh window the Sweeps page is empty and "New sweep…" is enabled; clicking it opens
    the sweep dialog on the editor's experiment."""
    window = make_window()
    window.show_page("sweeps")
    panel = window.sweep_panel
    assert panel.new_button.isVisible() and panel.new_button.isEnabled()
    seen = on_next_modal(lambda dialog: dialog.reject())
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    assert len(seen) == 1 and isinstance(seen[0], SweepDialog)
    assert not panel.running


def test_trials_are_numbered_from_one_and_a_sweep_at_chance_level_is_called_so(qtbot, make_panel):
    """Trials as the runner reports them (Optuna numbers 0, 1, 2): the table, the status line
    and the curves count from 1; when every finished trial is no better than always guessing the
    most common class, the status says so."""
    from workbench.core.sweep import TrialFinished, TrialStarted

    panel = make_panel()
    chance = {"val_loss": 1.3863, "val_accuracy": 0.25, "val_baseline_accuracy": 0.27}
    events = []
    for n, lr in enumerate((0.01, 0.02, 0.03)):
        events += [TrialStarted(n, 100 + n, {LR: lr}),
                   TrialFinished(n, "complete", 1.3863 + 0.0001 * n, chance, None, {LR: lr})]
    panel.runner.events.emit(events[:2])
    assert panel.chance_warning() == ""  # one trial is no pattern
    panel.runner.events.emit(events[2:])
    status = panel.status.text()
    assert "(trial 1)" in status and "trial 0" not in status
    assert "All 3 finished trials are at chance level" in status and "Check" in status
    shown = [panel.table.model().index(row, 0).data() for row in range(3)]
    assert sorted(shown) == ["2", "3", "★ 1"]
    # a trial that learns something lifts the warning
    panel.runner.events.emit([TrialStarted(3, 103, {LR: 0.04}),
                              TrialFinished(3, "complete", 0.9, {**chance, "val_accuracy": 0.8}, None, {LR: 0.04})])
    assert panel.chance_warning() == "" and "chance level" not in panel.status.text()
