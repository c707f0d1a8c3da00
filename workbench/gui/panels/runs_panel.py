"""Runs panel: every run in the run store, and what can be done with them.

The table (gui/runs/table_model.py) sorts and filters 10 000 runs well under a second; the store is
read on a background thread (a whole list when runs are added or end; only the live runs every
2 s while one is going). Selecting runs overlays their curves (colour per run or by a
hyperparameter), shows the selected run's tags, notes and checkpoints, and for seed groups their
mean ± std bands and whether two groups differ by more than seed noise. Rename by editing the
Name cell; delete with a confirmation naming the runs, then Undo until the app closes.
"""

from __future__ import annotations


from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QMenu, QPushButton,
                               QSizePolicy, QSplitter, QTableView, QTabWidget, QVBoxLayout, QWidget)

from workbench.core.training import EpochEnd, RunStarted, TerminalEvent
from workbench.core.runs import checkpoints, differing_fields, group_of, load_runs, spec_to_load
from workbench.gui.background import BackgroundCalls
from workbench.gui.plots.band_curves import BandCurves
from workbench.gui.plots.palette import PlotColors
from workbench.gui.runs.branching import BranchController
from workbench.gui.runs.coloring import FIXED_CHOICES, colors_by
from workbench.gui.runs.columns import fit_widths, install_column_menu, spread_spare_width
from workbench.gui.runs.compare_dialog import CompareDialog
from workbench.gui.runs.deletion import SoftDeletes, confirm_delete
from workbench.gui.runs.details import RunDetails
from workbench.gui.runs.filter_bar import FilterBar
from workbench.gui.runs.overlays import fetch_groups, fetch_overlays
from workbench.gui.runs.repeats import RepeatRunner, SeedsDialog
from workbench.gui.runs.stores import ThreadStores
from workbench.gui.runs.table_model import (COL, RUN_ID, RunFilterProxy, RunTableModel, plan_update,
                                            sorted_records)
from workbench.gui.session import Session

WIDTHS = {"#": 44, "Name": 150, "Date": 92, "Status": 72, "Dataset": 70, "Model": 140, "Optimizer": 72,
          "LR": 62, "Batch": 46, "Epochs": 54, "Best val": 84, "Test": 84, "Duration": 60, "Device": 48,
          "Parent": 50}
GROW = {"Name": 0.3, "Model": 0.25, "Dataset": 0.1, "LR": 0.05, "Best val": 0.1, "Test": 0.1}  # where a wide table's spare room goes
LIVE_REFRESH_MS = 2000


