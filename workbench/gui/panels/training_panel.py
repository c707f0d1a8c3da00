"""Training panel: the experiment's name, loss, optimizer, schedule (with an LR preview), epochs, batch size,
regularisation, early stopping, device, precision and seed.

Holds no state: every edit goes through `session.edit`, and `spec_changed` redraws the
widgets (with their signals blocked, so a redraw never writes back).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core import catalog
from workbench.core.catalog import Param
from workbench.core.spec import ExperimentSpec, field_bounds
from workbench.gui import engine
from workbench.gui.background import BackgroundCalls
from workbench.gui.plots.lr_preview import LrPreview
from workbench.gui.panels.training_options import TrainingOptionsBox
from workbench.gui.session import Session
from workbench.gui.widgets.experiment_name import ExperimentNameEdit
from workbench.gui.widgets.param_form import NumberSpinBox, ParamForm
from workbench.gui.panels.finetune_box import FineTuneBox

PRECISIONS = [("auto", "Auto (bf16 on recent GPUs, else fp32)"), ("fp32", "fp32"), ("bf16", "bf16 (mixed)"),
              ("fp16", "fp16 (mixed)")]
MONITORS = ["val_loss", "val_accuracy", "val_r2", "loss"]


def _spin(low: int, high: int, name: str, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setKeyboardTracking(False)
    box.setObjectName(name)
    box.setToolTip(tip)
    box.setAccelerated(True)
    return box


def _number(param: Param, name: str, tip: str) -> NumberSpinBox:
    box = NumberSpinBox(param)
    box.setObjectName(name)
    box.setToolTip(tip)
    return box


def _dspin(low: float, high: float, decimals: int, step: float, name: str, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setKeyboardTracking(False)
    box.setObjectName(name)
    box.setToolTip(tip)
    return box


class _TypedSection(QGroupBox):
    """A combo of catalog entries and the ParamForm of the chosen one."""

    def __init__(self, title: str, kind: str, name: str, allow_none: bool = False):
        super().__init__(title)
        self.kind = kind
        self.combo = QComboBox(objectName=f"{name}Combo")
        self.combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.allow_none = allow_none
        self.form: ParamForm | None = None
        self._form_key: tuple | None = None
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(8, 6, 8, 8)
        self.layout_.setSpacing(6)
        self.layout_.addWidget(self.combo)

    def set_choices(self, entries: list[catalog.Entry]) -> None:
        names = [e.name for e in entries]
        current = [self.combo.itemData(i) for i in range(self.combo.count())]
        wanted = ([None] if self.allow_none else []) + names
        if current == wanted:
            return
        with QSignalBlocker(self.combo):
            self.combo.clear()
            if self.allow_none:
                self.combo.addItem("None (constant)", None)
            for e in entries:
                self.combo.addItem(e.name, e.name)
                self.combo.setItemData(self.combo.count() - 1, e.help, Qt.ItemDataRole.ToolTipRole)

    def show_value(self, type_name: str | None, params: dict[str, Any], on_values) -> None:
        with QSignalBlocker(self.combo):
            index = self.combo.findData(type_name)
            if index < 0 and type_name is not None:  # e.g. a loaded spec's loss not valid for the task
                self.combo.addItem(type_name, type_name)
                index = self.combo.count() - 1
            self.combo.setCurrentIndex(index)
        key = (type_name,)
        if self.form is not None and self._form_key == key:
            if self.form.values() != params:
                self.form.set_values(params)
            return
        if self.form is not None:
            self.layout_.removeWidget(self.form)
            self.form.deleteLater()
            self.form = None
        self._form_key = key
        if type_name is None:
            return
        try:
            entry = catalog.get_entry(self.kind, type_name)
        except KeyError:
            return
        if entry.params:
            self.form = ParamForm(entry, params)
            self.form.setObjectName(f"{self.combo.objectName().removesuffix('Combo')}Form")
            self.form.values_changed.connect(on_values)
            self.layout_.insertWidget(1, self.form)


class TrainingPanel(QScrollArea):
    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._background = BackgroundCalls("lr-preview", self)
        self._preview_key: tuple | None = None
        self._preview_generation = 0
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("trainingPanelBody")
        col = QVBoxLayout(body)
        col.setContentsMargins(6, 6, 6, 6)
        col.setSpacing(8)
        self.setWidget(body)

        self.experiment_name = ExperimentNameEdit(session)
        name_row = QFormLayout()
        name_row.setContentsMargins(2, 0, 2, 0)
        name_row.addRow("Experiment", self.experiment_name)
        col.addLayout(name_row)
        self.loss = _TypedSection("Loss", "loss", "loss")
        self.optimizer = _TypedSection("Optimizer", "optimizer", "optimizer")
        self.schedule = _TypedSection("Learning-rate schedule", "schedule", "schedule", allow_none=True)
        self.optimizer.set_choices(catalog.entries("optimizer"))
        self.schedule.set_choices(catalog.entries("schedule"))
        self._build_warmup()
        self.lr_preview = LrPreview(self.schedule)
        self.lr_preview.setObjectName("lrPreview")
        self.schedule.layout_.addWidget(self.lr_preview)
        for section in (self.loss, self.optimizer, self.schedule):
            col.addWidget(section)
        col.addWidget(self._build_loop())
        self.options = TrainingOptionsBox(self._edit)
        col.addWidget(self.options)
        col.addWidget(self._build_early_stopping())
        col.addWidget(self._build_hardware())
        self.finetune = FineTuneBox(session)
        col.addWidget(self.finetune)
        col.addStretch(1)
        # The dock may not squeeze the form below its own width (it only scrolls vertically).
        self.setMinimumWidth(body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2)

        self.loss.combo.activated.connect(lambda _i: self._set_typed("loss", self.loss.combo.currentData()))
        self.optimizer.combo.activated.connect(lambda _i: self._set_optimizer(self.optimizer.combo.currentData()))
        self.schedule.combo.activated.connect(lambda _i: self._set_schedule(self.schedule.combo.currentData()))

        session.spec_changed.connect(self._show)
        session.dataset_changed.connect(lambda _ds: self._show(session.spec))
        if hasattr(session, "engine_ready"):
            session.engine_ready.connect(self._fill_devices)
        self._show(session.spec)

    # ---- building -----------------------------------------------------------------------
    def _build_warmup(self) -> None:
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.setSpacing(4)
        self.warmup_check = QCheckBox("Warmup", objectName="warmupCheck")
        self.warmup_check.setToolTip("Raise the learning rate linearly over the first epochs, then follow the schedule")
        self.warmup_epochs = _spin(*field_bounds("schedule.warmup.epochs").int_range(1, 10_000), "warmupEpochs",
                                   "epochs of linear warmup")
        self.warmup_epochs.setSuffix(" ep")
        self.warmup_start = _dspin(*field_bounds("schedule.warmup.start_factor").float_range(0.0, 1.0, 0.001), 3, 0.05,
                                   "warmupStart", "learning rate at the start, as a fraction of lr")
        self.warmup_start.setPrefix("from ")
        self.warmup_start.setSuffix("×")
        h.addWidget(self.warmup_check)
        h.addWidget(self.warmup_epochs, 1)
        h.addWidget(self.warmup_start, 1)
        self.warmup_row = row
        self.schedule.layout_.addWidget(row)
        self.warmup_check.toggled.connect(self._warmup_edited)
        self.warmup_epochs.valueChanged.connect(self._warmup_edited)
        self.warmup_start.valueChanged.connect(self._warmup_edited)

    def _build_loop(self) -> QGroupBox:
        box = QGroupBox("Training loop")
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.epochs = _spin(*field_bounds("train.epochs").int_range(1, 100_000), "epochsSpin",
                            "passes over the training set")
        self.batch = _spin(1, 1_000_000, "batchSpin", "samples per optimizer step; 1 is pure stochastic gradient descent")
        self.full_batch = QCheckBox("Full batch", objectName="fullBatchCheck")
        self.full_batch.setToolTip("Use the whole training set for every step (batch gradient descent)")
        batch_row = QWidget()
        h = QHBoxLayout(batch_row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.batch, 1)
        h.addWidget(self.full_batch)
        l1_low, l1_high = field_bounds("train.l1").float_range(0.0, 10.0, 1e-6)  # no upper bound in the spec: 10
        self.l1 = _number(Param("l1", "float", 0.0, low=l1_low, high=l1_high, log=True), "l1Spin",
                          "L1 penalty on the weights (sparser models); 0 = off")
        self.clip_check = QCheckBox(objectName="clipCheck")
        self.clip_check.setToolTip("Clip the gradient norm")
        clip_low, clip_high = field_bounds("train.grad_clip").float_range(0.0, 1e4, 1e-4)
        self.clip = _number(Param("grad_clip", "float", 1.0, low=clip_low, high=clip_high, log=True), "clipSpin",
                            "largest allowed gradient norm")
        clip_row = QWidget()
        h2 = QHBoxLayout(clip_row)
        h2.setContentsMargins(0, 0, 0, 0)
        h2.addWidget(self.clip_check)
        h2.addWidget(self.clip, 1)
        self.seed = _spin(0, 2**31 - 1, "seedSpin", "random seed: the same seed gives the same run")
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", batch_row)
        form.addRow("L1", self.l1)
        form.addRow("Gradient clip", clip_row)
        form.addRow("Seed", self.seed)
        self.epochs.valueChanged.connect(lambda v: self._edit({"train.epochs": v}))
        self.batch.valueChanged.connect(lambda v: self._edit({"train.batch_size": v}))
        self.full_batch.toggled.connect(self._full_batch_toggled)
        self.l1.valueChanged.connect(lambda v: self._edit({"train.l1": v}))
        self.clip_check.toggled.connect(lambda on: self._edit({"train.grad_clip": self.clip.value() if on else None}))
        self.clip.valueChanged.connect(lambda v: self.clip_check.isChecked() and self._edit({"train.grad_clip": v}))
        self.seed.valueChanged.connect(lambda v: self._edit({"train.seed": v}))
        return box

    def _build_early_stopping(self) -> QGroupBox:
        box = QGroupBox("Early stopping", objectName="earlyStoppingBox")
        box.setCheckable(True)
        box.setToolTip("Stop when the monitored metric has not improved for `patience` epochs")
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.monitor = QComboBox(objectName="monitorCombo")
        self.monitor.addItems(MONITORS)
        self.patience = _spin(*field_bounds("train.early_stopping.patience").int_range(1, 10_000), "patienceSpin",
                              "epochs without improvement before stopping")
        self.restore_best = QCheckBox("Restore the best weights", objectName="restoreBestCheck")
        form.addRow("Monitor", self.monitor)
        form.addRow("Patience", self.patience)
        form.addRow("", self.restore_best)
        self.early_box = box
        box.toggled.connect(self._early_edited)
        self.monitor.activated.connect(self._early_edited)
        self.patience.valueChanged.connect(self._early_edited)
        self.restore_best.toggled.connect(self._early_edited)
        return box

    def _build_hardware(self) -> QGroupBox:
        box = QGroupBox("Hardware")
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.device = QComboBox(objectName="deviceCombo")
        self._devices_known = False
        self.device.addItem("Auto (best available)", "auto")
        if engine.is_ready():
            self._add_devices()
        else:  # the list needs torch, which is still loading (session.engine_ready fills it)
            self.device.addItem("…", None)
            item = self.device.model().item(self.device.count() - 1)
            item.setEnabled(False)
            item.setToolTip("Looking for devices while PyTorch loads")
        self.precision = QComboBox(objectName="precisionCombo")
        for key, words in PRECISIONS:
            self.precision.addItem(words, key)
        form.addRow("Device", self.device)
        form.addRow("Precision", self.precision)
        self.device.activated.connect(lambda _i: self._edit({"train.device": self.device.currentData()}))
        self.precision.activated.connect(lambda _i: self._edit({"train.precision": self.precision.currentData()}))
        return box

    def _add_devices(self) -> None:
        for key, words in engine.devices():
            self.device.addItem(words, key)
        self._devices_known = True

    @Slot()
    def _fill_devices(self) -> None:
        if self._devices_known:
            return
        with QSignalBlocker(self.device):
            self.device.clear()
            self.device.addItem("Auto (best available)", "auto")
            self._add_devices()
        self._show(self.session.spec)  # select the spec's device again

    # ---- edits --------------------------------------------------------------------------
    def _edit(self, changes: dict[str, Any]) -> None:
        error = self.session.edit(changes)
        if error:
            self.setToolTip(error)
            self._show(self.session.spec)  # put the widgets back to what the spec holds

    def _set_typed(self, kind: str, type_name: str) -> None:
        current = getattr(self.session.spec, kind)
        if current is not None and current.type == type_name:
            return
        self._edit({kind: {"type": type_name}})

    def _set_optimizer(self, type_name: str) -> None:
        old = self.session.spec.optimizer
        if old.type == type_name:
            return
        new: dict[str, Any] = {"type": type_name}
        entry = catalog.get_entry("optimizer", type_name)
        # Keep the learning rate and weight decay the person chose, where the new one has them.
        for key in ("lr", "weight_decay"):
            if key in old.params and any(p.name == key for p in entry.params):
                new[key] = old.params[key]
        self._edit({"optimizer": new})

    def _set_schedule(self, type_name: str | None) -> None:
        old = self.session.spec.schedule
        if (old.type if old else None) == type_name:
            return
        if type_name is None:
            self._edit({"schedule": None})
        else:
            value: dict[str, Any] = {"type": type_name}
            if old is not None and old.warmup is not None:
                value["warmup"] = old.warmup.model_dump()
            self._edit({"schedule": value})

    def _typed_values(self, kind: str, values: dict) -> None:
        current = getattr(self.session.spec, kind)
        value = {"type": current.type, **values}
        if kind == "schedule" and current.warmup is not None:
            value["warmup"] = current.warmup.model_dump()
        self._edit({kind: value})

    @Slot()
    def _warmup_edited(self, *_args) -> None:
        schedule = self.session.spec.schedule
        if schedule is None:
            return
        warmup = ({"epochs": self.warmup_epochs.value(), "start_factor": self.warmup_start.value()}
                  if self.warmup_check.isChecked() else None)
        self._edit({"schedule.warmup": warmup})

    @Slot(bool)
    def _full_batch_toggled(self, on: bool) -> None:
        self._edit({"train.batch_size": "full" if on else self.batch.value()})

    @Slot()
    def _early_edited(self, *_args) -> None:
        if not self.early_box.isChecked():
            self._edit({"train.early_stopping": None})
            return
        current = self.session.spec.train.early_stopping
        value = current.model_dump() if current is not None else {}
        value.update(monitor=self.monitor.currentText(), patience=self.patience.value(),
                     restore_best=self.restore_best.isChecked())
        self._edit({"train.early_stopping": value})

    # ---- showing the spec ---------------------------------------------------------------
    @Slot(object)
    def _show(self, spec: ExperimentSpec) -> None:
        meta = self.session.meta
        task = meta.task if meta is not None else (spec.data.task if spec.data.task != "auto" else "classification")
        self.loss.set_choices(catalog.losses_for_task(task) or catalog.entries("loss"))  # unknown task: all
        self.loss.show_value(spec.loss.type, spec.loss.params, lambda v: self._typed_values("loss", v))
        self.optimizer.show_value(spec.optimizer.type, spec.optimizer.params,
                                  lambda v: self._typed_values("optimizer", v))
        schedule = spec.schedule
        self.schedule.show_value(schedule.type if schedule else None, schedule.params if schedule else {},
                                 lambda v: self._typed_values("schedule", v))
        warm = schedule.warmup if schedule is not None else None
        self.warmup_row.setVisible(schedule is not None)
        self.lr_preview.setVisible(schedule is not None)
        with QSignalBlocker(self.warmup_check), QSignalBlocker(self.warmup_epochs), QSignalBlocker(self.warmup_start):
            self.warmup_check.setChecked(warm is not None)
            self.warmup_epochs.setValue(warm.epochs if warm else 5)
            self.warmup_start.setValue(warm.start_factor if warm else 0.1)
            self.warmup_epochs.setEnabled(warm is not None)
            self.warmup_start.setEnabled(warm is not None)
        t = spec.train
        widgets = (self.epochs, self.batch, self.full_batch, self.l1, self.clip_check, self.clip, self.seed,
                   self.early_box, self.monitor, self.patience, self.restore_best, self.device, self.precision)
        blockers = [QSignalBlocker(w) for w in widgets]
        try:
            self.epochs.setValue(t.epochs)
            full = t.batch_size == "full"
            self.full_batch.setChecked(full)
            self.batch.setEnabled(not full)
            if not full:
                self.batch.setValue(int(t.batch_size))
            self.l1.setValue(t.l1)
            self.clip_check.setChecked(t.grad_clip is not None)
            self.clip.setEnabled(t.grad_clip is not None)
            self.clip.setValue(t.grad_clip if t.grad_clip is not None else 1.0)
            self.seed.setValue(t.seed)
            es = t.early_stopping
            self.early_box.setChecked(es is not None)
            for w in (self.monitor, self.patience, self.restore_best):
                w.setEnabled(es is not None)
            if es is not None:
                if self.monitor.findText(es.monitor) < 0:
                    self.monitor.addItem(es.monitor)
                self.monitor.setCurrentText(es.monitor)
                self.patience.setValue(es.patience)
                self.restore_best.setChecked(es.restore_best)
            else:
                self.patience.setValue(10)
                self.restore_best.setChecked(True)
            index = self.device.findData(t.device)
            if index < 0:
                where = "not available here" if self._devices_known else "checking…"
                self.device.addItem(f"{t.device} ({where})", t.device)
                index = self.device.count() - 1
            self.device.setCurrentIndex(index)
            self.precision.setCurrentIndex(max(0, self.precision.findData(t.precision)))
        finally:
            for blocker in blockers:
                blocker.unblock()
        self.options.show_spec(spec)
        self._update_preview(spec)

    def _update_preview(self, spec: ExperimentSpec) -> None:
        meta = self.session.meta
        steps = 4
        if meta is not None and isinstance(spec.train.batch_size, int):
            n_train = max(1, int(meta.n_samples * (1 - spec.data.split.val - spec.data.split.test)))
            steps = max(1, -(-n_train // spec.train.batch_size))
        key = (spec.optimizer.params.get("lr"), spec.schedule, spec.train.epochs, steps)
        if key == self._preview_key:
            return
        self._preview_key = key
        lr, epochs = float(spec.optimizer.params.get("lr", 0.001)), spec.train.epochs
        if spec.schedule is None:  # constant: no scheduler to build (and no torch on the GUI thread)
            self._preview_generation += 1
            self.lr_preview.set_curve([lr] * epochs)
            return
        # Building the first optimizer of a process imports torch._dynamo (seconds): off the GUI thread.
        self.lr_preview.show_pending(epochs)
        self._preview_generation += 1
        generation = self._preview_generation
        self._background.submit(catalog.lr_curve, spec.schedule, lr, epochs, steps,
                                on_done=lambda values: self._show_preview(generation, values),
                                on_error=lambda err, _details: self._preview_failed(generation, err))

    def _show_preview(self, generation: int, values: list[float]) -> None:
        if generation == self._preview_generation:
            self.lr_preview.set_curve(values)

    def _preview_failed(self, generation: int, err: BaseException) -> None:
        if generation == self._preview_generation:
            self.lr_preview.show_error(f"This schedule cannot run: {err}")

    def shutdown(self) -> None:
        self._background.shutdown()
