"""A read-only table model over a Dataset's arrays: every row the model will see, one column per
raw column of the file (a one-hot group shows its category), the target in bold.

Cells are read from X and y when the view asks for them (X may be memory-mapped from the
prepared-data cache), so a table of a million rows costs nothing until it is scrolled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY, _TOOLTIP, _FONT, _ALIGN = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                                    Qt.ItemDataRole.FontRole, Qt.ItemDataRole.TextAlignmentRole)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


@dataclass(frozen=True)
class _Column:
    name: str
    start: int = 0  # features: X[:, start:stop]
    stop: int = 0
    levels: tuple[str, ...] = ()  # a one-hot group: the category of each of its X columns
    target: bool = False


def _columns(meta: Any) -> list[_Column]:
    """The raw columns the arrays hold, in file order (DatasetMeta.columns for tables read from
    a file; otherwise one per feature, then the target)."""
    described = getattr(meta, "columns", None) or []
    if described:
        out = []
        for c in described:
            if c.role == "target":
                out.append(_Column(c.name, target=True))
            elif c.role == "feature":
                out.append(_Column(c.name, c.features[0], c.features[1], tuple(c.levels)))
        return out
    names = list(meta.feature_names) or [f"x{i + 1}" for i in range(int(np.prod(meta.input_shape)))]
    return [*(_Column(n, i, i + 1) for i, n in enumerate(names)), _Column(meta.target_name or "target", target=True)]


def _number(v: float) -> str:
    return "" if np.isnan(v) else f"{v:.6g}"


class PreviewTableModel(QAbstractTableModel):
    """See the module doc. `set_dataset(ds)` shows a dataset (None: nothing)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._X: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._columns: list[_Column] = []
        self._class_names: list[str] = []
        self._bold = QFont()
        self._bold.setBold(True)

    def set_dataset(self, dataset: Any) -> None:
        self.beginResetModel()
        if dataset is None or getattr(dataset.meta, "kind", "") != "tabular":
            self._X = self._y = None
            self._columns = []
        else:
            self._X = dataset.X
            self._y = np.asarray(dataset.y).reshape(len(dataset.y), -1) if len(dataset.y) else np.zeros((0, 1))
            self._columns = _columns(dataset.meta)
            self._class_names = list(dataset.meta.class_names) if dataset.meta.task == "classification" else []
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() or self._X is None else len(self._X)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._columns)

    def _text(self, row: int, column: _Column) -> str:
        if column.target:
            value = self._y[row, 0]
            if self._class_names:
                return self._class_names[int(value)]
            return _number(float(value))
        if column.levels:
            cells = np.asarray(self._X[row, column.start:column.stop])
            return column.levels[int(np.argmax(cells))] if cells.max(initial=0) > 0 else ""
        return _number(float(self._X[row, column.start]))

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY or role == _TOOLTIP:
            if self._X is None or not index.isValid():
                return None
            return self._text(index.row(), self._columns[index.column()])
        if role == _FONT:
            return self._bold if self._columns[index.column()].target else None
        if role == _ALIGN:
            column = self._columns[index.column()]
            return None if column.levels or (column.target and self._class_names) else _RIGHT
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            column = self._columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{column.name} (target)" if column.target else column.name
            if role == _FONT and column.target:
                return self._bold
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return None
