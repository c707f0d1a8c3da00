"""The confusion matrix: counts, recall (row %) or precision (column %), classes in any order;
clicking a cell (or a total, or "All correct" / "All misclassified") asks for those samples."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.evaluation import class_order, normalize_confusion

__all__ = ["ConfusionModel", "ConfusionView", "MODES", "ORDERS"]

MODES = {"Counts": "count", "Recall (% of each true class)": "true", "Precision (% of each prediction)": "pred"}
ORDERS = {"As trained": "index", "By name": "name", "Most rows first": "support", "Worst recall first": "recall",
          "Worst precision first": "precision", "Most confused first": "confused"}
STRETCH_CLASSES = 12
RIGHT = QColor(46, 160, 67)
WRONG = QColor(214, 39, 40)


class ConfusionModel(QAbstractTableModel):
    """Rows: true classes, columns: predicted classes, each plus a total; in `order`."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.cm = np.zeros((0, 0), dtype=np.int64)
        self.names: list[str] = []
        self.order: list[int] = []
        self.mode = "count"
        self._shown = np.zeros((0, 0))

    def set_matrix(self, cm: np.ndarray, names: list[str], order: list[int], mode: str) -> None:
        self.beginResetModel()
        self.cm, self.names, self.order, self.mode = np.asarray(cm), list(names), list(order), mode
        self._shown = normalize_confusion(self.cm, mode) if mode in ("true", "pred") else self.cm.astype(float)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() or not self.order else len(self.order) + 1

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return self.rowCount(parent)

    def cell(self, index: QModelIndex) -> tuple[int | None, int | None]:
        """(true class, predicted class) of a cell; None for the total row/column."""
        n = len(self.order)
        t = self.order[index.row()] if index.row() < n else None
        p = self.order[index.column()] if index.column() < n else None
        return t, p

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole:
            if section >= len(self.order):
                return "total"
            return self.names[self.order[section]]
        if role == Qt.ItemDataRole.ToolTipRole:
            return "true class" if orientation == Qt.Orientation.Vertical else "predicted class"
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        t, p = self.cell(index)
        cm = self.cm
        if t is None and p is None:
            count = int(cm.sum())
        elif t is None:
            count = int(cm[:, p].sum())
        elif p is None:
            count = int(cm[t].sum())
        else:
            count = int(cm[t, p])
        if role == Qt.ItemDataRole.DisplayRole:
            if t is None or p is None or self.mode == "count":
                return str(count)
            return f"{100 * self._shown[t, p]:.0f}%" if count else "·"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.BackgroundRole and t is not None and p is not None and count:
            share = normalize_confusion(cm, "true")[t, p] if self.mode == "count" else self._shown[t, p]
            c = QColor(RIGHT if t == p else WRONG)
            c.setAlphaF(0.12 + 0.78 * float(share))
            return c
        if role == Qt.ItemDataRole.FontRole and (t is None or p is None):
            f = QFont()
            f.setItalic(True)
            return f
        if role == Qt.ItemDataRole.ToolTipRole:
            if t is None and p is None:
                return f"{count} samples in all"
            if t is None:
                return f"predicted '{self.names[p]}': {count} samples (click to see them)"
            if p is None:
                return f"true '{self.names[t]}': {count} samples (click to see them)"
            row, col = cm[t].sum(), cm[:, p].sum()
            return (f"true '{self.names[t]}', predicted '{self.names[p]}': {count} samples — "
                    f"{100 * count / row if row else 0:.1f}% of true '{self.names[t]}', "
                    f"{100 * count / col if col else 0:.1f}% of predicted '{self.names[p]}'. Click to see them.")
        return None


class ConfusionView(QWidget):
    """The matrix with its display and order choices; emits `samples_requested(true, pred, which,
    title)` when a cell, a total or a button is clicked."""

    samples_requested = Signal(object, object, str, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.mode_combo = QComboBox(objectName="confusionMode")
        self.mode_combo.addItems(list(MODES))
        self.order_combo = QComboBox(objectName="confusionOrder")
        self.order_combo.addItems(list(ORDERS))
        self.correct_button = QPushButton("All correct", objectName="allCorrect")
        self.wrong_button = QPushButton("All misclassified", objectName="allWrong")
        self.table = QTableView(objectName="confusionTable")
        self.model = ConfusionModel(self)
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for header in (self.table.horizontalHeader(), self.table.verticalHeader()):
            header.setMinimumSectionSize(34)
        self.caption = QLabel("rows: true class · columns: predicted class", objectName="confusionCaption")
        self.caption.setWordWrap(True)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Show"))
        controls.addWidget(self.mode_combo)
        controls.addWidget(QLabel("Order"))
        controls.addWidget(self.order_combo)
        controls.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.correct_button)
        buttons.addWidget(self.wrong_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.caption)
        layout.addLayout(buttons)

        self._cm = np.zeros((0, 0), dtype=np.int64)
        self._names: list[str] = []
        self.mode_combo.currentTextChanged.connect(lambda _: self._refresh())
        self.order_combo.currentTextChanged.connect(lambda _: self._refresh())
        self.table.clicked.connect(self._clicked)
        self.correct_button.clicked.connect(lambda: self.samples_requested.emit(None, None, "correct", "All correct"))
        self.wrong_button.clicked.connect(lambda: self.samples_requested.emit(None, None, "wrong", "All misclassified"))

    def set_matrix(self, cm: np.ndarray, names: list[str]) -> None:
        self._cm, self._names = np.asarray(cm), list(names)
        self._refresh()

    def _refresh(self) -> None:
        order = class_order(self._cm, self._names, ORDERS[self.order_combo.currentText()]) if self._names else []
        self.model.set_matrix(self._cm, self._names, order, MODES[self.mode_combo.currentText()])
        # few classes: big square cells filling the view; many: as small as their text
        mode = (QHeaderView.ResizeMode.Stretch if len(order) <= STRETCH_CLASSES
                else QHeaderView.ResizeMode.ResizeToContents)
        for header in (self.table.horizontalHeader(), self.table.verticalHeader()):
            header.setSectionResizeMode(mode)

    def _clicked(self, index: QModelIndex) -> None:
        t, p = self.model.cell(index)
        names = self._names
        if t is None and p is None:
            self.samples_requested.emit(None, None, "all", "All samples")
        elif t is None:
            self.samples_requested.emit(None, p, "all", f"Predicted '{names[p]}'")
        elif p is None:
            self.samples_requested.emit(t, None, "all", f"True '{names[t]}'")
        elif t == p:
            self.samples_requested.emit(t, p, "all", f"'{names[t]}' predicted correctly")
        else:
            self.samples_requested.emit(t, p, "all", f"True '{names[t]}' predicted as '{names[p]}'")
