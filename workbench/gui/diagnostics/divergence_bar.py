"""The bar that appears when a run diverges (the loss became NaN/inf): the run is paused at the
last good weights; the bar offers to resume with a learning rate ten times lower, or to stop."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QDoubleSpinBox, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from workbench.core.training import HealthAlert
from workbench.gui.wording import for_the_app


class DivergenceBar(QFrame):
    """The bar shown when a run paused on NaN/inf: resume with a lower learning rate, or stop."""
    resume_requested = Signal(float)  # the learning rate to resume with
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("divergenceBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#divergenceBar { background: rgba(198, 40, 40, 0.12); border: 1px solid #c62828; }")
        self.message = QLabel(objectName="divergenceMessage")
        self.message.setWordWrap(True)
        self.lr = QDoubleSpinBox(objectName="divergenceLr")
        self.lr.setDecimals(8)
        self.lr.setRange(1e-8, 10.0)
        self.lr.setPrefix("lr ")
        self.resume_button = QPushButton("Resume with this lr", objectName="divergenceResume")
        self.stop_button = QPushButton("Stop the run", objectName="divergenceStop")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.message, 1)
        row.addWidget(self.lr)
        row.addWidget(self.resume_button)
        row.addWidget(self.stop_button)
        self.resume_button.clicked.connect(self._resume)
        self.stop_button.clicked.connect(self._stop)
        self.hide()

    def offer(self, alert: HealthAlert) -> None:
        """Show the divergence alert and its lower learning rate."""
        self.message.setText(for_the_app(alert.message))
        self.lr.setValue(alert.suggested_lr)
        self.show()

    @Slot()
    def _resume(self) -> None:
        self.hide()
        self.resume_requested.emit(float(self.lr.value()))

    @Slot()
    def _stop(self) -> None:
        self.hide()
        self.stop_requested.emit()
