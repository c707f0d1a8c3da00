"""The row that shows a big load going on: a progress bar, rows (images) per second and Cancel.

It appears only when a load takes longer than SHOW_AFTER_MS, so small files never flash it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

SHOW_AFTER_MS = 300


class LoadProgressRow(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        layout = QHBoxLayout()
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        self.bar.setRange(0, 0)  # busy until the first report says how far
        self.label = QLabel("Loading…")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop loading; the data shown before stays")
        self.cancel_button.clicked.connect(self._cancel)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel_button)
        outer.addLayout(layout)
        outer.addWidget(self.label)  # a line of its own: "412,000 of about 1,000,000 rows · 380,000 rows/s"
        self._pending = QTimer(self, singleShot=True, interval=SHOW_AFTER_MS)
        self._pending.timeout.connect(self.show)
        self.hide()

    def loading(self, on: bool) -> None:
        """A load started (shown if it lasts) or ended (hidden)."""
        if on:
            self.bar.setRange(0, 0)
            self.label.setText("Loading…")
            self.cancel_button.setEnabled(True)
            self._pending.start()
        else:
            self._pending.stop()
            self.hide()

    def report(self, progress: Any) -> None:
        """Show a core.data LoadProgress."""
        fraction = progress.fraction
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(fraction * 1000))
        self.label.setText(progress.text())

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.label.setText("Cancelling…")
        self.cancel_requested.emit()