class RunsPanel(QWidget):
    overlays_changed = Signal(list)  # [(label, epochs, color)] of the selected runs
    status = Signal(str)  # a message for the status bar
    evaluate_requested = Signal(int)  # a run id to show on the Evaluate page

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._stores = ThreadStores(session.store_path)  # one connection per thread: no shared lock
        self._background = BackgroundCalls("runs", self)
        self._generation = 0
        self._loaded = False
        self._closing = False
        self._select_group = ""  # a seed group to select when the next list arrives
        self.compare_dialog: CompareDialog | None = None

        self.model = RunTableModel(self)
        self.proxy = RunFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(objectName="runsTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # Only the Name cell is editable: double-click (or F2) renames. Loading a run's settings
        # is an explicit action (the Load settings button, or the context menu).
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.SelectedClicked
                                   | QAbstractItemView.EditTrigger.DoubleClicked)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(COL["#"], Qt.SortOrder.DescendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        fit_widths(self.table, WIDTHS, COL)
        install_column_menu(self.table, COL, default_hidden=("Device", "Parent"))
        self.table.setToolTip("Select runs to overlay their curves. Load settings (beside, or right-click) puts a "
                              "run's settings in the editor; double-click a name (or F2) to rename")
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)

        self.filter_bar = FilterBar()
        self.filter = self.filter_bar.edit
        self.color_combo = QComboBox(objectName="colorBy")
        self.color_combo.setToolTip("Colour the overlaid curves one per run, or by a hyperparameter")
        self.color_combo.addItems(list(FIXED_CHOICES))
        self.legend = QLabel(objectName="colorLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the dock
        self.compare_button = QPushButton("Compare", objectName="compareButton", enabled=False)
        self.compare_button.setToolTip("Select two runs: their settings side by side, differences highlighted")
        self.seeds_button = QPushButton("K seeds…", objectName="seedsButton")
        self.seeds_button.setToolTip("Train the current settings K times with different seeds, as one group")
        self.count_label = QLabel(objectName="runsCount")
        self.count_label.setEnabled(False)  # drawn in the palette's quiet (disabled) text colour
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter_bar, 3)
        top.addWidget(QLabel("Colour:"))
        top.addWidget(self.color_combo)
        top.addWidget(self.legend, 1)
        top.addWidget(self.compare_button)
        top.addWidget(self.seeds_button)
        top.addWidget(self.count_label)

        self.details = RunDetails()
        self.bands = BandCurves()
        self.bands.setObjectName("groupBands")
        self.side = QTabWidget(objectName="runsSide")
        self.side.addTab(self.details, "Run")
        self.side.addTab(self.bands, "Seed groups")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([900, 330])
        self.splitter = split

        self.message = QLabel(objectName="runsMessage")
        self.message.setWordWrap(True)
        self.undo_button = QPushButton("Undo delete", objectName="undoDeleteButton", visible=False)
        self.cancel_branch_button = QPushButton("Cancel branch", objectName="cancelBranchButton", visible=False)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.cancel_branch_button)
        bottom.addWidget(self.undo_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

        self.deletes = SoftDeletes(lambda run_id: self._get_store().delete_run(run_id, delete_files=True), self)
        self.deletes.changed.connect(self._deleted_changed)
        self.branching = BranchController(session, self._get_store, self)
        self.branching.message.connect(self.show_message)
        self.repeats = RepeatRunner(session, self)
        self.repeats.progress.connect(lambda text: text and self.show_message(text))
        self.repeats.finished.connect(self._repeats_done)

        # Delete / Ctrl+Z in the table: an event filter, not window shortcuts (the main window's Undo
        # is the spec's; these act on the table only while it has the focus)
        self.delete_action = QAction("Delete…\tDel", self)
        self.delete_action.triggered.connect(self.delete_selected)
        self.table.installEventFilter(self)
        self.table.viewport().installEventFilter(self)  # its width: spare room to the Name column

        self.filter_bar.changed.connect(self.proxy.set_filter_text)
        self.proxy.filter_error.connect(self.filter_bar.show_error)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self.model.rename_requested.connect(self._rename)
        self.details.tags_edited.connect(self._set_tags)
        self.details.notes_edited.connect(self._set_notes)
        self.details.resume_clicked.connect(self.branching.resume)
        self.details.branch_clicked.connect(self.branching.branch)
        self.details.load_clicked.connect(self.load_settings)
        self.color_combo.currentIndexChanged.connect(lambda _i: self._update_overlays())
        self.compare_button.clicked.connect(self.compare_selected)
        self.seeds_button.clicked.connect(self.ask_seeds)
        self.undo_button.clicked.connect(self.undo_delete)
        self.cancel_branch_button.clicked.connect(self.branching.cancel_branch)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        session.next_run_changed.connect(self._next_run_changed)
        session.run_state_changed.connect(self._run_state_changed)
        session.run_event.connect(self._on_run_event)

        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self._refresh_now)
        self._live_timer = QTimer(self, interval=LIVE_REFRESH_MS)  # status/duration of a live run
        self._live_timer.timeout.connect(self._refresh_live)
        self.refresh()

    # ---- reading the store (background) ------------------------------------------------
    def refresh(self) -> None:
        if not self._refresh_timer.isActive():  # a burst of reasons is one read, not a starved timer
            self._refresh_timer.start()

    def _get_store(self):
        """The run store for the calling thread (background reads never share a lock with the GUI)."""
        return self._stores.get()

    @Slot()
    def _refresh_now(self) -> None:
        # Sorted and compared with the rows shown there too: 10 000 runs take a while in Python.
        sort = self.model.sort_state
        version, shown = self.model.snapshot()

        def load():
            records = sorted_records(load_runs(self._get_store()), sort)
            return records, plan_update(shown, records)

        self._background.submit(load, on_done=lambda result: self._show_records(result[0], sort, (version, result[1])),
                                on_error=self._store_failed)

    @Slot()
    def _refresh_live(self) -> None:
        self._background.submit(lambda: self._get_store().list_runs(status="running"),
                                on_done=self._update_live, on_error=self._store_failed)

    def _update_live(self, records: list) -> None:
        if any(self.model.row_of(r.id) is None for r in records):
            self.refresh()  # a run appeared (a sweep trial, another window)
        self.model.update_records(records)

    def _store_failed(self, err: BaseException, _details: str) -> None:
        self.count_label.setText("run history unavailable")
        self.count_label.setToolTip(str(err))

    def _show_records(self, records: list, sorted_by=None, plan=None) -> None:
        if plan is not None and not self.model.plan_holds(plan[0], sorted_by):
            # The rows (or their order) changed since this read began, e.g. a run's start and
            # end read at once: read again rather than sort and compare 10 000 rows here (up to
            # ~40 ms on the GUI thread).
            self.refresh()
            return
        selected = self.selected_ids()
        self.model.set_records(records, sorted_by, plan)
        self._loaded = True
        self._update_count()
        if self._select_group:
            group, self._select_group = self._select_group, ""
            self.select_ids([r.id for r in records if group_of(r) == group])
        elif selected and self.selected_ids() != selected:
            self.select_ids(selected)
        elif selected:
            self._selection_changed()  # refresh overlays of runs that are still growing

    def _update_count(self, *_args) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount() - len(self.deletes.hidden)
        text = f"{total} run{'s' if total != 1 else ''}"
        self.count_label.setText(text if shown == total else f"{shown} of {text}")

    # ---- selection -----------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows(0)
        return [index.data(RUN_ID) for index in sorted(rows, key=lambda i: i.row())]

    def selected_records(self) -> list:
        return [r for r in (self.model.record(i) for i in self.selected_ids()) if r is not None]

    def select_ids(self, run_ids) -> None:
        wanted = set(run_ids)
        selection = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        selection.blockSignals(True)
        selection.clearSelection()
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(RUN_ID) in wanted:
                selection.select(index, flags)
        selection.blockSignals(False)
        self.table.viewport().update()
        self._selection_changed()

    @Slot()
    def _selection_changed(self, *_args) -> None:
        records = self.selected_records()
        self.compare_button.setEnabled(len(records) == 2)
        self._update_color_choices(records)
        self._show_details(records[-1] if len(records) == 1 else None)
        self._update_overlays()
        self._update_groups(records)

    def _show_details(self, record) -> None:
        if record is None:
            self.details.show_run(None)
            return
        self.details.show_run(record)
        run_id = record.id
        self._background.submit(lambda: checkpoints(self._get_store(), run_id),
                                on_done=lambda found: self.details.run_id == run_id
                                and self.details.set_checkpoints(found))

    def _update_color_choices(self, records: list) -> None:
        current = self.color_combo.currentText()
        wanted = list(FIXED_CHOICES) + [f for f in differing_fields(records)
                                        if f not in ("train.seed", "optimizer.lr", "train.batch_size")]
        have = [self.color_combo.itemText(i) for i in range(self.color_combo.count())]
        if have != wanted:
            self.color_combo.blockSignals(True)
            self.color_combo.clear()
            self.color_combo.addItems(wanted)
            self.color_combo.setCurrentIndex(max(0, self.color_combo.findText(current)))
            self.color_combo.blockSignals(False)

    def _update_overlays(self) -> None:
        records = self.selected_records()
        self._generation += 1
        generation = self._generation
        choice = self.color_combo.currentText()
        key = FIXED_CHOICES.get(choice, choice)
        categorical = PlotColors(self.palette()).overlay_colors(max(8, len(records)))
        if key is None or not records:
            colors, legend = categorical[: len(records)], ""
        else:
            colors, legend = colors_by(records, key, categorical)
        self.legend.setText(legend)
        self.legend.setToolTip(legend and "Curve colours")
        self._background.submit(lambda: fetch_overlays(self._get_store(), records, colors),
                                on_done=lambda runs: generation == self._generation and self.overlays_changed.emit(runs))

    def _update_groups(self, records: list) -> None:
        names = list(dict.fromkeys(g for g in (group_of(r) for r in records) if g))
        if not names:
            self.bands.set_groups([])
            self.bands.verdict.setText("Select runs of a seed group (Run with K seeds…) to see mean ± std bands")
            return
        members = {n: [r for r in self.model.records() if group_of(r) == n and r.id not in self.deletes.hidden]
                   for n in names}
        generation = self._generation

        def shown(groups):
            if generation == self._generation:
                self.bands.set_groups(groups)
                if len(groups) >= 2 and self.bands.verdict.text():
                    self.show_message(f"{groups[0].label} vs {groups[1].label}: {self.bands.verdict.text()}")

        self._background.submit(lambda: fetch_groups(self._get_store(), members), on_done=shown)
        if len(records) > 1:
            self.side.setCurrentWidget(self.bands)

    @Slot(int)
    def load_settings(self, run_id: int) -> None:
        """Put run `run_id`'s settings in the editor (one undo step); a data path its spec gave
        relative to the spec's folder becomes the path the run found."""
        record = self.model.record(run_id)
        if record is None:
            return
        try:
            spec = spec_to_load(self._get_store(), record)
        except Exception as err:
            self.show_message(f"Cannot load the settings of run #{record.id}: {err}")
            return
        self.session.set_spec(spec, text=f"Load settings of #{record.id} {record.name}")
        self.show_message(f"Loaded the settings of #{record.id} {record.name} (Undo puts yours back)")

    # ---- actions -------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.status.emit(text)

    def compare_selected(self) -> None:
        records = self.selected_records()
        if len(records) != 2:
            self.show_message("Select exactly two runs to compare")
            return
        if self.compare_dialog is not None:
            self.compare_dialog.close()
        try:
            store = self._get_store()
            specs = tuple(spec_to_load(store, r) for r in records)
            lr_changes = tuple(store.events(r.id, ["lr_changed"]) for r in records)
        except Exception:  # the store went away: compare the specs as written
            specs, lr_changes = None, None
        self.compare_dialog = CompareDialog(records[0], records[1], self, specs=specs, lr_changes=lr_changes)
        self.compare_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.compare_dialog.destroyed.connect(lambda *_: setattr(self, "compare_dialog", None))
        self.compare_dialog.show()

    def ask_seeds(self) -> None:
        dialog = SeedsDialog(int(self.session.spec.train.seed), self)
        if dialog.exec():
            error = self.repeats.start(dialog.count.value())
            if error:
                self.show_message(error)

    def _repeats_done(self, tag: str) -> None:
        self._select_group = tag.removeprefix("group:")  # once the list with its last run is read
        QTimer.singleShot(300, self, self.refresh)  # after the last run's record is finished
        self.show_message(f"Seed group {self._select_group} done")

    def delete_selected(self) -> None:
        records = self.selected_records()
        live = [r for r in records if self.branching.is_live(r)]
        if live:
            self.show_message(f"Run #{live[0].id} is going: stop it before deleting it")
            return
        if records and confirm_delete(self, records):
            self.deletes.delete([r.id for r in records])
            self.show_message(f"Deleted {len(records)} run{'s' if len(records) != 1 else ''} "
                              "(Undo brings them back until Workbench closes)")

    def undo_delete(self) -> None:
        restored = self.deletes.undo()
        if restored:
            self.select_ids(restored)
            self.show_message(f"Restored {len(restored)} run{'s' if len(restored) != 1 else ''}")

    def _deleted_changed(self, hidden: set) -> None:
        self.proxy.set_hidden(hidden)
        self.undo_button.setVisible(bool(hidden))
        self._update_count()

    def _write(self, fn, *args) -> None:
        """Store writes off the GUI thread (a sweep may hold the write lock a moment); at close, at once."""
        if self._closing:
            fn(*args)
            return
        self._background.submit(fn, *args, on_done=lambda _r: None,
                                on_error=lambda err, _d: self.show_message(f"Could not save: {err}"))

    def _rename(self, run_id: int, name: str) -> None:
        self.details.renamed(self.model.record(run_id))
        self._write(lambda: self._get_store().rename(run_id, name))

    def _set_tags(self, run_id: int, tags: list) -> None:
        record = self.model.record(run_id)
        if record is not None and record.tags != tags:
            record.tags = tags
            self.model.update_records([record])
            self._write(lambda: self._get_store().set_tags(run_id, tags))

    def _set_notes(self, run_id: int, notes: str) -> None:
        record = self.model.record(run_id)
        if record is not None:
            record.notes = notes
        self._write(lambda: self._get_store().set_notes(run_id, notes))

    def _context_menu(self, pos) -> None:
        index = self.table.indexAt(pos)
        records = self.selected_records()
        if not records:
            return
        menu = QMenu(self)
        one = records[0] if len(records) == 1 else None
        if one is not None:
            menu.addAction("Rename", lambda: self.table.edit(self.proxy.index(index.row(), COL["Name"])))
            menu.addAction("Load settings", lambda: self.load_settings(one.id))
            menu.addAction("Evaluate", lambda: self.evaluate_requested.emit(one.id))
            menu.addAction("Branch…", lambda: self.branching.branch(one.id)).setEnabled(one.status != "failed")
            menu.addAction("Resume", lambda: self.branching.resume(one.id)).setEnabled(
                one.status in ("stopped", "interrupted", "failed"))
            group = group_of(one)
            if group:
                menu.addAction("Select its seed group", lambda: self.select_ids(
                    [r.id for r in self.model.records() if group_of(r) == group]))
        menu.addAction("Compare", self.compare_selected).setEnabled(len(records) == 2)
        menu.addSeparator()
        menu.addAction(self.delete_action)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def _run_state_changed(self, state: str) -> None:
        if state == "idle" and self.message.text().startswith("Resuming #"):
            self.message.clear()  # the resumed run has ended: its progress is the status bar's now

    def _next_run_changed(self, plan) -> None:
        self.cancel_branch_button.setVisible(plan is not None)
        if plan is None and self.message.text().startswith("Branch:"):
            self.message.clear()  # trained or cancelled: the hint is stale
        if plan is not None:
            self.show_message(f"Branch: change the settings, then Train continues #{plan.parent_id} from "
                              f"epoch {plan.from_epoch} as a child run")

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if obj is self.table.viewport() and event.type() == QEvent.Type.Resize:
            spread_spare_width(self.table, WIDTHS, COL, GROW)
        if obj is self.table and event.type() == QEvent.Type.KeyPress:
            if event.matches(QKeySequence.StandardKey.Delete) or event.key() == Qt.Key.Key_Backspace:
                self.delete_selected()
                return True
            if event.matches(QKeySequence.StandardKey.Undo) and self.deletes.hidden:
                self.undo_delete()
                return True
        return super().eventFilter(obj, event)

    # ---- live updates ------------------------------------------------------------------
    @Slot(object)
    def _on_run_event(self, event) -> None:
        if isinstance(event, RunStarted):
            QTimer.singleShot(200, self, self.refresh)  # the child creates its record as it starts
            self._live_timer.start()
        elif isinstance(event, TerminalEvent):
            self._live_timer.stop()
            QTimer.singleShot(300, self, self.refresh)  # the child finishes its record right after
        elif isinstance(event, EpochEnd) and not self._live_timer.isActive():
            self._live_timer.start()

    def shutdown(self) -> None:
        self._live_timer.stop()
        self._refresh_timer.stop()
        self.repeats.cancel()
        self._background.shutdown()  # a read still going is dropped, never waited for
        self.branching.shutdown()
        self._closing = True
        try:
            self.details.flush()  # notes typed a moment ago (on this thread's own connection)
            self.deletes.purge()
        except Exception:  # the store went away: the runs stay, nothing is lost
            pass
        self._stores.close()
