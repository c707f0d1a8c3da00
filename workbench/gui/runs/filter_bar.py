"""The runs filter: one field for words and `key<value` terms (see core.runs.filter), with the
reason shown when part of it is not understood."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QWidget

from workbench.core.runs import FILTER_KEYS

PLACEHOLDER = "Filter: lr<0.01 optimizer=Adam status=finished  (or any words)"
HELP = ("Words match name, tags, notes, dataset and model. Terms KEY OP VALUE compare a column or a "
        "spec path; OP is = != < <= > >= or ~ (contains).\nKeys: " + ", ".join(FILTER_KEYS)
        + ", or any spec path such as train.seed, data.noise, model.layers.0.out_features.\n"
        "Example: lr<0.01 optimizer=Adam status=finished tag=baseline")


class FilterBar(QWidget):
    changed = Signal(str)  # the filter text, a moment after typing stops

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.edit = QLineEdit(objectName="runsFilter", placeholderText=PLACEHOLDER, clearButtonEnabled=True)
        self.edit.setToolTip(HELP)
        self.edit.setMinimumWidth(160)
        self.error = QLabel(objectName="runsFilterError")
        self.error.setStyleSheet("color: #d64545")
        self.error.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.error)
        self._timer = QTimer(self, singleShot=True, interval=150)  # 10 000 runs filter in ~0.1 s: not per key
        self._timer.timeout.connect(lambda: self.changed.emit(self.edit.text()))
        self.edit.textChanged.connect(lambda _t: self._timer.start())

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setToolTip(text)
        self.error.setVisible(bool(text))
