"""Open sweep…: the stored sweeps of a storage, newest first, to pick one to show."""

from __future__ import annotations

import time

from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.core.sweep import list_sweeps

from .trial_table import fmt_metric

__all__ = ["SweepPickerDialog"]


class SweepPickerDialog(QDialog):
    """The stored sweeps of a storage, newest first; `chosen` is the study name."""

    def __init__(self, storage: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Open sweep")
        self.setObjectName("sweepPicker")
        self.chosen: str | None = None
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("sweepList")
        self.table.setHorizontalHeaderLabels(["sweep", "created", "trials", "best"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.message = QLabel()
        self.message.setWordWrap(True)
        try:
            sweeps = sorted(list_sweeps(storage), key=lambda s: -(s.get("created") or 0))
        except Exception as exc:  # noqa: BLE001 - shown as a sentence
            sweeps = []
            self.message.setText(f"Could not read the sweeps in {storage}: {exc}")
        if not sweeps and not self.message.text():
            self.message.setText("No sweeps stored yet. Start one with Run ▸ Sweep….")
        for s in sweeps:
            r = self.table.rowCount()
            self.table.insertRow(r)
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(s["created"])) if s.get("created") else ""
            best = f"{s.get('metric')} {fmt_metric(s.get('best_value'))}" if s.get("best_value") is not None else "–"
            for c, text in enumerate([s["study"], created, str(s["n_trials"]), best]):
                self.table.setItem(r, c, QTableWidgetItem(text))
        if sweeps:
            self.table.selectRow(0)
        self.table.doubleClicked.connect(lambda _i: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(bool(sweeps))
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(560, 320)

    def accept(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.chosen = self.table.item(rows[0].row(), 0).text()
            super().accept()
