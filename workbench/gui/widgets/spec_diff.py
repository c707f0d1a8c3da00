"""Two experiment specs side by side, one row per dotted path, differences highlighted."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.core.spec import MISSING, diff_specs, values_equal


def _text(value: Any) -> str:
    if value is MISSING:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value)


class SpecDiffView(QWidget):
    """A table (path, left, right) of two specs; differing rows tinted and counted.

    `set_specs(left, right, left_title, right_title)` takes dicts or ExperimentSpecs; the
    "Only differences" checkbox hides equal rows.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._rows: list[tuple[str, Any, Any, bool]] = []
        self.summary = QLabel("No specs to compare")
        self.summary.setObjectName("specDiffSummary")
        self.only_differences = QCheckBox("Only differences")
        self.only_differences.setObjectName("specDiffOnlyDifferences")
        self.only_differences.toggled.connect(self._apply_filter)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("specDiffTable")
        self.table.setHorizontalHeaderLabels(["Field", "Left", "Right"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        top = QHBoxLayout()
        top.setContentsMargins(4, 4, 4, 0)
        top.addWidget(self.summary, 1)
        top.addWidget(self.only_differences)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def set_specs(self, left: Any, right: Any, left_title: str = "Left", right_title: str = "Right") -> None:
        self._rows = [(p, a, b, not values_equal(a, b)) for p, a, b in diff_specs(left, right, all_rows=True)]
        self.table.setHorizontalHeaderLabels(["Field", left_title, right_title])
        n = sum(d for *_, d in self._rows)
        self.summary.setText("The specs are identical" if n == 0 else
                             f"{n} field{'s' if n != 1 else ''} differ{'s' if n == 1 else ''}")
        self._fill()

    def differing_paths(self) -> list[str]:
        return [p for p, *_, d in self._rows if d]

    def visible_paths(self) -> list[str]:
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())
                if not self.table.isRowHidden(r)]

    def highlighted_paths(self) -> list[str]:
        """Rows drawn with the difference tint (what a person sees as changed)."""
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())
                if self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)]

    def _tint(self) -> QColor:
        dark = self.palette().color(QPalette.ColorRole.Base).lightnessF() < 0.5
        return QColor(120, 95, 20, 150) if dark else QColor(255, 214, 90, 110)

    def _fill(self) -> None:
        self.table.setRowCount(len(self._rows))
        tint = QBrush(self._tint())
        missing = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        bold = QFont(self.font())
        bold.setBold(True)
        for r, (path, a, b, differs) in enumerate(self._rows):
            for c, value in enumerate((path, _text(a), _text(b))):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                if differs:
                    item.setBackground(tint)
                    item.setData(Qt.ItemDataRole.UserRole, True)
                    if c == 0:
                        item.setFont(bold)
                if c > 0 and (a, b)[c - 1] is MISSING:
                    item.setForeground(missing)
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        self._apply_filter()

    def _apply_filter(self) -> None:
        only = self.only_differences.isChecked()
        for r, (*_, differs) in enumerate(self._rows):
            self.table.setRowHidden(r, only and not differs)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._rows:
            self._fill()
