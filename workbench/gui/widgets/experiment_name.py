"""The experiment's name, editable: runs are called by it. Left empty, each run is named after
its data and model ("customers.csv · MLP 64-3"), which the empty box shows as its placeholder."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLineEdit, QWidget

from workbench.core.spec import experiment_name, is_named


class ExperimentNameEdit(QLineEdit):
    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("experimentName")
        self.setClearButtonEnabled(True)
        self.setToolTip("The experiment's name: its runs are called by it, and Save suggests it as the file "
                        "name. Leave it empty to name each run after its data and model.")
        self.editingFinished.connect(self._commit)
        session.spec_changed.connect(self._show)
        session.dataset_changed.connect(lambda _ds: self._show(session.spec))
        self._show(session.spec)

    @property
    def automatic_name(self) -> str:
        """What runs are called while the box is empty."""
        spec = self.session.spec.model_copy(update={"name": ""})
        return experiment_name(spec, self.session.meta)

    @Slot(object)
    def _show(self, spec) -> None:
        self.setPlaceholderText(f"{self.automatic_name} (from data and model)")
        text = spec.name if is_named(spec) else ""
        if text != self.text() and not self.hasFocus():
            self.setText(text)

    @Slot()
    def _commit(self) -> None:
        name = self.text().strip()
        current = self.session.spec.name if is_named(self.session.spec) else ""
        if name != current:
            self.session.edit({"name": name}, text="Rename the experiment")
