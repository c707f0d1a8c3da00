"""Drive one run off the GUI thread and hand its events to Qt in batches.

`RunWorker` streams a generator on its own BackgroundCalls thread (gui/background.py, the one
mechanism for work off the GUI thread). The generator starts the run — normally a
`core.execution.ProcessRun` taken from a `WarmPool`, so training never shares this process's
interpreter lock — reads its events every ~10 ms and yields them in batches of ~30 ms, which
arrive on the GUI thread as one `events_ready(list)`. Commands (pause, resume, stop, set_lr) go
through a queue to that thread, so the GUI thread never waits on the child's pipe.

Whatever happens to the child (exception, crash, hang, out of memory) the worker ends with
exactly one terminal event and then `done`: a child that dies silently becomes a RunFailed;
a child that does not stop within `stop_grace` seconds of Stop is killed and becomes a
RunStopped. After the terminal event the generator reaps the child (it may take a few seconds
to exit on a busy machine); `done` follows.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from typing import Any, Callable, Iterator, Protocol

from PySide6.QtCore import QObject, Signal

from workbench.core.training import EpochEnd, Event, RunFailed, RunStopped, TerminalEvent, TrainControl
from workbench.gui.background import BackgroundCalls


class RunHandle(Protocol):
    """What the worker needs of a run (core.execution.ProcessRun has it; so does InProcessRun)."""

    def events(self, timeout: float | None = ...) -> list[Event]: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...
    def set_lr(self, lr: float) -> None: ...
    def kill(self) -> None: ...
    @property
    def finished(self) -> bool: ...


class RunWorker(QObject):
    events_ready = Signal(list)  # a batch of core events, oldest first
    done = Signal()  # after the batch holding the terminal event, once the child is reaped

    def __init__(
        self,
        start_run: Callable[[], RunHandle],
        *,
        interval: float = 0.03,
        stop_grace: float = 3.0,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._start_run = start_run
        self._interval = interval
        self._stop_grace = stop_grace
        self._commands: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._calls = BackgroundCalls("run", self)
        self._run: RunHandle | None = None
        self._started = time.monotonic()
        self._epochs_done = 0
        self._ended = threading.Event()

    # ---- GUI thread ----------------------------------------------------------------------
    def start(self) -> None:
        self._started = time.monotonic()
        self._calls.stream(self._drive, on_items=self._deliver, on_done=self.done.emit)

    def _deliver(self, batches: list[list[Event]]) -> None:
        events = [event for batch in batches for event in batch]
        if events:
            self.events_ready.emit(events)

    def send(self, command: str, value: Any = None) -> None:
        self._commands.put((command, value))

    def is_alive(self) -> bool:
        return not self._ended.is_set()

    def wait_ended(self, timeout: float) -> bool:
        """Block up to `timeout` s until the run's thread is done (the app's exit; never the
        GUI's event handling). True if it is."""
        return self._ended.wait(timeout)

    def shutdown(self, timeout: float | None = 5.0) -> bool:
        """Stop the run and wait for it up to `timeout` s; kill the child if it has not ended
        by then. Nothing more is delivered. True if the thread's work has ended.

        timeout None: never wait (closing the window). The stop is sent and the worker's own
        thread sees the run to its end: the child records it as stopped, or is killed after
        the stop grace, as when the person presses Stop."""
        if timeout is None:
            if not self._ended.is_set():
                self.send("stop")
            self._calls.shutdown(finish_current=True)
            return self._ended.is_set()
        if not self._ended.is_set():
            self.send("stop")
            if not self._ended.wait(timeout) and self._run is not None:
                self._kill(self._run)
        self._calls.shutdown(wait=2.0 if not self._ended.is_set() else 0.5)
        return self._ended.is_set()

    # ---- worker thread -------------------------------------------------------------------
    def _drive(self) -> Iterator[list[Event]]:
        run = None
        try:
            try:
                run = self._run = self._start_run()
                yield from self._batches(run)
            except Exception as exc:  # could not start, or lost the child: the run fails, the window stays
                yield [RunFailed(
                    message=f"The run could not start: {exc}" if run is None else f"The run failed: {exc}",
                    details=traceback.format_exc(),
                    epochs=self._epochs_done,
                )]
            # the person has seen the outcome; reaping the child (it may take a few seconds to
            # exit on a busy machine) happens after, still off the GUI thread
            close = getattr(run, "close", None)
            if close is not None:
                try:
                    close()  # releases the pipes; kills a child that is somehow still there
                except Exception:
                    pass
        finally:
            if run is not None and not getattr(run, "finished", True):
                self._kill(run)  # closed early (shutdown): never leave a child behind
            self._ended.set()

    def _batches(self, run: RunHandle) -> Iterator[list[Event]]:
        batch: list[Event] = []
        last_emit = time.monotonic()
        stop_at: float | None = None
        while True:
            stop_at = self._apply_commands(run, stop_at)
            try:
                events = run.events(0.01)
            except Exception as exc:
                batch.append(self._failed(f"Lost contact with the training process: {exc}", traceback.format_exc()))
                self._kill(run)
                yield batch
                return
            for event in events:
                batch.append(event)
                if isinstance(event, EpochEnd):
                    self._epochs_done = event.epoch
                if isinstance(event, TerminalEvent):
                    yield batch
                    return
            if run.finished:
                tail = run.events(0)
                batch.extend(tail)
                if not any(isinstance(e, TerminalEvent) for e in tail):
                    code = getattr(run, "exitcode", None)
                    batch.append(
                        self._failed(
                            f"The training process ended unexpectedly (exit code {code}). "
                            "It may have run out of memory; try a smaller batch size or model."
                        )
                    )
                yield batch
                return
            now = time.monotonic()
            if stop_at is not None and now - stop_at > self._stop_grace:
                self._kill(run)
                batch.append(
                    RunStopped(
                        epochs=self._epochs_done,
                        metrics={},
                        duration=now - self._started,
                        reason=f"the run did not stop within {self._stop_grace:g} s and was ended",
                    )
                )
                yield batch
                return
            if batch and now - last_emit >= self._interval:
                yield batch
                batch = []
                last_emit = now

    def _apply_commands(self, run: RunHandle, stop_at: float | None) -> float | None:
        while True:
            try:
                command, value = self._commands.get_nowait()
            except queue.Empty:
                return stop_at
            try:
                if command == "stop":
                    if stop_at is None:
                        stop_at = time.monotonic()
                    run.stop()
                elif command == "pause":
                    run.pause()
                elif command == "resume":
                    run.resume()
                elif command == "set_lr":
                    run.set_lr(float(value))
            except Exception:
                pass  # a child that cannot take commands shows up as finished on the next poll

    def _failed(self, message: str, details: str = "") -> RunFailed:
        return RunFailed(message=message, details=details, epochs=self._epochs_done)

    @staticmethod
    def _kill(run: RunHandle) -> None:
        try:
            run.kill()
        except Exception:
            pass


