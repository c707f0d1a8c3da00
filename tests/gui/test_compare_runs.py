"""Comparing two runs shows their differences as the pages name them (issue 8, item 8): no
internal fields, no "—" against "null" for the same "not set", rows in spec order, one row per
metric."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt

from runs_support import add_run, click_row
from workbench.core.runs import RunStore
from workbench.core.spec import parse_spec
from workbench.gui.panels.runs_panel import RunsPanel
from workbench.gui.runs.compare_dialog import CompareDialog, metric_rows
from workbench.gui.widgets.spec_diff import SpecDiffView

BASE = {
    "name": "a", "data": {"source": "sample:spiral"},
    "model": {"layers": [{"type": "Linear", "out_features": 16}, {"type": "ReLU"},
                         {"type": "Residual", "layers": [{"type": "Linear", "out_features": 16}]},
                         {"type": "ReLU"}, {"type": "Dropout", "p": 0.1},
                         {"type": "Linear", "out_features": "auto"}]},
    "optimizer": {"type": "Adam", "lr": 0.01},
    "train": {"epochs": 20},
}


def _spec(**changes):
    return parse_spec(BASE).with_values(changes) if changes else parse_spec(BASE)


def test_differences_are_named_as_the_pages_name_them(qtbot):
    left = _spec()
    right = _spec(**{"model.layers.4.p": 0.3, "optimizer": {"type": "Adam", "lr": 0.003, "beta1": 0.9},
                     "schedule": {"type": "StepLR", "step_size": 5}, "train.grad_clip": 1.0,
                     "train.batch_size": 64})
    view = SpecDiffView()
    qtbot.addWidget(view)
    view.set_specs(left, right, "#1", "#2")
    view.only_differences.setChecked(True)
    labels = view.visible_labels()
    # betas written out at their default is no difference; the layer is named, numbered from 1
    assert labels == ["Layer 5 (Dropout): p", "Optimizer: lr", "Learning-rate schedule", "Schedule: step_size",
                      "Schedule: gamma", "Batch size", "Gradient clip"], labels
    rows = {view.table.item(r, 0).text(): (view.table.item(r, 1).text(), view.table.item(r, 2).text())
            for r in range(view.table.rowCount()) if not view.table.isRowHidden(r)}
    assert rows["Learning-rate schedule"] == ("none (constant)", "StepLR")
    assert rows["Gradient clip"] == ("off", "1")
    view.only_differences.setChecked(False)
    everything = " ".join(view.visible_labels()) + " ".join(view.visible_paths())
    assert "layers.2.layers" not in " ".join(view.visible_labels())
    assert not any(p.endswith(".layers") for p in view.visible_paths())  # no "layers: null"
    assert "schema_version" not in everything
    for r in range(view.table.rowCount()):
        for c in (1, 2):
            assert view.table.item(r, c).text() not in ("null", "None"), view.table.item(r, 0).text()
    order = view.visible_paths()
    assert order.index("data.source") < order.index("model.layers.0.type") < order.index("optimizer.type") \
        < order.index("train.epochs")


def test_early_stopping_off_against_on_is_one_clear_row(qtbot):
    view = SpecDiffView()
    qtbot.addWidget(view)
    view.set_specs(_spec(), _spec(**{"train.early_stopping": {"patience": 5}}))
    view.only_differences.setChecked(True)
    labels = view.visible_labels()
    assert labels[0] == "Early stopping"
    first = [view.table.item(r, c).text() for r in range(view.table.rowCount()) for c in (1, 2)
             if not view.table.isRowHidden(r)][:2]
    assert first == ["off", "on"]


def test_metric_rows_once_each_in_order(qtbot, tiny_spec):
    with RunStore(os.environ["WORKBENCH_STORE"]) as store:
        metrics = {"loss": 0.2, "train_loss": 0.2, "accuracy": 0.9, "val_loss": 0.3, "val_accuracy": 0.88,
                   "test_loss": 0.31, "test_accuracy": 0.87, "test_baseline_accuracy": 0.5, "lr": 0.01,
                   "best_epoch": 3.0}
        ids = []
        for m in (metrics, {**metrics, "val_loss": 0.25}):
            run_id = store.create_run(tiny_spec)
            store.finish_run(run_id, "finished", m, 1.0)
            ids.append(run_id)
        a, b = (store.get_run(i) for i in ids)
    names = [row[0] for row in metric_rows(a, b)]
    assert names == ["status", "epochs", "best val", "train loss", "train accuracy", "validation loss",
                     "validation accuracy", "test loss", "test accuracy",
                     "test accuracy of always guessing the most common class", "final learning rate"]


def test_compare_button_opens_the_named_diff(qtbot, make_session, tiny_spec, tmp_path):
    (tmp_path / "d.csv").write_text("a,b\n1,0\n")
    with RunStore(os.environ["WORKBENCH_STORE"]) as store:
        # one file, named relative to the spec by one run and absolute by the other: no difference
        a = add_run(store, tiny_spec.with_values({"data.source": "d.csv", "name": ""}), name="lr 0.01")
        store.log_event(a, "data", 0, 0, {"source": str(tmp_path / "d.csv"), "notes": []})
        b = add_run(store, tiny_spec.with_values({"optimizer.lr": 0.1, "data.source": str(tmp_path / "d.csv"),
                                                  "name": ""}), name="lr 0.1")
        store.log_event(b, "lr_changed", 3, 120, {"lr": 0.003, "previous": 0.1})  # Live LR while it ran
    panel = RunsPanel(make_session())
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2)
    click_row(qtbot, panel, a)
    click_row(qtbot, panel, b, ctrl=True)
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    dialog = panel.compare_dialog
    assert isinstance(dialog, CompareDialog)
    assert dialog.diff.visible_labels() == ["Optimizer: lr"]
    rows = {dialog.metrics.item(r, 0).text(): (dialog.metrics.item(r, 1).text(), dialog.metrics.item(r, 2).text())
            for r in range(dialog.metrics.rowCount())}
    columns = [dialog.metrics.horizontalHeaderItem(c).text().split()[0] for c in (1, 2)]
    changed = dict(zip(columns, rows["learning rate changed live"]))
    assert changed == {f"#{a}": "none", f"#{b}": "0.1 → 0.003 at step 120"}
    dialog.close()
    panel.shutdown()
