"""The compression part of the Export page: which variants to make, the before/after table,
the sparsity curve, and saving the variant a person picks.

The work runs as `workbench compress RUN ... --json --out <temporary folder>` in a child
process (gui/cli_job.py); the table fills when it ends."""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDoubleSpinBox, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QPushButton, QSpinBox, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from workbench.gui.cli_job import CliJob
from workbench.gui.file_dialogs import open_folder
from workbench.gui.wording import for_the_app

QAT_EPOCHS = 3  # `workbench compress --qat-epochs`'s default (core.export is not imported here: it loads torch)
IDLE_TEXT = ("Tick the variants and press Measure variants: each becomes an ONNX file measured beside the original "
             "(file size, non-zero parameters, CPU latency at batch 1 and 64, test metric); then save the one you "
             "pick.")
HEADERS = ["Variant", "Size", "Non-zero\nparams", "CPU ms\nbatch 1", "CPU ms\nbatch 64", "Test\nmetric"]


def size_text(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


class CompressView(QGroupBox):
    """Controls, table and curve. `run_id()` says which run to compress; `options()` adds the
    command's --store (and --data) arguments."""

    status = Signal(str)
    failed = Signal(str)  # the command's message, when it could not measure

    def __init__(self, run_id: Callable[[], int | None], options: Callable[[], list[str]],
                 parent: QWidget | None = None):
        super().__init__("Compress: smaller and faster variants, measured", parent)
        self.setObjectName("compressBox")
        self._run_id, self._options = run_id, options  # options: --store/--data arguments for the command
        self.job = CliJob(self)
        self.job.progress.connect(lambda text: self.progress_label.setText(text))
        self.job.finished.connect(self._finished)
        self.variants: list[dict] = []
        self.curve: list[tuple[float, float]] = []
        self._measured_sparsity = 0.5
        self._work_dir = tempfile.TemporaryDirectory(prefix="workbench-variants-")
        self.destroyed.connect(lambda *_: self._work_dir.cleanup())

        self.int8 = QCheckBox("int8", objectName="methodInt8", checked=True)
        self.int8.setToolTip("onnxruntime quantisation: dynamic for Linear/LSTM/GRU, static (calibrated on the "
                             "training split) for conv nets; quantisation-aware fine-tuning when it loses a point")
        self.fp16 = QCheckBox("fp16 weights", objectName="methodFp16", checked=True)
        self.fp16.setToolTip("Weights stored as float16 (half the file); arithmetic stays float32")
        self.prune = QCheckBox("prune", objectName="methodPrune", checked=True)
        self.prune.setToolTip("Magnitude pruning (masks: same file and time) and structured pruning of whole "
                              "neurons/channels (really smaller)")
        self.sparsity = QDoubleSpinBox(objectName="sparsity", decimals=2, minimum=0.05, maximum=0.95, singleStep=0.05,
                                       value=0.5)
        self.sparsity.setToolTip("Fraction of weights (masks) or of neurons/channels (structured) removed")
        self.finetune = QSpinBox(objectName="pruneFinetune", minimum=0, maximum=100, value=0, suffix=" epochs")
        self.finetune.setToolTip("Epochs of fine-tuning after pruning")
        self.qat = QSpinBox(objectName="qatEpochs", minimum=0, maximum=100, value=QAT_EPOCHS, suffix=" epochs",
                            specialValueText="never")
        self.qat.setToolTip("Quantisation-aware fine-tuning: when post-training int8 loses more than a point of the "
                            "test metric, train this many epochs with fake int8 weights and inputs, quantise again "
                            "and add that variant to the table")
        self.int8.toggled.connect(self.qat.setEnabled)
        self.curve_box = QCheckBox("sparsity curve", objectName="sparsityCurve", checked=True)
        self.curve_box.setToolTip("Test metric after magnitude pruning at 0-95 % (no fine-tuning)")
        self.prune.toggled.connect(self.sparsity.setEnabled)
        self.prune.toggled.connect(self.finetune.setEnabled)
        self.measure_button = QPushButton("Measure variants", objectName="measureButton")
        self.measure_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", objectName="cancelCompressButton", enabled=False)
        self.cancel_button.clicked.connect(self.job.cancel)
        controls = QHBoxLayout()
        for widget in (self.int8, QLabel("QAT"), self.qat, self.fp16, self.prune, QLabel("sparsity"), self.sparsity,
                       QLabel("fine-tune"), self.finetune, self.curve_box):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.measure_button)
        controls.addWidget(self.cancel_button)

        self.progress_label = QLabel(IDLE_TEXT, objectName="compressProgress", wordWrap=True)
        self.table = QTableWidget(0, len(HEADERS), objectName="variantsTable")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(HEADERS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.notes = QLabel(objectName="variantNotes", wordWrap=True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = pg.PlotWidget(objectName="sparsityPlot")
        self.plot.setMinimumHeight(150)
        self.plot.setLabel("bottom", "sparsity (share of weights zeroed)")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMouseEnabled(False, False)
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # accuracies, not "×0.001" of them
        self.plot.hide()
        self.save_button = QPushButton("Save selected variant…", objectName="saveVariantButton", enabled=False)
        self.save_button.setToolTip("Copy the selected variant's ONNX file, its JSON and predict.py into a folder")
        self.save_button.clicked.connect(self.ask_save)

        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self.table, 1)
        left.addWidget(self.notes)
        body.addLayout(left, 3)
        body.addWidget(self.plot, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress_label, 1)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(body, 1)
        layout.addLayout(bottom)

    # ---- running ------------------------------------------------------------------------------
    def methods(self) -> list[str]:
        return [m for m, box in (("int8", self.int8), ("fp16", self.fp16), ("prune", self.prune)) if box.isChecked()]

    def start(self) -> None:
        run_id = self._run_id()
        if run_id is None:
            self.progress_label.setText("Choose a run first.")
            return
        if not self.methods():
            self.progress_label.setText("Tick at least one of int8, fp16 and prune.")
            return
        out = Path(self._work_dir.name) / str(run_id)
        shutil.rmtree(out, ignore_errors=True)
        args = ["compress", str(run_id), "--json", "--out", str(out), "--sparsity", f"{self.sparsity.value():g}",
                "--finetune-epochs", str(self.finetune.value()), "--qat-epochs", str(self.qat.value())]
        for m in self.methods():
            args += ["--method", m]
        if self.curve_box.isChecked() and self.prune.isChecked():
            args.append("--curve")
        args += self._options()
        self._measured_sparsity = self.sparsity.value()
        self.table.setRowCount(0)
        self.variants, self.curve = [], []
        self.plot.hide()
        self.notes.clear()
        self.measure_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.save_button.setEnabled(False)
        self.progress_label.setText(f"Measuring variants of run {run_id} in a separate process…")
        self.job.start(args)

    def _finished(self, objects: list, code: int, error: str) -> None:
        self.measure_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if code != 0:
            message = (objects[-1].get("message") if objects and "message" in objects[-1] else error) or "failed"
            message = for_the_app(message)
            self.progress_label.setText("Stopped." if error == "cancelled" else f"Compression failed: {message}")
            if error != "cancelled":
                self.failed.emit(message)
            return
        self.variants = [o for o in objects if "variant" in o]
        self.curve = [(o["curve_sparsity"], o["test_metric"]) for o in objects if "curve_sparsity" in o]
        self.show_results()
        self.progress_label.setText(f"{len(self.variants)} variants measured (CPU latency: median of 30 "
                                    "onnxruntime runs on one thread). Select one to save it.")
        self.status.emit("Compression measured")

    # ---- showing ------------------------------------------------------------------------------
    def show_results(self) -> None:
        metric = self.variants[0].get("metric", "accuracy") if self.variants else "accuracy"
        split = self.variants[0].get("split", "test") if self.variants else "test"  # a run without a test split
        name = "R²" if metric == "r2" else metric
        self.table.setHorizontalHeaderItem(len(HEADERS) - 1, QTableWidgetItem(f"{split.capitalize()}\n{name}"))
        self.table.setRowCount(len(self.variants))
        base = self.variants[0] if self.variants else {}
        for row, v in enumerate(self.variants):
            cells = [v["variant"], size_text(v["size_bytes"]), f"{v['nonzero_params']:,}",
                     f"{v['latency_ms_b1']:.3f}", f"{v['latency_ms_b64']:.3f}",
                     "-" if v["test_metric"] is None else f"{v['test_metric']:.4f}"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip("\n".join([v["variant"], *(v.get("notes") or [])]))
                self.table.setItem(row, col, item)
            for col, key in ((3, "latency_min_ms_b1"), (4, "latency_min_ms_b64")):
                if v.get(key) is not None:
                    self.table.item(row, col).setToolTip(f"median of 30 runs; fastest {v[key]:.3f} ms")
            if row and base:
                self.table.item(row, 1).setToolTip(f"{v['size_bytes'] / base['size_bytes']:.0%} of the original")
        if self.curve:
            self.plot.clear()
            self.plot.setLabel("left", f"{split} {name}")
            xs, ys = zip(*self.curve)
            self.plot.plot([x * 100 for x in xs], [y if y is not None and math.isfinite(y) else float("nan")
                                                   for y in ys], pen=pg.mkPen("#1f77b4", width=2), symbol="o",
                           symbolSize=6)
            self.plot.setLabel("bottom", "sparsity (% of weights zeroed, no fine-tuning)")
            chosen = pg.InfiniteLine(pos=self._measured_sparsity * 100, angle=90,
                                     pen=pg.mkPen("#d62728", width=1, style=Qt.PenStyle.DashLine),
                                     label=f"{self._measured_sparsity:.0%}",
                                     labelOpts={"position": 0.1, "color": "#d62728"})
            self.plot.addItem(chosen)
            self.plot.show()
        if self.variants:
            self.table.selectRow(0)

    def _selection_changed(self) -> None:
        row = self.selected_row()
        self.save_button.setEnabled(row is not None)
        if row is not None:
            v = self.variants[row]
            self.notes.setText(f"{v['variant']}: " + "; ".join(v.get("notes") or []))

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return rows[0].row() if rows and rows[0].row() < len(self.variants) else None

    # ---- saving -------------------------------------------------------------------------------
    def ask_save(self) -> None:
        folder = open_folder(self, "Save the variant into…")
        if folder:
            self.save_selected(folder)

    def save_selected(self, folder: str) -> list[Path]:
        """Copy the selected variant's files (ONNX, JSON) and a predict.py set to it into folder."""
        row = self.selected_row()
        if row is None:
            return []
        from workbench.core.export import write_predict_script

        source = Path(self.variants[row]["file"])
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        files = [Path(shutil.copy2(source, out / source.name))]
        info = source.with_suffix(".json")
        if info.exists():
            files.append(Path(shutil.copy2(info, out / info.name)))
        files.append(write_predict_script(out, source.name, info.name))
        self.progress_label.setText(f"Saved {self.variants[row]['variant']} to {out}: "
                                    + ", ".join(f.name for f in files))
        return files