class InProcessRun:
    """The trainer in a thread of this process, with ProcessRun's interface.

    For tests and debugging only: it shares the GUI's interpreter lock, and `kill()` can only
    ask the loop to stop. An exception escaping the trainer becomes a RunFailed.
    """

    def __init__(self, spec, base_dir=None, store_path=None, train_fn: Callable | None = None, *,
                 run_dir=None, resume_from=None, name=None, parent_id=None, tags=()):
        self._options = {"resume_from": resume_from}
        self._recorder_options = {"run_dir": run_dir, "name": name, "parent_id": parent_id,
                                  "tags": tuple(tags or ())}
        self._spec = spec
        self._base_dir = base_dir
        self._store_path = store_path
        self._train_fn = train_fn
        self._control = TrainControl()
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name="workbench-inprocess-run", daemon=True)
        self.exitcode: int | None = None

    def start(self) -> None:
        self._thread.start()

    def _main(self) -> None:
        from workbench.core.execution import recorded_run

        store = None
        try:
            if self._store_path is not None:
                from workbench.core.runs import RunStore

                store = RunStore(self._store_path)
            options = {k: v for k, v in self._options.items() if v is not None}  # a test train_fn may not take them
            for event in recorded_run(self._spec, store=store, train_fn=self._train_fn, base_dir=self._base_dir,
                                      control=self._control, **self._recorder_options, **options):
                self._events.put(event)
            self.exitcode = 0
        except Exception as exc:
            self._events.put(RunFailed(message=f"The run raised an error: {exc}", details=traceback.format_exc()))
            self.exitcode = 1
        finally:
            if store is not None:
                store.close()

    def events(self, timeout: float | None = None) -> list[Event]:
        out: list[Event] = []
        try:
            out.append(self._events.get(timeout=timeout) if timeout else self._events.get_nowait())
            while True:
                out.append(self._events.get_nowait())
        except queue.Empty:
            pass
        return out

    def pause(self) -> None:
        self._control.pause()

    def resume(self) -> None:
        self._control.resume()

    def stop(self) -> None:
        self._control.stop()

    def kill(self) -> None:
        self._control.stop()

    def set_lr(self, lr: float) -> None:
        self._control.set_lr(lr)

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive() and self.exitcode is not None
