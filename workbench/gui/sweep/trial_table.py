"""The live table of a sweep's trials: number, status, one column per swept field, the metric,
epochs and duration. Sortable (numbers sort as numbers); the best trial is highlighted; a failed
trial's message is its row's tooltip."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from workbench.core.sweep import trial_label
from workbench.gui.plots.trial_axes import fmt_value

ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_TEXT = {"running": "running", "complete": "complete", "pruned": "pruned", "failed": "failed",
               "stopped": "stopped", "waiting": "waiting"}
STATUS_COLOR = {"failed": "#c62828", "pruned": "#8d6e00", "stopped": "#777777", "running": "#1565c0"}
BEST_BACKGROUND = QColor(255, 196, 0, 70)


def fmt_metric(v: float | None) -> str:
    if v is None or not isinstance(v, (int, float)) or not math.isfinite(v):
        return "–"
    return f"{v:.4g}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}" if m < 60 else f"{m // 60}:{m % 60:02d}:{s:02d}"


class TrialTableModel(QAbstractTableModel):
    """Rows are trial dicts (see SweepPanel): {"id", "status", "params", "value", "last",
    "epochs", "duration", "message"}; `set_columns` names the swept fields."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[dict] = []
        self._row_of: dict[Any, int] = {}
        self._params: list[tuple[str, str]] = []  # (path, header)
        self._metric = "metric"
        self._best = None

    # -- columns -----------------------------------------------------------------------------------
    def set_columns(self, params: list[tuple[str, str]], metric: str) -> None:
        self.beginResetModel()
        self._params = list(params)
        self._metric = metric
        self.endResetModel()

    def headers(self) -> list[str]:
        return ["#", "status", *[h for _p, h in self._params], self._metric, "epochs", "duration"]

    @property
    def metric_column(self) -> int:
        return 2 + len(self._params)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else 5 + len(self._params)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(self._rows)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 (Qt name)
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.headers()[section]
            if role == Qt.ItemDataRole.ToolTipRole and 2 <= section < 2 + len(self._params):
                return self._params[section - 2][0]
        return None

    # -- rows ------------------------------------------------------------------------------------------
    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._row_of, self._best = [], {}, None
        self.endResetModel()

    def set_trials(self, trials: list[dict]) -> None:
        self.beginResetModel()
        self._rows = list(trials)
        self._row_of = {t["id"]: i for i, t in enumerate(self._rows)}
        self.endResetModel()

    def upsert(self, trial: dict) -> None:
        """Add a trial or refresh its row (the dict is kept by reference)."""
        i = self._row_of.get(trial["id"])
        if i is None:
            i = len(self._rows)
            self.beginInsertRows(QModelIndex(), i, i)
            self._rows.append(trial)
            self._row_of[trial["id"]] = i
            self.endInsertRows()
        else:
            self._rows[i] = trial
            self.dataChanged.emit(self.index(i, 0), self.index(i, self.columnCount() - 1))

    def set_best(self, trial_id) -> None:
        if trial_id == self._best:
            return
        old, self._best = self._best, trial_id
        for tid in (old, trial_id):
            i = self._row_of.get(tid)
            if i is not None:
                self.dataChanged.emit(self.index(i, 0), self.index(i, self.columnCount() - 1))

    @property
    def best_id(self):
        return self._best

    def row_of(self, trial_id) -> int | None:
        return self._row_of.get(trial_id)

    def trial(self, row: int) -> dict:
        return self._rows[row]

    # -- cells ---------------------------------------------------------------------------------------
    def _cell(self, t: dict, col: int) -> tuple[str, Any]:
        """(text, sort key) of one cell."""
        n_params = len(self._params)
        if col == 0:
            shown = trial_label(t["id"])  # from 1, as people count (the stored id from 0 sorts)
            return (f"★ {shown}" if t["id"] == self._best else shown), t["id"]
        if col == 1:
            return STATUS_TEXT.get(t["status"], t["status"]), t["status"]
        if col < 2 + n_params:
            path = self._params[col - 2][0]
            if path not in t["params"]:
                return "", ""
            v = t["params"][path]
            return fmt_value(v), (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))
        if col == 2 + n_params:
            v = t.get("value")
            if v is None and t["status"] == "running":
                last = t.get("last")
                return (f"({fmt_metric(last)})" if last is not None else "…"), math.inf
            return fmt_metric(v), (v if v is not None and math.isfinite(v) else math.inf)
        if col == 3 + n_params:
            return str(t.get("epochs", 0)), t.get("epochs", 0)
        d = t.get("duration")
        return fmt_duration(d), (d if d is not None else math.inf)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        t = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(t, col)[0]
        if role == SORT_ROLE:
            key = self._cell(t, col)[1]
            return key
        if role == ID_ROLE:
            return t["id"]
        if role == Qt.ItemDataRole.ToolTipRole:
            if t.get("message"):
                return f"Trial {trial_label(t['id'])} {t['status']}: {t['message']}"
            if t["status"] == "running" and col == self.metric_column:
                return "latest epoch's value (the trial is still running)"
            return None
        if role == Qt.ItemDataRole.BackgroundRole and t["id"] == self._best:
            return QBrush(BEST_BACKGROUND)
        if role == Qt.ItemDataRole.FontRole and t["id"] == self._best:
            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.ForegroundRole and col == 1 and t["status"] in STATUS_COLOR:
            return QBrush(QColor(STATUS_COLOR[t["status"]]))
        if role == Qt.ItemDataRole.TextAlignmentRole and col != 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class TrialSortProxy(QSortFilterProxyModel):
    """Sorts by SORT_ROLE; numbers before text so mixed columns never compare str with float."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def lessThan(self, left: QModelIndex | QPersistentModelIndex,  # noqa: N802 (Qt name)
                 right: QModelIndex | QPersistentModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        ka = (0, a, "") if isinstance(a, (int, float)) else (1, 0, str(a))
        kb = (0, b, "") if isinstance(b, (int, float)) else (1, 0, str(b))
        return ka < kb
