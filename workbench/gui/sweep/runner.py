"""Drive a sweep off the GUI thread.

`core.sweep.run_sweep` is a generator that owns the study and the worker processes; it is
streamed on the runner's BackgroundCalls thread (gui/background.py, the one mechanism for work
off the GUI thread), which hands its events to the GUI thread in batches, so a burst of epoch
reports costs the GUI one update. Opening a stored sweep (study + run store reads) goes through
the same thread, so storage is never polled on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from workbench.core.execution import DEFAULT_TRAIN
from workbench.core.sweep import SweepControl, SweepFinished, load_importance_evaluator
from workbench.gui.background import BackgroundCalls


@dataclass(frozen=True)
class LoadedSweep:
    """A stored sweep read in the background: its record and the epoch logs of each trial's
    first run (trial number -> [{"epoch": 1, "loss": ...}, ...])."""

    record: Any  # core.sweep.SweepRecord
    epochs: dict[int, list[dict]]
    store_path: str | None


def _message(exc: BaseException) -> str:
    """A sentence for a person (SpaceError / SweepError already read well)."""
    text = str(exc).strip()
    if isinstance(exc, ValueError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class SweepRunner(QObject):
    """Runs one sweep (or one load) at a time in a background thread.

    Signals (all on the GUI thread):
      events(list)        a batch of core.sweep events, in order
      loaded(object)      a LoadedSweep, after `load()`
      failed(str)         the sweep could not start / the load failed (a message, no traceback)
      running_changed(bool)
      finished(object)    the SweepFinished event, or None when it failed before starting
    `train_target` ("module:function" or "/path/file.py:function") replaces the trainer in the
    worker processes (tests use a scripted one); `threads` caps torch threads per worker.
    """

    events = Signal(list)
    loaded = Signal(object)
    failed = Signal(str)
    running_changed = Signal(bool)
    finished = Signal(object)

    def __init__(self, parent: QObject | None = None, *, train_target: str = DEFAULT_TRAIN,
                 threads: int | None = None):
        super().__init__(parent)
        self.train_target = train_target
        self.threads = threads
        self._calls = BackgroundCalls("sweep", self)
        self._job = None
        self._control: SweepControl | None = None
        self._last_finished: SweepFinished | None = None
        self._loaded: LoadedSweep | None = None
        self.last_traceback = ""

    # -- state -----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._job is not None

    @property
    def paused(self) -> bool:
        return self._control is not None and self._control.paused

    # -- starting --------------------------------------------------------------------------------
    def start(self, config, *, store_path: str | None = None, storage: str | None = None) -> None:
        """Run a new sweep from a SweepConfig."""
        from workbench.core.sweep import run_sweep

        control = SweepControl()

        def make():
            return run_sweep(config.spec, config.space, store_path=store_path, storage=storage, control=control,
                             train_target=self.train_target, threads=self.threads, **config.run_kwargs())

        self._launch(make, control)

    def continue_sweep(self, storage: str, study: str, *, n_trials: int, parallel: int | None = None,
                       store_path: str | None = None) -> None:
        """Run `n_trials` more trials of a stored sweep."""
        from workbench.core.sweep import continue_sweep

        control = SweepControl()

        def make():
            return continue_sweep(storage, study, n_trials=n_trials, parallel=parallel, store_path=store_path,
                                  control=control, train_target=self.train_target, threads=self.threads)

        self._launch(make, control)

    def load(self, storage: str, study: str, *, store_path: str | None = None) -> None:
        """Read a stored sweep and its trials' curves in the background; emits `loaded`."""

        def work():
            from workbench.core.sweep import open_sweep

            record = open_sweep(storage, study)
            epochs: dict[int, list[dict]] = {}
            if store_path is not None:
                from workbench.core.runs import RunStore

                store = RunStore(store_path)
                try:
                    for t in record.trials:
                        if t["run_ids"]:
                            try:
                                epochs[t["trial"]] = store.epochs(t["run_ids"][0])
                            except Exception:  # noqa: BLE001 - a deleted run: no curve, the trial stays
                                pass
                finally:
                    store.close()
            return [LoadedSweep(record, epochs, store_path)]

        self._launch(lambda: iter(work()), None)

    def _launch(self, make: Callable[[], Any], control: SweepControl | None) -> None:
        if self._job is not None:
            raise RuntimeError("a sweep is already running; stop it first")
        self._control = control
        self._last_finished = None
        self._loaded = None

        def work():
            load_importance_evaluator()  # here, not on the GUI thread when the chart first draws
            yield from make()

        self._job = self._calls.stream(work, on_items=self._on_items, on_done=lambda: self._finish(None),
                                       on_error=self._on_error)
        if control is not None:
            self.running_changed.emit(True)

    # -- control ---------------------------------------------------------------------------------
    def stop(self) -> None:
        if self._control is not None:
            self._control.resume()
            self._control.stop()

    def pause(self) -> None:
        if self._control is not None:
            self._control.pause()

    def resume(self) -> None:
        if self._control is not None:
            self._control.resume()

    def shutdown(self, timeout: float = 2.0) -> None:
        """Stop the sweep and wait for it up to `timeout` s (the generator closes its worker
        pool as it ends); after that it ends on its own, and nothing more is delivered."""
        self.stop()
        if self._calls.wait(timeout):
            self._calls.flush()  # its last events and `finished`, now
        self._calls.shutdown()

    # -- delivery --------------------------------------------------------------------------------
    def _on_items(self, items: list) -> None:
        batch = []
        for item in items:
            if isinstance(item, LoadedSweep):
                self._loaded = item  # emitted once the work is done (so `running` reads False)
                continue
            if isinstance(item, SweepFinished):
                self._last_finished = item
            batch.append(item)
        if batch:
            self.events.emit(batch)

    def _on_error(self, exc: BaseException, details: str) -> None:
        self.last_traceback = details  # kept for a "details" view; not shown raw
        self._finish(_message(exc))

    def _finish(self, error: str | None) -> None:
        self._job = None
        was_sweep = self._control is not None
        self._control = None
        loaded, self._loaded = self._loaded, None
        if error is not None:
            self.failed.emit(error)
        if loaded is not None:
            self.loaded.emit(loaded)
        if was_sweep:
            self.running_changed.emit(False)
            self.finished.emit(self._last_finished)
