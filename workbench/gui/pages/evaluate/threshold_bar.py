"""The two-class decision threshold: a slider and a typed value (predict the second class when its
probability reaches it) and a button back to the argmax."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

__all__ = ["THRESHOLD_STEPS", "ThresholdBar"]

THRESHOLD_STEPS = 1000


class ThresholdBar(QWidget):
    """Emits `threshold_changed(value)` as the slider moves or a value is typed, and
    `threshold_changed(None)` for the argmax; `show_value` moves both without emitting."""

    threshold_changed = Signal(object)  # float, or None for the argmax

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, objectName="thresholdBar")
        self.label = QLabel()
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="thresholdSlider")
        self.slider.setRange(0, THRESHOLD_STEPS)
        self.spin = QDoubleSpinBox(objectName="thresholdSpin")
        self.spin.setRange(0.0, 1.0)
        self.spin.setDecimals(3)
        self.spin.setSingleStep(0.01)
        self.reset = QPushButton("Use argmax", objectName="thresholdReset")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        layout.addWidget(self.reset)
        self.slider.valueChanged.connect(lambda k: self.threshold_changed.emit(k / THRESHOLD_STEPS))
        self.spin.valueChanged.connect(lambda v: self.threshold_changed.emit(float(v)))
        self.reset.clicked.connect(lambda: self.threshold_changed.emit(None))

    def set_positive_class(self, name: str) -> None:
        self.label.setText(f"Decision threshold: predict '{name}' when its probability ≥")

    def show_value(self, value: float) -> None:
        for w in (self.slider, self.spin):
            w.blockSignals(True)
        self.slider.setValue(round(value * THRESHOLD_STEPS))
        self.spin.setValue(value)
        for w in (self.slider, self.spin):
            w.blockSignals(False)
