"""The Diagnose page: the pre-flight check and the LR finder one click away, and the health view
of the live run (or of the run selected on the Runs page)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from workbench.gui.diagnostics.health_view import HealthView


class DiagnosePage(QWidget):
    """The Diagnose page: Check and Find LR buttons over the health view."""
    def __init__(self, actions, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("diagnosePage")
        intro = QLabel("Before a long run: <b>Check</b> the data and model in seconds, <b>Find LR</b> for a "
                       "learning rate. During and after it: how each layer's gradients, updates and units "
                       "behave, with alerts in plain words.", objectName="diagnoseIntro")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        row = QHBoxLayout()
        row.addWidget(intro, 1)
        self.buttons = []
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            row.addWidget(button)
            self.buttons.append(button)
        self.health = HealthView()
        col = QVBoxLayout(self)
        col.setContentsMargins(6, 6, 6, 6)
        col.addLayout(row)
        col.addWidget(self.health, 1)
