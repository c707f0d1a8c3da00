"""Helpers for the run-history tests: fill a store quickly, click rows as a person would."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import Qt

from workbench.gui.runs.table_model import COL, RUN_ID


def add_run(store, spec, *, losses=(1.0, 0.8, 0.6), acc=(0.5, 0.6, 0.7), status="finished", tags=(), name=None,
            parent_id=None):
    run_id = store.create_run(spec, name=name, tags=tags, parent_id=parent_id, device="cpu")
    for i, (loss, a) in enumerate(zip(losses, acc), start=1):
        store.log_epoch(run_id, i, {"loss": loss, "val_loss": loss + 0.1, "accuracy": a, "val_accuracy": a - 0.05,
                                    "step": 7.0 * i, "elapsed": 0.1 * i})
    store.finish_run(run_id, status, {"test_accuracy": acc[-1] - 0.02}, 1.5)
    return run_id


def bulk_copies(store_path, n):
    """n copies of run 1, with varied names, optimizers and learning rates (one SQL statement)."""
    cols = ("name, created, status, spec_json, dataset, task, model_summary, optimizer, lr, device, duration, "
            "epochs_done, metrics_json, best_val, best_val_metric, best_epoch, message, tags, notes, host")
    db = sqlite3.connect(str(store_path))
    db.execute(f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
        INSERT INTO runs ({cols}) SELECT 'bulk ' || i, created + i, status, spec_json, dataset, task, model_summary,
        CASE i % 3 WHEN 0 THEN 'SGD' ELSE 'Adam' END, 0.0001 * (1 + i % 100), device, duration + i % 50,
        epochs_done, metrics_json, (i % 997) / 997.0, 'val_accuracy', 3, '', '[]', '', host FROM runs, n
        WHERE runs.id = 1""")
    db.commit()
    db.close()


def row_of(panel, run_id) -> int:
    for row in range(panel.proxy.rowCount()):
        if panel.proxy.index(row, 0).data(RUN_ID) == run_id:
            return row
    raise AssertionError(f"run {run_id} is not shown")


def click_row(qtbot, panel, run_id, ctrl=False, column=COL["Status"]):
    window = panel.window()
    if hasattr(window, "show_page"):  # in the main window: on the Runs page, as a person would be
        window.show_page("runs")
    index = panel.proxy.index(row_of(panel, run_id), column)
    panel.table.scrollTo(index)
    rect = panel.table.visualRect(index)
    modifier = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def cell(panel, run_id, column_name) -> str:
    return panel.proxy.index(row_of(panel, run_id), COL[column_name]).data()


def click_header(qtbot, panel, column_name):
    header = panel.table.horizontalHeader()
    section = COL[column_name]
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    from PySide6.QtCore import QPoint

    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
