"""Deleting runs: a confirmation that names them, then a soft delete with Undo. The rows vanish at
once; the store rows and checkpoint files go only when the panel closes (the app quits), so Undo
brings them back exactly as they were. A crash before that keeps the runs (the safe side)."""

from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget


def confirm_delete(parent: QWidget, records: Sequence) -> bool:
    names = [f"#{r.id} {r.name}" for r in records]
    shown = "\n".join(names[:8]) + (f"\n… and {len(names) - 8} more" if len(names) > 8 else "")
    box = QMessageBox(QMessageBox.Icon.Question, "Delete runs",
                      f"Delete {len(names)} run{'s' if len(names) != 1 else ''} and their checkpoint files?\n\n"
                      f"{shown}\n\nYou can undo this until Workbench closes.", parent=parent)
    box.setObjectName("deleteRunsBox")
    delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
    delete.setObjectName("deleteButton")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    cancel.setObjectName("cancelButton")
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is delete


class SoftDeletes(QObject):
    """Ids hidden now and purged (store rows + files) by `purge()`; `undo()` restores the last batch."""

    changed = Signal(set)  # every hidden id

    def __init__(self, purge_fn: Callable[[int], None], parent: QObject | None = None):
        super().__init__(parent)
        self._purge_fn = purge_fn
        self._batches: list[list[int]] = []

    @property
    def hidden(self) -> set[int]:
        return {i for batch in self._batches for i in batch}

    @property
    def last_batch(self) -> list[int]:
        return list(self._batches[-1]) if self._batches else []

    def delete(self, run_ids: Sequence[int]) -> None:
        if run_ids:
            self._batches.append(list(run_ids))
            self.changed.emit(self.hidden)

    def undo(self) -> list[int]:
        batch = self._batches.pop() if self._batches else []
        if batch:
            self.changed.emit(self.hidden)
        return batch

    def purge(self) -> None:
        for run_id in sorted(self.hidden):
            try:
                self._purge_fn(run_id)
            except KeyError:
                pass
        self._batches.clear()
