"""The training panel's "Optimization" box: gradient accumulation (with the effective batch),
an exponential moving average of the weights, and the health monitor."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from workbench.core.spec import ExperimentSpec


class TrainingOptionsBox(QGroupBox):
    """Edits train.accumulate_batches, train.ema and train.health through `edit(changes)`."""

    def __init__(self, edit: Callable[[dict[str, Any]], None], parent: QWidget | None = None):
        super().__init__("Optimization", parent)
        self.setObjectName("trainingOptionsBox")
        self._edit = edit
        form = QFormLayout(self)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.accumulate = QSpinBox(objectName="accumulateSpin")
        self.accumulate.setRange(1, 4096)
        self.accumulate.setKeyboardTracking(False)
        self.accumulate.setSuffix(" batches")
        self.accumulate.setToolTip("Gradient accumulation: one optimizer step every N batches, so the step sees "
                                   "batch size × N rows for the memory of one batch")
        self.effective = QLabel(objectName="effectiveBatch")
        self.effective.setEnabled(False)
        acc_row = QWidget()
        h = QHBoxLayout(acc_row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.accumulate, 1)
        h.addWidget(self.effective)
        self.ema_check = QCheckBox(objectName="emaCheck")
        self.ema_check.setToolTip("Keep an exponential moving average of the weights, evaluated (val_ema_*) and "
                                  "checkpointed beside them; often a little better for free")
        self.ema_decay = QDoubleSpinBox(objectName="emaDecay")
        self.ema_decay.setDecimals(4)
        self.ema_decay.setRange(0.5, 0.9999)
        self.ema_decay.setSingleStep(0.001)
        self.ema_decay.setKeyboardTracking(False)
        self.ema_decay.setPrefix("decay ")
        ema_row = QWidget()
        h2 = QHBoxLayout(ema_row)
        h2.setContentsMargins(0, 0, 0, 0)
        h2.addWidget(self.ema_check)
        h2.addWidget(self.ema_decay, 1)
        self.health = QCheckBox("Watch gradients and units", objectName="healthCheck")
        self.health.setToolTip("The health monitor: per-layer gradient norms, update sizes, activations and dead "
                               "units, sampled while training (about 2% of the time), with alerts")
        form.addRow("Accumulate", acc_row)
        form.addRow("Weight average", ema_row)
        form.addRow("Health", self.health)
        self.accumulate.valueChanged.connect(lambda v: self._edit({"train.accumulate_batches": v}))
        self.ema_check.toggled.connect(self._ema_edited)
        self.ema_decay.valueChanged.connect(self._ema_edited)
        self.health.toggled.connect(lambda on: self._edit({"train.health": {"every": "auto"} if on else None}))

    def _ema_edited(self, *_args) -> None:
        self._edit({"train.ema": {"decay": self.ema_decay.value()} if self.ema_check.isChecked() else None})

    def show_spec(self, spec: ExperimentSpec) -> None:
        """Show `spec`'s options without sending edits back."""
        t = spec.train
        widgets = (self.accumulate, self.ema_check, self.ema_decay, self.health)
        blockers = [QSignalBlocker(w) for w in widgets]
        try:
            self.accumulate.setValue(t.accumulate_batches)
            full = t.batch_size == "full"
            self.accumulate.setEnabled(not full or t.accumulate_batches > 1)
            if full:
                self.effective.setText("(full batch)")
            else:
                bs = int(t.batch_size)
                n = t.accumulate_batches
                self.effective.setText(f"= effective batch {bs * n:,}" if n > 1 else f"(batch {bs})")
            self.ema_check.setChecked(t.ema is not None)
            self.ema_decay.setEnabled(t.ema is not None)
            self.ema_decay.setValue(t.ema.decay if t.ema is not None else 0.999)
            self.health.setChecked(t.health is not None)
        finally:
            for b in blockers:
                b.unblock()
