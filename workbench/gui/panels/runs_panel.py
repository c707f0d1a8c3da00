"""Runs table: this session's and past runs from the run store.

Selecting runs overlays their curves on the plots (one colour per run); double-clicking a run
loads its spec back into the panels. The store is only read on a background thread, so a
busy database never stalls the window.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget

from workbench.core.events import RunStarted, TerminalEvent
from workbench.gui.background import BackgroundCalls
from workbench.gui.plots.palette import PlotColors
from workbench.gui.session import Session

COLUMNS = ["Name", "Status", "Dataset", "Model", "Optimizer", "LR", "Best val", "Duration"]
STATUS_COLORS = {"running": "#2f6fde", "finished": "#2e9d57", "stopped": "#b7791f", "failed": "#d64545",
                 "interrupted": "#8a8f98"}
RUN_ID = Qt.ItemDataRole.UserRole + 1
SORT = Qt.ItemDataRole.UserRole + 2


def _duration(seconds: float | None) -> str:
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


def _best(record) -> str:
    if record.best_val is None:
        return ""
    metric = (record.best_val_metric or "").removeprefix("val_")
    value = record.best_val
    text = f"{value:.1%}" if metric == "accuracy" else f"{value:.4g}"
    return f"{metric} {text}" if metric else text


class RunsPanel(QWidget):
    overlays_changed = Signal(list)  # [(label, epochs, color)] of the selected runs

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._records: dict[int, Any] = {}
        self._store = None
        self._background = BackgroundCalls("runs", self)
        self._selection_generation = 0

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(COLUMNS)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = QTableView(objectName="runsTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((120, 80, 110, 190, 80, 65, 110)):
            header.resizeSection(col, width)
        self.table.setToolTip("Select runs to overlay their curves; double-click one to load its settings")

        self.filter = QLineEdit(objectName="runsFilter", placeholderText="Filter runs…", clearButtonEnabled=True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.count_label = QLabel(objectName="runsCount")
        self.count_label.setEnabled(False)  # drawn in the palette's quiet (disabled) text colour
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        self.filter.setMaximumWidth(280)
        top.addWidget(self.filter, 1)
        top.addStretch(1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(self._double_clicked)
        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self._refresh_now)
        self._live_timer = QTimer(self, interval=2000)  # status/duration of a live run
        self._live_timer.timeout.connect(self.refresh)
        session.run_event.connect(self._on_run_event)
        self.refresh()

    # ---- reading the store (background) ------------------------------------------------
    def refresh(self) -> None:
        self._refresh_timer.start()

    def _get_store(self):
        if self._store is None:
            from workbench.core.runs import RunStore

            self._store = RunStore(self.session.store_path)
        return self._store

    @Slot()
    def _refresh_now(self) -> None:
        self._background.submit(lambda: self._get_store().list_runs(limit=500),
                                on_done=self._show_records, on_error=self._store_failed)

    def _store_failed(self, err: BaseException, _details: str) -> None:
        self.count_label.setText("run history unavailable")
        self.count_label.setToolTip(str(err))

    def _show_records(self, records: list) -> None:
        selected = set(self.selected_ids())
        self._records = {r.id: r for r in records}
        self.table.setSortingEnabled(False)
        self.model.removeRows(0, self.model.rowCount())
        for record in records:
            self.model.appendRow(self._row(record))
        self.table.setSortingEnabled(True)
        self.count_label.setText(f"{len(records)} run{'s' if len(records) != 1 else ''}")
        if selected:
            selection = self.table.selectionModel()
            with_blocked = selection.blockSignals(True)
            for row in range(self.proxy.rowCount()):
                index = self.proxy.index(row, 0)
                if index.data(RUN_ID) in selected:
                    selection.select(index, QItemSelectionModel.SelectionFlag.Select
                                     | QItemSelectionModel.SelectionFlag.Rows)
            selection.blockSignals(with_blocked)
            self._selection_changed()  # refresh overlays of runs that are still growing

    def _row(self, r) -> list[QStandardItem]:
        lr = f"{r.lr:.3g}" if r.lr is not None else ""
        values = [
            (r.name or f"run {r.id}", -r.created),
            (r.status, r.status),
            (r.dataset.removeprefix("sample:"), r.dataset),
            (r.model_summary, r.model_summary),
            (r.optimizer, r.optimizer),
            (lr, r.lr if r.lr is not None else -1.0),
            (_best(r), r.best_val if r.best_val is not None else float("-inf")),
            (_duration(r.duration), r.duration if r.duration is not None else -1.0),
        ]
        items = []
        for text, key in values:
            item = QStandardItem(text)
            item.setData(r.id, RUN_ID)
            item.setData(key, SORT)
            items.append(item)
        items[1].setForeground(QColor(STATUS_COLORS.get(r.status, "#8a8f98")))
        if r.message:
            for item in items:
                item.setToolTip(r.message)
        return items

    # ---- selection -> overlays ---------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows(0)
        return [index.data(RUN_ID) for index in sorted(rows, key=lambda i: i.row())]

    def select_ids(self, run_ids: list[int]) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(RUN_ID) in run_ids:
                selection.select(index, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)

    @Slot()
    def _selection_changed(self, *_args) -> None:
        ids = self.selected_ids()
        self._selection_generation += 1
        generation = self._selection_generation
        colors = PlotColors(self.palette()).overlay_colors(len(ids))
        labels = {i: (self._records[i].name if i in self._records else f"run {i}") for i in ids}

        def fetch():
            store = self._get_store()
            return [(labels[i], store.epochs(i), colors[k]) for k, i in enumerate(ids)]

        self._background.submit(fetch, on_done=lambda runs: self._emit_overlays(generation, runs))

    def _emit_overlays(self, generation: int, runs: list) -> None:
        if generation == self._selection_generation:
            self.overlays_changed.emit(runs)

    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        record = self._records.get(index.data(RUN_ID))
        if record is None:
            return
        try:
            spec = record.spec
        except Exception as err:
            self.count_label.setText(f"cannot load run {record.id}: {err}")
            return
        self.session.set_spec(spec, text=f"Load settings of {record.name or f'run {record.id}'}")

    # ---- live updates ------------------------------------------------------------------
    @Slot(object)
    def _on_run_event(self, event) -> None:
        if isinstance(event, RunStarted):
            self.refresh()
            self._live_timer.start()
        elif isinstance(event, TerminalEvent):
            self._live_timer.stop()
            QTimer.singleShot(300, self, self.refresh)  # the child finishes its record right after

    def shutdown(self) -> None:
        self._live_timer.stop()
        self._refresh_timer.stop()
        self._background.shutdown(wait=True)
        if self._store is not None:
            self._store.close()
            self._store = None
