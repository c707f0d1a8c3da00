"""Branch and resume as a person does it: train, pick the run in the table, Branch…, change the
learning rate, Train: a child run continues the parent's epochs, linked in the table and on the
plot. Resume a stopped run; branch from a paused one (it is stopped first)."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from helpers import save_screenshot, wait_ready
from runs_support import cell, click_row
from workbench.core.training import EpochEnd
from workbench.core.runs import RunStore


@pytest.fixture
def store():
    with RunStore(os.environ["WORKBENCH_STORE"]) as s:
        yield s


def train_and_wait(qtbot, window, timeout=20000):
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.state != "idle", timeout=5000)
    qtbot.waitUntil(lambda: window.session.state == "idle", timeout=timeout)


def wait_listed(qtbot, panel, n, status=None):
    qtbot.waitUntil(lambda: panel.model.rowCount() == n and (
        status is None or all(r.status == status for r in panel.model.records())), timeout=5000)


def test_branch_from_a_finished_run_continues_as_a_child(qtbot, make_window, store, tiny_spec):
    window = make_window(spec=tiny_spec.with_values({"train.epochs": 3, "train.checkpoint": True}))
    session, panel = window.session, window.runs_panel
    wait_ready(qtbot, session)
    train_and_wait(qtbot, window)
    wait_listed(qtbot, panel, 1, "finished")
    parent = store.list_runs()[0]
    assert parent.run_dir and os.path.isfile(os.path.join(parent.run_dir, "last.pt"))  # the GUI passes run_dir

    click_row(qtbot, panel, parent.id)
    qtbot.waitUntil(lambda: "last: last.pt" in panel.details.checkpoints.text())
    assert "best" in panel.details.checkpoints.text()
    qtbot.mouseClick(panel.details.branch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.next_run is not None)  # read in the background
    plan = session.next_run
    assert plan.parent_id == parent.id and plan.from_epoch == 3
    assert session.spec.train.epochs == 6 and panel.cancel_branch_button.isVisible()
    assert f"continues #{parent.id} from epoch 3" in panel.message.text()
    session.edit({"optimizer.lr": 0.002})  # the person changes the learning rate in the training panel
    wait_ready(qtbot, session)

    epochs = []
    session.run_event.connect(lambda e: isinstance(e, EpochEnd) and epochs.append(e.epoch))
    train_and_wait(qtbot, window)
    assert epochs == [4, 5, 6]  # the child's first epoch is the parent's last + 1
    assert session.next_run is None and not panel.cancel_branch_button.isVisible()
    wait_listed(qtbot, panel, 2, "finished")
    child = store.children(parent.id)[0]
    assert child.parent_id == parent.id and "branch" in child.tags
    assert child.spec.optimizer.params["lr"] == 0.002
    assert [r["epoch"] for r in store.epochs(child.id)] == [4, 5, 6]
    assert cell(panel, child.id, "Parent") == f"#{parent.id}"
    assert cell(panel, child.id, "Name").startswith("↳ ")
    assert child.name.endswith(f"(branch of #{parent.id})")

    # the next Train is a fresh run: only the branch itself carries "(branch of #…)"
    train_and_wait(qtbot, window)
    wait_listed(qtbot, panel, 3, "finished")
    later = store.list_runs()[0]
    assert later.parent_id is None and "branch of" not in later.name and "branch of" not in later.spec.name
    assert later.name == parent.name

    # on the plot: the parent muted up to the branch point, the child joined to it and labelled
    shown = []
    panel.overlays_changed.connect(shown.append)
    click_row(qtbot, panel, child.id)
    qtbot.waitUntil(lambda: bool(shown) and len(shown[-1]) == 2)
    (parent_label, head, _muted), (child_label, tail, _color) = shown[-1]
    assert parent_label.endswith("(parent)")
    assert f"branch of #{parent.id} at epoch 3" in child_label
    assert [r["epoch"] for r in head] == [1, 2, 3] and [r["epoch"] for r in tail] == [3, 4, 5, 6]
    qtbot.waitUntil(lambda: len(window.plots.overlays) == 2)
    save_screenshot(window, "runs_branch_on_plot")


def test_resume_a_stopped_run_and_branch_from_a_paused_one(qtbot, make_window, store, tiny_spec):
    window = make_window(spec=tiny_spec.with_values({"train.epochs": 400, "train.checkpoint": True}))
    session, panel = window.session, window.runs_panel
    wait_ready(qtbot, session)
    epochs = []
    session.run_event.connect(lambda e: isinstance(e, EpochEnd) and epochs.append(e.epoch))

    # stop after a few epochs, then Resume: a child continues from the last checkpoint
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(epochs) >= 2, timeout=10000)
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.state == "idle", timeout=10000)
    wait_listed(qtbot, panel, 1, "stopped")
    stopped = store.list_runs()[0]
    click_row(qtbot, panel, stopped.id)
    assert panel.details.resume_button.isEnabled()
    epochs.clear()
    qtbot.mouseClick(panel.details.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(epochs) >= 1, timeout=10000)
    assert epochs[0] == stopped.epochs + 1
    assert panel.message.text().startswith(f"Resuming #{stopped.id} from epoch")

    # pause the resumed run, then Branch… from it: it is stopped at its last epoch and branched
    qtbot.mouseClick(window.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.state == "paused", timeout=10000)
    wait_listed(qtbot, panel, 2)
    child = store.children(stopped.id)[0]
    assert "resume" in child.tags and child.spec.train.epochs == 400
    click_row(qtbot, panel, child.id)
    qtbot.mouseClick(panel.details.branch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.next_run is not None, timeout=10000)
    done = store.get_run(child.id)
    assert done.status == "stopped"
    assert session.next_run.parent_id == child.id and session.next_run.from_epoch == done.epochs
    qtbot.mouseClick(panel.cancel_branch_button, Qt.MouseButton.LeftButton)
    assert session.next_run is None
    # "Resuming #N …" under the table goes when that run has ended (it stayed after it)
    panel.show_message(f"Resuming #{child.id} from epoch 3 as a child run")
    session.run_state_changed.emit("idle")
    assert panel.message.text() == ""
