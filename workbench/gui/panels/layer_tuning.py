"""A layer's fine-tuning settings, under its parameters: a lock (its weights do not train) and a
learning-rate multiplier (discriminative learning rates). The stack shows both in its Lock
column; the lock can be clicked there too."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

LR_MULT_RANGE = (0.0, 100.0)


class LayerTuning(QWidget):
    """Lock + LR multiplier of one top-level layer; `changed(frozen, lr_mult)` on every edit."""

    changed = Signal(bool, float)

    def __init__(self, frozen: bool, lr_mult: float | None, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        self.lock = QCheckBox("Lock (freeze)", objectName="layerLock")
        self.lock.setToolTip("A locked layer's weights do not change while training: keep what it learnt "
                             "(fine-tuning). Train › Fine-tuning can unlock every layer at a later epoch.")
        self.lock.setChecked(bool(frozen))
        self.lr = QDoubleSpinBox(objectName="layerLrMult")
        self.lr.setRange(*LR_MULT_RANGE)
        self.lr.setDecimals(3)
        self.lr.setSingleStep(0.1)
        self.lr.setPrefix("× ")
        self.lr.setValue(1.0 if lr_mult is None else float(lr_mult))
        self.lr.setToolTip("This layer learns at the optimizer's learning rate times this (discriminative learning "
                           "rates: e.g. 0.1 for early layers that already know useful features)")
        label = QLabel("learning rate")
        label.setBuddy(self.lr)
        layout.addWidget(self.lock)
        layout.addStretch(1)
        layout.addWidget(label)
        layout.addWidget(self.lr)
        self.lock.toggled.connect(self._emit)
        self.lr.valueChanged.connect(self._emit)

    def _emit(self, *_args) -> None:
        self.changed.emit(self.lock.isChecked(), float(self.lr.value()))
