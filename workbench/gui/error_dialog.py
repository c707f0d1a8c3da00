"""The dialog shown when a run fails: the message in words, the traceback behind a toggle.

Not modal to the application: the window stays usable while it is open.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)


class RunErrorDialog(QDialog):
    def __init__(self, message: str, details: str = "", title: str = "The run failed", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("runErrorDialog")
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(460)

        icon_label = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon_label.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(size, size))
        icon_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.message_label = QLabel(message or "The run failed without a message.", objectName="errorMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setMinimumWidth(380)
        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(icon_label)
        top.addWidget(self.message_label, 1)

        self.details = QPlainTextEdit(details, objectName="errorDetails")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setMinimumHeight(180)
        self.details.setVisible(False)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.details_button = QPushButton("Show details", objectName="detailsButton")
        self.details_button.setCheckable(True)
        self.details_button.setEnabled(bool(details.strip()))
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the message and details, e.g. for a bug report")
        buttons.addButton(self.details_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.details_button.toggled.connect(self._toggle_details)
        self.copy_button.clicked.connect(self._copy)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)

    @Slot(bool)
    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setText("Hide details" if shown else "Show details")
        self.adjustSize()

    @Slot()
    def _copy(self) -> None:
        text = self.message_label.text()
        if self.details.toPlainText():
            text += "\n\n" + self.details.toPlainText()
        QGuiApplication.clipboard().setText(text)
