"""The Export page: take a run's model out of the app.

- pick a recorded run (finished or stopped, with saved weights);
- export it as ONNX (checked with onnxruntime on the run's test split: the parity sentence is
  shown), a torch.export program, safetensors weights, or a standalone training script;
- compress it (compress_view.py): int8, fp16 and pruned variants in one measured table;
- start a new run from its weights (fine-tuning), on whatever data the Data page has.

Exports run as `workbench export RUN --json` in a child process (gui/cli_job.py): the window
stays responsive and Cancel ends them at once.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (QComboBox, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QVBoxLayout, QWidget)

from workbench.gui.background import BackgroundCalls
from workbench.gui.cli_job import CliJob
from workbench.gui.file_dialogs import open_file, open_folder
from workbench.gui.pages.compress_view import CompressView
from workbench.gui.wording import for_the_app

FORMATS = [
    ("onnx", "ONNX + predict.py (checked with onnxruntime)"),
    ("pt2", "torch.export program (.pt2)"),
    ("safetensors", "safetensors weights (spec and preprocessing in the metadata)"),
    ("script", "standalone training script (plain PyTorch + NumPy)"),
]
EXPORTABLE = ("finished", "stopped")
DATA_MISSING = "data cannot be loaded"  # core.runs' words when a run's data file moved or is gone


def _run_label(record: Any) -> str:
    metric = record.test_metric
    shown = ""
    if metric is not None and metric[1] is not None:
        name = {"test_accuracy": "accuracy", "test_r2": "R²"}.get(metric[0], metric[0].removeprefix("test_"))
        shown = f" — test {name} {metric[1]:.3f}"
    return f"#{record.id} {record.name}{shown}"


class ExportPage(QWidget):
    def __init__(self, session: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("exportPage")
        self.session = session
        self._records: list[Any] = []
        self._data_paths: dict[int, str] = {}  # run id -> where its data is now (it moved since the run)
        self._background = BackgroundCalls("export-page", self)
        self.job = CliJob(self)
        self.job.progress.connect(lambda text: self.result_label.setText(html.escape(text)))
        self.job.finished.connect(self._export_finished)

        self.run_combo = QComboBox(objectName="exportRunPicker")
        self.run_combo.setMinimumContentsLength(40)
        self.run_combo.currentIndexChanged.connect(self._run_changed)
        refresh = QPushButton("Refresh", objectName="exportRefresh")
        refresh.clicked.connect(self.refresh)
        self.finetune_button = QPushButton("Start a new run from these weights", objectName="fineTuneFromRun")
        self.finetune_button.setToolTip("Fine-tune: the next run starts from this run's final weights (layers whose "
                                        "shapes match are loaded; the last layer gets a new head)")
        self.finetune_button.clicked.connect(self.fine_tune_from_selected)
        picker = QHBoxLayout()
        picker.addWidget(QLabel("Run:"))
        picker.addWidget(self.run_combo, 1)
        picker.addWidget(refresh)
        picker.addWidget(self.finetune_button)

        export_box = QGroupBox("Export the model (raw inputs in: the standardisation is inside)")
        self.format_combo = QComboBox(objectName="exportFormat")
        for key, text in FORMATS:
            self.format_combo.addItem(text, key)
        self.folder_edit = QLineEdit(objectName="exportFolder")
        self.folder_edit.setPlaceholderText("folder to write into")
        browse = QPushButton("Browse…", objectName="exportBrowse")
        browse.clicked.connect(self._browse)
        self.export_button = QPushButton("Export", objectName="exportButton")
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button = QPushButton("Cancel", objectName="cancelExportButton", enabled=False)
        self.cancel_button.clicked.connect(self.job.cancel)
        row = QHBoxLayout()
        row.addWidget(self.format_combo, 2)
        row.addWidget(self.folder_edit, 3)
        row.addWidget(browse)
        row.addWidget(self.export_button)
        row.addWidget(self.cancel_button)
        self.result_label = QLabel(objectName="exportResult", wordWrap=True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        self.locate_button = QPushButton("Locate the run's data…", objectName="exportLocateData")
        self.locate_button.setToolTip("The run's data file or folder moved: show where it is now (used for this "
                                      "run's exports and compression)")
        self.locate_button.clicked.connect(self.locate_data)
        self.locate_button.hide()
        result_row = QHBoxLayout()
        result_row.addWidget(self.result_label, 1)
        result_row.addWidget(self.locate_button, 0, Qt.AlignmentFlag.AlignTop)
        box_layout = QVBoxLayout(export_box)
        box_layout.addLayout(row)
        box_layout.addLayout(result_row)

        self.compress = CompressView(self.selected_run_id, self.command_options)
        self.compress.failed.connect(self._offer_locate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(picker)
        layout.addWidget(export_box)
        layout.addWidget(self.compress, 1)
        session.run_state_changed.connect(lambda state: state == "idle" and self.refresh())
        self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self.refresh()  # runs may have finished (or been deleted) while another page was shown

    # ---- runs ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        store_path = self.session.store_path

        def load():
            from workbench.core.runs import RunStore

            with RunStore(store_path) as store:
                return [r for r in store.list_runs() if r.status in EXPORTABLE]

        self._background.submit(load, on_done=self._show_runs,
                                on_error=lambda exc, _d: self.result_label.setText(html.escape(str(exc))))

    def _show_runs(self, records: list[Any]) -> None:
        keep = self.selected_run_id()
        self._records = records
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for r in records:
            self.run_combo.addItem(_run_label(r), r.id)
        self.run_combo.blockSignals(False)
        index = self.run_combo.findData(keep) if keep is not None else 0
        self.run_combo.setCurrentIndex(max(0, index) if records else -1)
        if not records:
            self.result_label.setText("No finished runs yet: train one, and it appears here.")
        self._run_changed()

    def select_run(self, run_id: int) -> None:
        index = self.run_combo.findData(run_id)
        if index >= 0:
            self.run_combo.setCurrentIndex(index)

    def selected_run_id(self) -> int | None:
        data = self.run_combo.currentData()
        return int(data) if data is not None else None

    def _run_changed(self, *_args) -> None:
        run_id = self.selected_run_id()
        has = run_id is not None
        for widget in (self.export_button, self.finetune_button, self.compress.measure_button):
            widget.setEnabled(has and not self.job.running)
        self.locate_button.hide()
        if has:
            docs = (QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
                    or str(Path.home()))
            self.folder_edit.setText(str(Path(docs) / "Workbench exports" / f"run-{run_id}"))

    # ---- export -------------------------------------------------------------------------------
    def _browse(self) -> None:
        folder = open_folder(self, "Export into…", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def start_export(self) -> None:
        run_id = self.selected_run_id()
        folder = self.folder_edit.text().strip()
        if run_id is None or not folder:
            self.result_label.setText("Choose a run and a folder first.")
            return
        fmt = self.format_combo.currentData()
        args = ["export", str(run_id), "--format", fmt, "--out", folder, "--json", *self.command_options()]
        self.locate_button.hide()
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.result_label.setText(f"Exporting run {run_id} as {fmt} in a separate process…")
        self.job.start(args)

    def _export_finished(self, objects: list, code: int, error: str) -> None:
        self.export_button.setEnabled(self.selected_run_id() is not None)
        self.cancel_button.setEnabled(False)
        result = objects[-1] if objects else {}
        if error == "cancelled":
            self.result_label.setText("Export cancelled.")
            return
        if "files" not in result:
            message = for_the_app(result.get("message") or error or "the export failed")
            self.result_label.setText(f"<span style='color:#d93025'>{html.escape(message)}</span>")
            self._offer_locate(message)
            return
        lines = [html.escape(m) for m in result.get("messages", [])]
        parity = result.get("parity") or {}
        if parity:
            color = "#1a7f37" if parity.get("matches") else "#d93025"
            lines[0] = f"<b style='color:{color}'>{'✓' if parity.get('matches') else '✗'} {lines[0]}</b>"
        files = "<br>".join(html.escape(f) for f in result["files"])
        self.result_label.setText("<br>".join(lines) + f"<br><span style='color:gray'>{files}</span>")

    def command_options(self) -> list[str]:
        """--store (the app's run store) and --data (where the selected run's data is now, if it moved)."""
        options = ["--store", str(self.session.store_path)] if self.session.store_path else []
        moved = self._data_paths.get(self.selected_run_id())
        return options + (["--data", moved] if moved else [])

    def _offer_locate(self, message: str) -> None:
        self.locate_button.setVisible(DATA_MISSING in message)

    def locate_data(self) -> None:
        """Ask where the selected run's data is now (a file, or a folder of images)."""
        run_id = self.selected_run_id()
        record = next((r for r in self._records if r.id == run_id), None)
        if record is None:
            return

        source = str(json.loads(record.spec_json).get("data", {}).get("source", ""))
        if Path(source).suffix:
            path = open_file(self, f"Where is {Path(source).name} now?", "", f"*{Path(source).suffix};;All files (*)")
        else:
            path = open_folder(self, f"Where is the folder {Path(source).name} now?")
        if path:
            self._data_paths[run_id] = path
            self.locate_button.hide()
            self.result_label.setText(html.escape(f"Run #{run_id}'s data: {path}. Export or measure again."))

    # ---- fine-tuning ------------------------------------------------------------------------------
    def fine_tune_from_selected(self) -> None:
        """The next run starts from the selected run's final weights."""
        run_id = self.selected_run_id()
        if run_id is None:
            return
        store_path = self.session.store_path

        def weights():
            from workbench.core.runs import RunStore, run_weights_path

            with RunStore(store_path) as store:
                return str(run_weights_path(store, run_id).resolve())

        def apply(path: str) -> None:
            current = self.session.spec.finetune
            finetune = current.model_dump() if current is not None else {}
            finetune.update(init_from=path, init_run=run_id)
            error = self.session.edit({"finetune": finetune}, text=f"Start from run #{run_id}")
            self.result_label.setText(html.escape(error) if error else
                                      f"The next run starts from run #{run_id}'s weights (Train ▸ Fine-tuning).")

        self._background.submit(weights, on_done=apply,
                                on_error=lambda exc, _d: self.result_label.setText(html.escape(str(exc))))

    def shutdown(self) -> None:
        self.job.cancel()
        self.compress.job.cancel()
        self._background.shutdown(wait=False)
