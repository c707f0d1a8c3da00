"""The one way the GUI runs work off its thread: `BackgroundCalls`.

Each owner (the session's data loads, the run history, one training run, one sweep...) has its
own BackgroundCalls: a daemon thread that runs what it is given in order, so a slow job of one
owner never holds up another's. Two kinds of work:

    calls.submit(fn, *args, on_done=..., on_error=...)           a function; its result
    calls.stream(generator_fn, *args, on_items=..., on_done=...)  a generator; what it yields

Results come back on the GUI thread. Deliveries are coalesced: the thread posts at most one
queued signal at a time and the GUI thread then takes everything waiting, so a burst of items
costs the GUI one wake-up and `on_items` gets them as one list, in order.

Rules it keeps:
- An exception in the work never escapes: it goes to `on_error(exception, traceback_text)`, or
  to stderr when there is no on_error. An exception raised by a callback is printed too; the
  next deliveries still happen.
- Closing never waits unless asked: the threads are daemon threads, `shutdown()` drops pending
  work and results (a generator is closed at its next yield) and returns at once; with
  `wait=` seconds it also joins the thread for up to that long (True: until done).
"""

from __future__ import annotations

import collections
import sys
import threading
import traceback
from typing import Any, Callable, Iterable

from PySide6.QtCore import QObject, Signal, Slot

OnError = Callable[[BaseException, str], None]


class Job:
    """One submitted piece of work. `cancel()` drops it if it has not started; a running
    generator stops at its next yield (it is closed, so its `finally` blocks run)."""

    def __init__(self, fn: Callable, args: tuple, on_done: Callable | None, on_error: OnError | None,
                 on_items: Callable[[list], None] | None):
        self.fn, self.args = fn, args
        self.on_done, self.on_error, self.on_items = on_done, on_error, on_items
        self.cancelled = False
        self.finished = threading.Event()

    @property
    def is_stream(self) -> bool:
        return self.on_items is not None

    def cancel(self) -> None:
        self.cancelled = True


class BackgroundCalls(QObject):
    _wake = Signal()  # emitted from the worker thread (queued): something is waiting for the GUI

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._jobs: collections.deque[Job] = collections.deque()
        self._results: collections.deque[tuple[Job, str, Any]] = collections.deque()
        self._lock = threading.Lock()
        self._has_work = threading.Condition(self._lock)
        self._wake_pending = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._current: Job | None = None
        self._wake.connect(self._deliver)

    # ---- GUI thread -----------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
               on_error: OnError | None = None) -> Job:
        """Run fn(*args) on the thread; on_done(result) or on_error(exc, traceback) on the GUI thread."""
        return self._add(Job(fn, args, on_done, on_error, None))

    def stream(self, fn: Callable[..., Iterable], *args: Any, on_items: Callable[[list], None],
               on_done: Callable[[], None] | None = None, on_error: OnError | None = None) -> Job:
        """Iterate fn(*args) on the thread; on_items(list of what it yielded since the last
        delivery) on the GUI thread, then on_done() (or on_error) once it has ended."""
        return self._add(Job(fn, args, on_done, on_error, on_items))

    def busy(self) -> bool:
        """Work is running or waiting."""
        with self._lock:
            return self._current is not None or bool(self._jobs)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work submitted so far has ended (nothing is cancelled); True if it has."""
        with self._lock:
            last = self._jobs[-1] if self._jobs else self._current
        return last is None or last.finished.wait(timeout)

    def flush(self) -> None:
        """Deliver what is waiting now, on the GUI thread (instead of at the next event loop turn)."""
        self._deliver()

    def shutdown(self, wait: bool | float = False, *, finish_current: bool = False) -> bool:
        """Drop pending work and undelivered results; stop a generator at its next yield (with
        `finish_current`, let the work in progress run to its end, unheard: a run that must
        stop tidily). With `wait` (seconds, or True for as long as it takes) join the thread.
        True if it has ended."""
        with self._lock:
            self._closed = True
            for job in self._jobs:
                job.cancel()
            self._jobs.clear()
            self._results.clear()
            if self._current is not None and not finish_current:
                self._current.cancel()
            self._has_work.notify_all()
            thread = self._thread
        if thread is None:
            return True
        if wait is not False:
            thread.join(None if wait is True else float(wait))
        return not thread.is_alive()

    def _add(self, job: Job) -> Job:
        with self._lock:
            if self._closed:
                job.cancel()
                job.finished.set()
                return job
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._main, name=f"workbench-{self.name}", daemon=True)
                self._thread.start()
            self._has_work.notify()
        return job

    @Slot()
    def _deliver(self) -> None:
        with self._lock:
            self._wake_pending = False
            results = list(self._results)
            self._results.clear()
        i = 0
        while i < len(results):
            job, kind, payload = results[i]
            i += 1
            if kind == "items":  # consecutive items of one stream: one list
                items = [payload]
                while i < len(results) and results[i][0] is job and results[i][1] == "items":
                    items.append(results[i][2])
                    i += 1
                self._call(job.on_items, items)
            elif kind == "done":
                if job.on_done is not None:
                    self._call(job.on_done, *payload)
            elif kind == "error":
                error, details = payload
                if job.on_error is not None:
                    self._call(job.on_error, error, details)
                else:
                    print(f"workbench: background work ({self.name}) failed:\n{details}", file=sys.stderr)
            if self._closed:
                return

    def _call(self, callback: Callable, *args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # a broken callback must not stop the deliveries after it
            print(f"workbench: a callback of background work ({self.name}) failed:\n{traceback.format_exc()}",
                  file=sys.stderr)

    # ---- worker thread --------------------------------------------------------------------
    def _main(self) -> None:
        while True:
            with self._lock:
                while not self._jobs and not self._closed:
                    self._has_work.wait()
                if self._closed:
                    return
                job = self._current = self._jobs.popleft()
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._current = None
                job.finished.set()

    def _run(self, job: Job) -> None:
        try:
            if job.is_stream:
                generator = job.fn(*job.args)
                try:
                    for item in generator:
                        self._post(job, "items", item)
                        if job.cancelled:
                            break
                finally:
                    close = getattr(generator, "close", None)
                    if close is not None:
                        close()
                self._post(job, "done", ())
            else:
                self._post(job, "done", (job.fn(*job.args),))
        except Exception as exc:  # reported in words by the owner (on_error), never raised
            self._post(job, "error", (exc, traceback.format_exc()))

    def _post(self, job: Job, kind: str, payload: Any) -> None:
        with self._lock:
            if self._closed or job.cancelled:
                return
            self._results.append((job, kind, payload))
            if self._wake_pending:
                return
            self._wake_pending = True
        self._wake.emit()
