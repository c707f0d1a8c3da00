"""A long diagnostic (pre-flight check, LR finder, race, loss grid) on a background thread,
with progress back on the GUI thread and cancellation.

    task = DiagnosticTask("lr-finder", parent)
    task.progress.connect(on_step)                  # whatever the function reports
    task.run(fn, on_done=..., on_error=...)          # fn(report) -> result; report(x) -> False once cancelled

It uses BackgroundCalls (the app's one way of running work off the GUI thread). Progress is a
queued signal, so `report` may be called from the worker thread. Torch computations release
the interpreter lock while they compute, so the window keeps drawing.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from workbench.gui.background import BackgroundCalls


class DiagnosticTask(QObject):
    """One background diagnostic at a time, cancellable, with progress as a signal (see the module doc)."""
    progress = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self._calls = BackgroundCalls(name, self)
        self._cancel = threading.Event()
        self._generation = 0
        self.running = False

    def run(self, fn: Callable[[Callable[[Any], bool]], Any], *, on_done: Callable[[Any], None],
            on_error: Callable[[BaseException, str], None]) -> None:
        """Start `fn(report)`; a previous run is cancelled and its results are dropped."""
        self.cancel()
        self._cancel = threading.Event()
        self._generation += 1
        generation, cancel = self._generation, self._cancel
        self.running = True

        def done(result):
            if generation == self._generation and not cancel.is_set():
                self.running = False
                on_done(result)

        def failed(err, details):
            if generation == self._generation and not cancel.is_set():
                self.running = False
                on_error(err, details)

        def work():
            return fn(lambda value: self._report(generation, cancel, value))

        self._calls.submit(work, on_done=done, on_error=failed)

    def _report(self, generation: int, cancel: threading.Event, value: Any) -> bool:
        if cancel.is_set():
            return False
        self.progress.emit((generation, value))
        return True

    def accepts(self, item: tuple[int, Any]) -> bool:
        """Whether a progress item belongs to the current run."""
        return item[0] == self._generation and not self._cancel.is_set()

    def busy(self) -> bool:
        """The background thread is still working (a cancelled function runs on until it next reports)."""
        return self._calls.busy()

    def cancel(self) -> None:
        """Ask the running function to stop (its `report` returns False from now on); its result is
        dropped."""
        self._cancel.set()
        self.running = False

    def shutdown(self, wait: bool = True) -> None:
        """Cancel; with `wait`, join the thread (a closing window does not: a computation between
        two reports would hold it)."""
        self.cancel()
        self._calls.shutdown(wait=wait)
