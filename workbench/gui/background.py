"""Run plain functions on a background thread and get the result back on the GUI thread.

Used for everything that may take longer than a frame: loading a dataset, reading the run
store. The GUI thread never waits for them; a result arrives as a queued signal and is
handed to the callback given at submit time. Results of calls made before `shutdown()`
are dropped.
"""

from __future__ import annotations

import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot


class BackgroundCalls(QObject):
    # (on_done, on_error, result, error, details) — emitted from the worker thread, delivered queued
    _finished = Signal(object, object, object, object, str)

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"workbench-{name}")
        self._closed = False
        self._finished.connect(self._deliver)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException, str], None] | None = None,
    ) -> None:
        if self._closed:
            return
        self._executor.submit(self._call, fn, args, on_done, on_error)

    def _call(self, fn, args, on_done, on_error) -> None:
        try:
            result = fn(*args)
        except Exception as exc:  # reported to on_error (in words, by the caller)
            if not self._closed:
                self._finished.emit(on_done, on_error, None, exc, traceback.format_exc())
            return
        if not self._closed:
            self._finished.emit(on_done, on_error, result, None, "")

    @Slot(object, object, object, object, str)
    def _deliver(self, on_done, on_error, result, error, details) -> None:
        if self._closed:
            return
        if error is None:
            on_done(result)
        elif on_error is not None:
            on_error(error, details)

    def shutdown(self, wait: bool = True) -> None:
        """Drop pending work and (by default) wait for the call in progress to return."""
        self._closed = True
        self._executor.shutdown(wait=wait, cancel_futures=True)
