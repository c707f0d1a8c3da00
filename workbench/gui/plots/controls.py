"""The bar above the live curves: x axis, log loss, smoothing, and Follow after a zoom."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

X_AXES = {"step": "step", "epoch": "epoch", "time": "time (s)"}  # mode -> axis label


class ControlBar(QWidget):
    """Only widgets: LiveCurves connects them (and keeps them in step with its setters)."""

    def __init__(self, parent: QWidget | None = None, smoothing: float = 0.6):
        super().__init__(parent)
        self.x_axis_combo = QComboBox()
        for key, label in X_AXES.items():
            self.x_axis_combo.addItem(label.split(" ")[0].capitalize(), key)
        self.x_axis_combo.setToolTip("What the horizontal axis counts")
        self.log_check = QCheckBox("Log loss")
        self.log_check.setToolTip("Logarithmic scale for the loss plot")
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(round(smoothing * 100))
        self.smoothing_slider.setMaximumWidth(140)
        self.smoothing_slider.setToolTip(
            "Exponential moving average (debiased, as TensorBoard); the raw curve stays faint "
            "beneath")
        self.smoothing_label = QLabel(f"{smoothing:.2f}")
        self.smoothing_label.setMinimumWidth(30)
        self.follow_button = QPushButton("Follow")
        self.follow_button.setToolTip("Zoomed or panned: show all points again and follow new ones")
        self.follow_button.setVisible(False)

        bar = QHBoxLayout(self)
        bar.setContentsMargins(4, 2, 4, 0)
        bar.addWidget(QLabel("X axis"))
        bar.addWidget(self.x_axis_combo)
        bar.addSpacing(8)
        bar.addWidget(self.log_check)
        bar.addSpacing(8)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smoothing_slider)
        bar.addWidget(self.smoothing_label)
        bar.addStretch(1)
        bar.addWidget(self.follow_button)
