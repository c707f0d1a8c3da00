"""The linked selection shared by the sweep views (table, parallel coordinates, scatters, curves).

Every view takes the same `TrialSelection`, writes to it when a person clicks or hovers, and
redraws when it changes, so selecting a trial anywhere highlights it everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal


class TrialSelection(QObject):
    """Selected trial/run ids and the one under the mouse.

    Signals fire only on a real change: `selection_changed(set)` with a copy of the new set,
    `hover_changed(object)` with the hovered id or None.
    """

    selection_changed = Signal(object)
    hover_changed = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._selected: set = set()
        self._hovered = None

    @property
    def selected_ids(self) -> set:
        return set(self._selected)

    @property
    def hovered_id(self):
        return self._hovered

    def is_selected(self, trial_id) -> bool:
        return trial_id in self._selected

    def set_selected(self, ids: Iterable) -> None:
        new = set(ids)
        if new != self._selected:
            self._selected = new
            self.selection_changed.emit(set(new))

    def select(self, trial_id, *, toggle: bool = False) -> None:
        """A click: select only this trial, or with `toggle` (Ctrl+click) add/remove it."""
        if toggle:
            self.set_selected(self._selected ^ {trial_id})
        else:
            self.set_selected({trial_id})

    def clear(self) -> None:
        self.set_selected(())

    def set_hovered(self, trial_id) -> None:
        if trial_id != self._hovered:
            self._hovered = trial_id
            self.hover_changed.emit(trial_id)
