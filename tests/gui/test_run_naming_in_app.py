"""Run names and loading a past run's settings, as a person meets them in the app (issue 8,
items 1 and 2)."""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtCore import Qt

from helpers import wait_ready
from runs_support import cell, click_row, row_of
from workbench.cli import main
from workbench.core.training import RunFinished
from workbench.gui.runs.table_model import COL


def _train_in_app(qtbot, window):
    events = []
    window.session.run_event.connect(events.append)
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(e, RunFinished) for e in events), timeout=30_000)
    qtbot.waitUntil(lambda: window.session.state == "idle", timeout=30_000)


def _wait_rows(qtbot, window, n):
    qtbot.waitUntil(lambda: window.runs_panel.model.rowCount() == n
                    and all(r.status != "running" for r in window.runs_panel.model.records()), timeout=30_000)


def test_runs_are_named_after_data_and_model_until_the_experiment_is_named(qtbot, make_window, tiny_spec):
    from workbench.gui.defaults import default_spec

    assert default_spec().name == ""  # a fresh window's experiment is not "Spiral MLP"
    window = make_window(spec=tiny_spec.with_values({"name": "", "data.source": "sample:digits",
                                                     "data.n_samples": None, "train.epochs": 1}))
    wait_ready(qtbot, window.session)
    name_box = window.training_panel.experiment_name
    assert name_box.text() == "" and name_box.placeholderText().startswith("digits · MLP 16-10")
    _train_in_app(qtbot, window)
    _wait_rows(qtbot, window, 1)
    panel = window.runs_panel
    first = panel.model.records()[0]
    assert first.name == "digits · MLP 16-10"

    # the person names the experiment in the box: the next run takes that name
    qtbot.mouseClick(name_box, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(name_box, "churn study")
    qtbot.keyClick(name_box, Qt.Key.Key_Return)
    assert window.session.spec.name == "churn study"
    _train_in_app(qtbot, window)
    _wait_rows(qtbot, window, 2)
    assert sorted(r.name for r in panel.model.records()) == ["churn study", "digits · MLP 16-10"]

    # and Save suggests it as the file name
    from workbench.gui import prompts

    asked = []
    original = prompts.ask_save_project
    prompts.ask_save_project = lambda parent, suggested: asked.append(suggested) or ""
    try:
        window.project.save_as()
    finally:
        prompts.ask_save_project = original
    assert asked and asked[0].endswith("churn study.json")
    name_box.clear()
    qtbot.keyClick(name_box, Qt.Key.Key_Return)
    window.session.edit({"name": ""})
    prompts.ask_save_project = lambda parent, suggested: asked.append(suggested) or ""
    try:
        window.project.save_as()
    finally:
        prompts.ask_save_project = original
    assert asked[-1].endswith("digits - MLP 16-10.json")


def double_click(qtbot, panel, run_id, column):
    """What a person's double-click sends: a click, then the double-click."""
    pos = panel.table.visualRect(panel.proxy.index(row_of(panel, run_id), COL[column])).center()
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_double_click_renames_and_load_settings_is_explicit(qtbot, make_window, tiny_spec):
    window = make_window(spec=tiny_spec.with_values({"train.epochs": 1}))
    wait_ready(qtbot, window.session)
    _train_in_app(qtbot, window)
    _wait_rows(qtbot, window, 1)
    panel = window.runs_panel
    run_id = panel.model.records()[0].id
    window.session.edit({"optimizer": {"type": "SGD", "lr": 0.1}})
    click_row(qtbot, panel, run_id)
    for column in ("#", "Status", "Dataset"):  # no double-click replaces the settings
        double_click(qtbot, panel, run_id, column)
        assert window.session.spec.optimizer.type == "SGD"
    double_click(qtbot, panel, run_id, "Name")
    qtbot.waitUntil(lambda: panel.table.state() == panel.table.State.EditingState, timeout=5000)
    editor = panel.table.focusWidget()
    editor.selectAll()
    qtbot.keyClicks(editor, "renamed")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel._get_store().get_run(run_id).name == "renamed", timeout=10_000)
    panel.refresh()
    qtbot.waitUntil(lambda: cell(panel, run_id, "Name") == "renamed", timeout=10_000)
    assert window.session.spec.optimizer.type == "SGD"
    qtbot.mouseClick(panel.details.load_button, Qt.MouseButton.LeftButton)
    assert window.session.spec.optimizer.type == "Adam"
    window.undo_action.trigger()  # one undo step puts the person's settings back
    assert window.session.spec.optimizer.type == "SGD"


def test_settings_of_a_cli_run_with_a_relative_data_path_load_and_train(qtbot, make_window, tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{b:.3f},{'yes' if a + b > 0 else 'no'}" for a, b in rng.normal(size=(60, 2))]
    (project / "customers.csv").write_text("a,b,churn\n" + "\n".join(rows) + "\n")
    spec = {"name": "", "data": {"source": "customers.csv"},
            "model": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                                 {"type": "Linear", "out_features": "auto"}]},
            "train": {"epochs": 1, "checkpoint": False, "device": "cpu"}}
    (project / "spec.json").write_text(json.dumps(spec))
    monkeypatch.chdir(tmp_path)  # the app runs elsewhere than the spec's folder
    import os

    assert main(["train", str(project / "spec.json"), "--store", os.environ["WORKBENCH_STORE"], "--quiet"]) == 0
    window = make_window()
    wait_ready(qtbot, window.session)
    panel = window.runs_panel
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=30_000)
    run_id = panel.model.records()[0].id
    assert cell(panel, run_id, "Dataset") == "customers.csv"
    click_row(qtbot, panel, run_id)
    qtbot.mouseClick(panel.details.load_button, Qt.MouseButton.LeftButton)
    wait_ready(qtbot, window.session)
    assert window.session.meta is not None, window.session.validity
    assert window.session.meta.n_samples == 60 and window.session.validity == (True, "")
    assert window.train_button.isEnabled()
