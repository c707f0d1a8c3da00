"""One racer of the optimizer race: its colour, name, optimizer (any from the catalog, with the
form of its parameters, learning rate included) and, on a model slice, full or mini-batch."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core import catalog
from workbench.gui.widgets.param_form import ParamForm

FULL_BATCH = 0  # the batch spin box's "full" position


class RacerCard(QFrame):
    """One racer: name, optimizer type, its own parameter form (lr, momentum, ...), colour."""
    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, racer, color: QColor, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("racerCard")
        self.color = QColor(color)
        self.swatch = QLabel()
        self.swatch.setFixedSize(14, 14)
        self.swatch.setStyleSheet(f"background: {self.color.name()}; border-radius: 7px;")
        self.name = QLineEdit(racer.name, objectName="racerName")
        self.name.setToolTip("The racer's name in the legend")
        self.optimizer = QComboBox(objectName="racerOptimizer")
        for entry in catalog.entries("optimizer"):
            self.optimizer.addItem(entry.name, entry.name)
            self.optimizer.setItemData(self.optimizer.count() - 1, entry.help, Qt.ItemDataRole.ToolTipRole)
        remove = QToolButton(objectName="racerRemove")
        remove.setText("✕")
        remove.setToolTip("Take this racer out")
        remove.clicked.connect(lambda: self.remove_requested.emit(self))
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.swatch)
        head.addWidget(self.name, 1)
        head.addWidget(self.optimizer)
        head.addWidget(remove)
        self.batch = QSpinBox(objectName="racerBatch")
        self.batch.setRange(FULL_BATCH, 4096)
        self.batch.setSpecialValueText("full batch")
        self.batch.setSuffix(" rows")
        self.batch.setToolTip("Rows per step on your model's slice: full batch is gradient descent; a few rows "
                              "give the noisy steps of stochastic gradient descent")
        self.batch.setValue(racer.batch or FULL_BATCH)
        self.batch_row = QWidget()
        b = QHBoxLayout(self.batch_row)
        b.setContentsMargins(0, 0, 0, 0)
        b.addWidget(QLabel("Batch"))
        b.addWidget(self.batch, 1)
        self.col = QVBoxLayout(self)
        self.col.setContentsMargins(6, 4, 6, 4)
        self.col.setSpacing(3)
        self.col.addLayout(head)
        self.col.addWidget(self.batch_row)
        self.form: ParamForm | None = None
        self._params: dict = {}
        params = {k: v for k, v in racer.optimizer.items() if k != "type"}
        self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(racer.optimizer.get("type", "SGD"))))
        self._show_form(params)
        self.optimizer.activated.connect(self._optimizer_chosen)
        self.name.editingFinished.connect(self.changed)
        self.batch.valueChanged.connect(lambda _v: self.changed.emit())

    def _show_form(self, params: dict) -> None:
        if self.form is not None:
            self.col.removeWidget(self.form)
            self.form.deleteLater()
        entry = catalog.get_entry("optimizer", self.optimizer.currentData())
        self._params = dict(params)
        self.form = ParamForm(entry, params)
        self.form.setObjectName("racerForm")
        self.form.values_changed.connect(self._form_changed)
        self.col.insertWidget(1, self.form)

    @Slot(int)
    def _optimizer_chosen(self, _index: int) -> None:
        lr = self._params.get("lr")
        entry = catalog.get_entry("optimizer", self.optimizer.currentData())
        keep = {"lr": lr} if lr is not None and any(p.name == "lr" for p in entry.params) else {}
        self._show_form(keep)
        self.changed.emit()

    @Slot(dict)
    def _form_changed(self, values: dict) -> None:
        self._params = dict(values)
        self.changed.emit()

    def set_batch_visible(self, on: bool) -> None:
        self.batch_row.setVisible(on)

    def racer(self, with_batch: bool):
        """The Racer this card describes (with the batch size when racing on a model slice)."""
        from workbench.core.diagnostics import Racer

        batch = self.batch.value() if with_batch and self.batch.value() != FULL_BATCH else None
        return Racer(self.name.text().strip() or self.optimizer.currentData(),
                     {"type": self.optimizer.currentData(), **self._params}, batch=batch)
