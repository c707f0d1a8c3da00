"""Run the current spec with K seeds (seed … seed+K-1), one after another through the session,
tagged as one seed group; Stop (or a failed run) ends the series."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from workbench.core.training import RunFailed, RunStopped, TerminalEvent
from workbench.core.runs import repeat_specs
from workbench.core.spec import experiment_name


class SeedsDialog(QDialog):
    def __init__(self, seed: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("seedsDialog")
        self.setWindowTitle("Run with K seeds")
        self.count = QSpinBox(objectName="seedCount", minimum=2, maximum=50, value=3)
        self.hint = QLabel()
        self.count.valueChanged.connect(lambda k: self.hint.setText(
            f"Seeds {seed} … {seed + k - 1}, one run after another, shown as one group with mean ± std bands."))
        self.count.valueChanged.emit(self.count.value())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setObjectName("okButton")
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setObjectName("cancelButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Runs (K)", self.count)
        form.addRow(self.hint)
        form.addRow(buttons)


class RepeatRunner(QObject):
    progress = Signal(str)  # "Seed 2 of 3 …", "" when done
    finished = Signal(str)  # the group tag

    def __init__(self, session, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._specs: list = []
        self._tag = ""
        self._index = 0
        self._last_end: TerminalEvent | None = None
        session.run_event.connect(self._on_event)
        session.run_state_changed.connect(self._on_state)

    @property
    def active(self) -> bool:
        return bool(self._specs)

    @property
    def group(self) -> str:
        return self._tag

    def start(self, k: int) -> str | None:
        """Start K runs; an error message, or None."""
        if self.active or self.session.is_running:
            return "A run is going: wait for it to end"
        if not self.session.validity[0]:
            return f"Cannot train: {self.session.validity[1]}"
        spec = self.session.spec
        self._specs, self._tag = repeat_specs(spec, k, name=experiment_name(spec, self.session.meta))
        self._index = 0
        return self._start_next()

    def cancel(self) -> None:
        if self.active:
            self._specs = []
            self.progress.emit("")
            self.finished.emit(self._tag)

    def _start_next(self) -> str | None:
        spec = self._specs[self._index]
        self._last_end = None
        if not self.session.train(spec, tags=[self._tag, "repeat"], name=spec.name):
            self.cancel()
            return "The run could not start"
        self.progress.emit(f"Seed run {self._index + 1} of {len(self._specs)} ({spec.name})")
        return None

    def _on_event(self, event) -> None:
        if self.active and isinstance(event, TerminalEvent):
            self._last_end = event

    def _on_state(self, state: str) -> None:
        if not self.active or state != "idle":
            return
        stopped = isinstance(self._last_end, (RunStopped, RunFailed)) or self._last_end is None
        self._index += 1
        if stopped or self._index >= len(self._specs):
            self.cancel()
            return
        QTimer.singleShot(0, self, self._start_next)  # after the session finished tidying the last run
