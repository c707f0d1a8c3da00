"""The runs table's cells say what they must in the width a 1366 px window gives them: short
dates, short metric names, "100%" rather than a clipped "100.…"; the whole value in a tooltip."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView

from workbench.core.runs import RunRecord
from workbench.gui.panels.runs_panel import WIDTHS
from workbench.gui.runs.columns import fit_widths
from workbench.gui.runs.table_model import COL, RunTableModel, date_text, metric_text

CELL_PADDING = 10  # px: Qt's margins around a cell's text


def _finished_run(created: float) -> RunRecord:
    fields = {f.name: None for f in dataclasses.fields(RunRecord)}
    fields.update(id=12, name="penguins.csv · MLP 32-32-3", created=created, status="finished",
                  stored_status="finished", spec_json='{"train": {"batch_size": 32, "epochs": 60}}',
                  dataset="/data/penguins.csv", task="classification", model_summary="Linear(32) ReLU Linear(3)",
                  optimizer="Adam", lr=0.002184, device="cpu", epochs=60, best_val=1.0,
                  best_val_metric="val_accuracy", metrics={"test_accuracy": 0.9778}, message="", tags=[],
                  notes="", host="", run_dir="", duration=61.0)
    return RunRecord(**fields)


def test_dates_are_as_short_as_is_unambiguous():
    now = datetime(2026, 12, 3, 9, 30).timestamp()
    assert date_text(datetime(2026, 12, 3, 1, 12).timestamp(), now) == "01:12"
    assert date_text(datetime(2026, 11, 30, 14, 5).timestamp(), now) == "Nov 30 14:05"
    assert date_text(datetime(2025, 11, 30, 14, 5).timestamp(), now) == "2025-11-30"


def test_metrics_are_short_and_whole():
    assert metric_text("val_accuracy", 1.0) == "acc 100%"
    assert metric_text("test_accuracy", 0.97777) == "acc 97.8%"
    assert metric_text("val_r2", 0.987123) == "r2 0.9871"
    assert metric_text("val_accuracy", None) == ""


def test_a_finished_runs_cells_fit_the_columns_a_1366_window_gives_them(qtbot):
    model = RunTableModel()
    older = datetime(2026, 1, 2, 23, 59).timestamp()  # the longest date form this year
    model.set_records([_finished_run(older)])
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    fit_widths(table, WIDTHS, COL)
    metrics = table.fontMetrics()
    for name in ("Date", "LR", "Best val", "Test", "Epochs", "Duration"):
        text = model.data(model.index(0, COL[name]))
        assert text, name
        width = table.horizontalHeader().sectionSize(COL[name])
        assert metrics.horizontalAdvance(text) + CELL_PADDING <= width, f"{name}: {text!r} is clipped at {width} px"
    tip = Qt.ItemDataRole.ToolTipRole
    assert model.data(model.index(0, COL["Date"]), tip).startswith("2026-01-02 23:59")
    assert model.data(model.index(0, COL["Name"]), tip) == "penguins.csv · MLP 32-32-3"
