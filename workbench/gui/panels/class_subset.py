"""A classification's subset on the Data page: keep some of the classes (data.classes) and train
on at most N rows of each (data.train_per_class; validation and test keep all theirs).

What fine-tuning on a new task looks like: the digits-cnn preset learns digits 0-4, and a new
run learns 5-9 from 20 images per class, started from those weights. The rows show only for a
classification of more than two classes (or when the spec already sets them); the classes are
typed as the target names them ("5, 6, 7, 8, 9")."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QLineEdit, QSpinBox, QWidget

from workbench.gui.wording import for_the_app


def parse_classes(text: str) -> list[str] | None:
    """'5, 6,7' -> ['5', '6', '7']; '' or 'all' -> None (every class)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    return None if not names or names == ["all"] else list(dict.fromkeys(names))


class ClassSubset(QObject):
    """The two fields (`classes_edit`, `per_class`) and their `message`, edited into the session's
    spec. The owner lays them out (form rows); `set_visible(field, bool)` shows or hides a row."""

    def __init__(self, session: Any, set_visible: Callable[[QWidget, bool], None], parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._set_visible = set_visible
        self.classes_edit = QLineEdit(objectName="keepClasses", placeholderText="all")
        self.classes_edit.editingFinished.connect(self._classes_edited)
        self.per_class = QSpinBox(objectName="trainPerClass", minimum=0, maximum=10_000_000, specialValueText="all")
        self.per_class.setKeyboardTracking(False)
        self.per_class.setToolTip("Train on at most this many rows of each class (validation and test keep all "
                                  "theirs): how a model does with few examples, e.g. when fine-tuning")
        self.per_class.valueChanged.connect(self._per_class_changed)
        self.message = QLabel(objectName="classSubsetMessage", wordWrap=True)
        self.message.setStyleSheet("QLabel { color: #d93025; }")
        session.spec_changed.connect(lambda _spec: self.show_spec())
        session.dataset_changed.connect(lambda _ds: self.show_spec())

    def show_spec(self, force: bool = False) -> None:
        """Show the spec's values (the text being typed stays unless `force`)."""
        data = self.session.spec.data
        meta = getattr(self.session.dataset, "meta", None)
        names = list(getattr(meta, "class_names", None) or [])
        shown = (getattr(meta, "task", None) == "classification" and len(names) > 2
                 or bool(data.classes) or data.train_per_class is not None)
        for field in (self.classes_edit, self.per_class):
            self._set_visible(field, shown)
        self._set_visible(self.message, shown and bool(self.message.text()))
        self.classes_edit.setToolTip("Train on these classes only (comma separated, as the target names them); "
                                     "empty for all" + (f". The data has {len(names)}: {', '.join(names[:20])}"
                                                        + (", ..." if len(names) > 20 else "") if names else ""))
        if force or not self.classes_edit.hasFocus():
            self.classes_edit.setText(", ".join(data.classes) if data.classes else "")
        self.per_class.blockSignals(True)
        self.per_class.setValue(data.train_per_class or 0)
        self.per_class.blockSignals(False)

    def _classes_edited(self) -> None:
        classes = parse_classes(self.classes_edit.text())
        if classes != self.session.spec.data.classes:
            self._edit({"data.classes": classes}, "Keep classes")

    def _per_class_changed(self, value: int) -> None:
        if (value or None) != self.session.spec.data.train_per_class:
            self._edit({"data.train_per_class": value or None}, "Training rows per class")

    def _edit(self, changes: dict, text: str) -> None:
        error = self.session.edit(changes, text=text)
        self.message.setText(for_the_app(error, on_data_page=True) if error else "")
        self.show_spec(force=bool(error))
