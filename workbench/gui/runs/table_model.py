"""The runs table's model: RunRecords in a QAbstractTableModel, sorted in Python on precomputed
keys (one key per row, not a Python call per comparison: 10 000 runs sort in tens of ms), and a
proxy that only filters (by a core.runs.RunFilter and the soft-deleted ids)."""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any, Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor

from workbench.core.catalog import baseline_note
from workbench.core.runs import RunFilter, group_of, parse_filter, spec_value
from workbench.core.spec import data_short_name

RUN_ID = Qt.ItemDataRole.UserRole + 1
STATUS_COLORS = {"running": "#2f6fde", "finished": "#2e9d57", "stopped": "#b7791f", "failed": "#d64545",
                 "interrupted": "#8a8f98"}


def duration_text(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def metric_text(metric: str, value: float | None) -> str:
    """A metric as a table cell: short name and value ("acc 97.8%", "acc 100%", "r2 0.9871")."""
    if value is None:
        return ""
    name = metric.removeprefix("val_").removeprefix("test_")
    text = f"{value:.1%}".replace("100.0%", "100%") if name == "accuracy" else f"{value:.4g}"
    name = SHORT_METRIC_NAMES.get(name, name)
    return f"{name} {text}" if name else text


SHORT_METRIC_NAMES = {"accuracy": "acc"}  # the header says which split; the cell must fit at 1366 px


def date_text(created: float, now: float | None = None) -> str:
    """When a run started, as short as is unambiguous: "14:05" today, "Dec 02 14:05" this year,
    "2025-11-30" before."""
    when = datetime.fromtimestamp(created)
    today = datetime.fromtimestamp(time.time() if now is None else now)
    if when.date() == today.date():
        return when.strftime("%H:%M")
    if when.year == today.year:
        return when.strftime("%b %d %H:%M")
    return when.strftime("%Y-%m-%d")


def _test(r) -> tuple[str, float] | None:
    return r.test_metric


def _tags_text(r) -> str:
    group = group_of(r)
    others = [t for t in r.tags if not t.startswith("group:")]
    return " ".join(([f"[{group}]"] if group else []) + others)


# (header, display text, sort key, tooltip)
Column = tuple[str, Callable[[Any], str], Callable[[Any], Any]]
COLUMNS: list[Column] = [
    ("#", lambda r: str(r.id), lambda r: r.id),
    ("Name", lambda r: ("↳ " if r.parent_id is not None else "") + (r.name or f"run {r.id}"),
     lambda r: (r.name or "").lower()),
    ("Date", lambda r: date_text(r.created), lambda r: r.created),
    ("Status", lambda r: r.status, lambda r: r.status),
    ("Dataset", lambda r: data_short_name(r.dataset), lambda r: r.dataset),
    ("Model", lambda r: r.model_summary, lambda r: r.model_summary),
    ("Optimizer", lambda r: r.optimizer, lambda r: r.optimizer),
    ("LR", lambda r: f"{r.lr:.3g}" if r.lr is not None else "", lambda r: r.lr),
    ("Batch", lambda r: str(spec_value(r, "train.batch_size") or ""),
     lambda r: (lambda b: 1e12 if b == "full" else b)(spec_value(r, "train.batch_size"))),
    ("Epochs", lambda r: f"{r.epochs}/{spec_value(r, 'train.epochs') or '?'}", lambda r: r.epochs),
    ("Best val", lambda r: metric_text(r.best_val_metric, r.best_val), lambda r: r.best_val),
    ("Test", lambda r: (metric_text(*_test(r)) + (" ⚠" if baseline_note(r.metrics) else "")) if _test(r) else "",
     lambda r: _test(r)[1] if _test(r) else None),
    ("Duration", lambda r: duration_text(r.duration), lambda r: r.duration),
    ("Device", lambda r: r.device, lambda r: r.device),
    ("Parent", lambda r: f"#{r.parent_id}" if r.parent_id is not None else "", lambda r: r.parent_id),
    ("Group / tags", _tags_text, lambda r: (group_of(r) or "~", " ".join(r.tags))),
]
HEADERS = [c[0] for c in COLUMNS]
COL = {name: i for i, name in enumerate(HEADERS)}


def _sort_key(value: Any) -> tuple:
    """None and NaN sort last whatever the order asked (a missing metric is never 'best')."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (1, 0)
    return (0, value)


class RunTableModel(QAbstractTableModel):
    """Rows are RunRecords. The Name cell is editable: an edit emits `rename_requested`."""

    rename_requested = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._records: list = []
        self._row_of: dict[int, int] = {}
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._version = 0  # bumped by every change of the rows: a plan made before one is stale

    # ---- content ----------------------------------------------------------------------------
    def records(self) -> list:
        return list(self._records)

    def record_at(self, row: int):
        return self._records[row]

    def record(self, run_id: int):
        row = self._row_of.get(run_id)
        return self._records[row] if row is not None else None

    def row_of(self, run_id: int) -> int | None:
        return self._row_of.get(run_id)

    @property
    def sort_state(self) -> tuple[int, Qt.SortOrder] | None:
        """(column, order) the rows are sorted by, or None (as the store lists them)."""
        return self._sort

    def snapshot(self) -> tuple[int, list]:
        """(version, rows) for `plan_update` off the GUI thread."""
        return self._version, list(self._records)

    def plan_holds(self, version: int, sorted_by: tuple[int, Qt.SortOrder] | None) -> bool:
        """Whether records sorted by `sorted_by`, with a plan made from the `version` snapshot,
        can be shown without sorting or planning again on the GUI thread."""
        return version == self._version and (self._sort is None or sorted_by == self._sort)

    def set_records(self, records: Sequence, sorted_by: tuple[int, Qt.SortOrder] | None = None,
                    plan: tuple[int, tuple] | None = None) -> None:
        """Replace the rows. `sorted_by`: the order the records already are in (sorted off the
        GUI thread with `sorted_records`); they are sorted here only if that is not the table's
        order. `plan`: (snapshot version, plan_update of that snapshot and these records), worked
        out off the GUI thread; made here when missing or stale.

        Runs added before or after the ones shown are inserted and only the rows whose run
        changed are announced: a reset made the filter proxy ask every one of 10 000 rows again
        (tens of ms of Python on the GUI thread at every run's start and end), and selection,
        scroll and editors stay."""
        records = list(records)
        if self._sort is not None and sorted_by != self._sort:
            records = sorted_records(records, self._sort)
            plan = None
        if plan is None or plan[0] != self._version:
            plan = (self._version, plan_update(self._records, records))
        self._version += 1
        kind, detail = plan[1]
        if kind == "reset":
            self.beginResetModel()
            self._records = records
            self._reindex()
            self.endResetModel()
            return
        front, back, changed = detail
        if front:
            self.beginInsertRows(QModelIndex(), 0, front - 1)
            self._records = records[:front] + self._records
            self.endInsertRows()
        if back:
            start = len(self._records)
            self.beginInsertRows(QModelIndex(), start, start + back - 1)
            self._records = self._records + records[len(records) - back:]
            self.endInsertRows()
        self._records = records
        self._reindex()
        last = len(COLUMNS) - 1
        for first, end in _runs_of(front + i for i in changed):
            self.dataChanged.emit(self.index(first, 0), self.index(end, last))

    def update_records(self, records: Sequence) -> None:
        """Replace the given runs' rows in place (a live run's status and duration)."""
        for record in records:
            row = self._row_of.get(record.id)
            if row is not None:  # (rows stay where they are: a plan made before this still holds)
                self._records[row] = record
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _reindex(self) -> None:
        self._row_of = {r.id: i for i, r in enumerate(self._records)}

    # ---- Qt model -----------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def flags(self, index: QModelIndex):
        flags = super().flags(index)
        if index.column() == COL["Name"]:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._records[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[col][1](r)
        if role == Qt.ItemDataRole.EditRole:
            return r.name if col == COL["Name"] else COLUMNS[col][1](r)
        if role == RUN_ID:
            return r.id
        if role == Qt.ItemDataRole.ForegroundRole and col == COL["Status"]:
            return QColor(STATUS_COLORS.get(r.status, "#8a8f98"))
        if role == Qt.ItemDataRole.ForegroundRole and col == COL["Test"] and baseline_note(r.metrics):
            return QColor(STATUS_COLORS["failed"])
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL["Test"] and baseline_note(r.metrics):
                return baseline_note(r.metrics)
            if col == COL["Dataset"]:
                return r.dataset
            if col == COL["Date"]:
                return datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M:%S")
            if col in (COL["Name"], COL["Model"]):  # clipped first in a narrow window
                return COLUMNS[col][1](r)
            if col == COL["Parent"] and r.parent_id is not None:
                return f"Continues run #{r.parent_id} from its checkpoint"
            if r.message:
                return r.message
            if r.notes:
                return r.notes
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL["#"], COL["LR"], COL["Batch"], COL["Epochs"]):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or index.column() != COL["Name"]:
            return False
        name = str(value).strip()
        r = self._records[index.row()]
        if not name or name == r.name:
            return False
        r.name = name
        self.dataChanged.emit(index, index)
        self.rename_requested.emit(r.id, name)
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_ids = [(self._records[i.row()].id, i.column()) for i in old]
        self._records = sorted_records(self._records, (column, order))
        self._version += 1
        self._reindex()
        self.changePersistentIndexList(old, [self.index(self._row_of[i], c) for i, c in old_ids])
        self.layoutChanged.emit()



def plan_update(old: Sequence, new: Sequence) -> tuple[str, Any]:
    """How the table goes from the `old` rows to the `new` ones (plain Python: a background
    thread can work it out). ("grow", (front, back, changed)) when `new` is `old` with `front`
    runs before and `back` after it, `changed` the indexes into `old` whose run differs; else
    ("reset", None)."""
    old_ids = [r.id for r in old]
    new_ids = [r.id for r in new]
    n = len(old_ids)
    if not n or len(new_ids) < n:
        return ("reset", None)
    front = len(new_ids) - n if new_ids[len(new_ids) - n:] == old_ids else (
        0 if new_ids[:n] == old_ids else -1)
    if front < 0:
        return ("reset", None)
    changed = [i for i in range(n) if old[i] != new[front + i]]
    return ("grow", (front, len(new_ids) - n - front, changed))


def _runs_of(rows) -> list[tuple[int, int]]:
    """Consecutive row numbers as (first, last) ranges."""
    ranges: list[list[int]] = []
    for row in rows:
        if ranges and row == ranges[-1][1] + 1:
            ranges[-1][1] = row
        else:
            ranges.append([row, row])
    return [(a, b) for a, b in ranges]


def sorted_records(records: Sequence, sort: tuple[int, Qt.SortOrder] | None) -> list:
    """The records in the table's order for `sort` ((column, order), None: as given). Plain
    Python on plain records, so a background thread can do it (10 000 runs: tens of ms)."""
    if sort is None:
        return list(records)
    column, order = sort
    key = COLUMNS[column][2]
    keyed = [(_sort_key(key(r)), r) for r in records]
    present = [k for k in keyed if k[0][0] == 0]
    missing = [k for k in keyed if k[0][0] == 1]
    try:
        present.sort(key=lambda k: k[0], reverse=order == Qt.SortOrder.DescendingOrder)
    except TypeError:  # mixed types in one column: compare as text
        present.sort(key=lambda k: str(k[0][1]), reverse=order == Qt.SortOrder.DescendingOrder)
    return [r for _, r in present] + [r for _, r in missing]


class RunFilterProxy(QSortFilterProxyModel):
    """Filters rows; sorting is the source model's (asked through `sort`)."""

    filter_error = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._filter = RunFilter()
        self._hidden: set[int] = set()

    @property
    def run_filter(self) -> RunFilter:
        return self._filter

    def set_filter_text(self, text: str) -> None:
        self.beginFilterChange()
        self._filter = parse_filter(text)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        self.filter_error.emit(self._filter.error)

    def set_hidden(self, run_ids: set[int]) -> None:
        self.beginFilterChange()
        self._hidden = set(run_ids)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:  # noqa: N802
        record = self.sourceModel().record_at(source_row)
        if record.id in self._hidden:
            return False
        return self._filter.empty or self._filter.matches(record)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)


__all__ = ["COL", "COLUMNS", "HEADERS", "RUN_ID", "RunFilterProxy", "RunTableModel", "STATUS_COLORS",
           "date_text", "duration_text", "metric_text", "plan_update", "sorted_records"]
