"""The outer shell of a training run: exactly one terminal event, whatever happens.

`RunShell.events()` runs the subclass's `_run()` generator (which returns the terminal event),
turns any exception into a RunFailed whose message a person can act on, calls the callbacks'
hooks (a failing callback ends the run with RunFailed), sets torch's thread count for the run
and gives device memory back at the end. The subclass (trainer._Training) sets the attributes
listed on the class before `events()` runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import time
import traceback
from pathlib import Path
from typing import Any, Iterator

import torch

from workbench.core.training.batching import threads_for
from workbench.core.training.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    RunContext,
    TerminateOnNaN,
)
from workbench.core.training.checkpoint import CheckpointError
from workbench.core.training.device import DeviceError
from workbench.core.training.finetune import Unfreeze
from workbench.core.training.events import Event, RunFailed, RunStopped, TerminalEvent
from workbench.core.spec import ExperimentSpec, SpecError

__all__ = ["RunShell"]


class _CallbackFailed(Exception):
    def __init__(self, callback: Callback, hook: str, exc: BaseException):
        super().__init__(f"{type(callback).__name__}.{hook} failed: {type(exc).__name__}: {exc}")
        self.callback, self.hook, self.exc = callback, hook, exc


class RunShell(ABC):
    """Base of the training engine: the terminal-event guarantee, callbacks and failures."""

    spec: ExperimentSpec
    threads: int | None
    run: RunContext
    run_dir: Path | None
    user_callbacks: list[Callback]
    callbacks: list[Callback]
    batch_size: int
    t_start: float
    epochs_done: int
    ctx: Any
    _oom: bool
    pause_on_divergence: bool

    @abstractmethod
    def _run(self) -> Iterator[Event]:  # returns the terminal event
        ...

    # ---- outer shell: exactly one terminal event ----------------------------------------------
    def events(self) -> Iterator[Event]:
        prev_threads = torch.get_num_threads()
        n_threads = threads_for(self.spec.train.num_threads, self.threads)
        terminal: TerminalEvent | None = None
        try:
            if n_threads:
                torch.set_num_threads(n_threads)
            try:
                terminal = yield from self._run()
            except GeneratorExit:
                self._end_callbacks(RunStopped(epochs=self.epochs_done, metrics={}, duration=self._elapsed(),
                                               reason="the event stream was closed"), quiet=True)
                raise
            except Exception as exc:  # noqa: BLE001 — every problem becomes a RunFailed
                terminal = self._failure(exc)
            try:
                self._end_callbacks(terminal)
            except _CallbackFailed as exc:
                terminal = self._failure(exc)
                self._end_callbacks(terminal, quiet=True, skip=exc.callback)
            yield terminal
        finally:
            if n_threads:
                torch.set_num_threads(prev_threads)
            self._release_device_memory()

    def _release_device_memory(self) -> None:
        """The run is over: drop the engine's own device copies of the data and hand cached GPU
        blocks back to the driver. The model stays with whoever holds run.model, except after an
        out of memory failure: then the half-trained model, optimizer state and the garbage of
        the failure go too (after on_run_end has seen them), so the memory is free for the next
        run or another program at once."""
        self.ctx = None
        try:
            if self._oom:
                import gc
                run = self.run
                run.model = run.optimizer = run.scheduler = run.scaler = None
                # the built-in callbacks' weight snapshots (TerminateOnNaN, EarlyStopping) too
                self.callbacks = []
                gc.collect()
            if self.run.device.type == "cuda":
                torch.cuda.empty_cache()
        except Exception:  # noqa: BLE001 — a broken CUDA context must not mask the run's outcome
            pass

    def _end_callbacks(self, terminal: TerminalEvent, quiet: bool = False, skip: Callback | None = None):
        first: _CallbackFailed | None = None
        for cb in self.callbacks:
            if cb is skip:
                continue
            try:
                cb.on_run_end(self.run, terminal)
            except Exception as exc:  # noqa: BLE001
                if first is None:
                    first = _CallbackFailed(cb, "on_run_end", exc)
        # events emitted in on_run_end (files written at the end) reach the other callbacks (the
        # run store records them) but are not yielded: the terminal event is always the last
        for ev in self.run.take_emitted():
            for cb in self.callbacks:
                try:
                    cb.on_event(self.run, ev)
                except Exception:  # noqa: BLE001 - the run is over; its outcome stands
                    pass
        if first is not None and not quiet:
            raise first

    def _elapsed(self) -> float:
        return time.perf_counter() - self.t_start

    def _failure(self, exc: BaseException) -> RunFailed:
        try:
            from workbench.core.data import DataError
        except ImportError:  # pragma: no cover
            DataError = ()  # type: ignore[assignment]
        try:
            from workbench.core.training.model_summary import ModelError
        except ImportError:  # pragma: no cover
            ModelError = ()  # type: ignore[assignment]
        inner = exc.exc if isinstance(exc, _CallbackFailed) else exc
        details = "".join(traceback.format_exception(type(inner), inner, inner.__traceback__))
        text = str(inner)
        if isinstance(exc, _CallbackFailed):
            message = f"A callback failed, so the run was ended: {exc}"
        elif isinstance(inner, (DataError, ModelError, DeviceError, CheckpointError, SpecError)):
            message = text
        elif _is_oom(inner):
            where = "GPU memory" if self.run.device.type in ("cuda", "mps") else "memory"
            message = (f"out of {where} at batch size {self.batch_size or '?'}; lower the batch size"
                       " (or use a smaller model)")
            self._oom = True  # memory is given back when the run's frames are gone (see events())
        elif "Expected more than 1 value per channel when training" in text:
            message = ("BatchNorm cannot train on batches of one sample; use a batch size of at least 2 "
                       "or remove the BatchNorm layers")
        else:
            message = f"Training failed: {type(inner).__name__}: {text}"
        return RunFailed(message=message, details=details, epochs=self.epochs_done)

    # ---- callbacks ------------------------------------------------------------------------------
    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            try:
                getattr(cb, hook)(self.run, *args)
            except Exception as exc:  # noqa: BLE001
                raise _CallbackFailed(cb, hook, exc) from exc

    def _side_events(self) -> Iterator[Event]:
        for ev in self.run.take_emitted():
            self._call("on_event", ev)
            yield ev

    def _emit(self, ev: Event) -> Iterator[Event]:
        """Yield a non-terminal event that callbacks may want to hear about."""
        self._call("on_event", ev)
        yield ev
        yield from self._side_events()

    def _build_callbacks(self) -> None:
        t = self.spec.train
        cbs: list[Callback] = []
        # order matters: NaN handling first (restores good weights before anything saves them)
        if t.terminate_on_nan:
            cbs.append(TerminateOnNaN(pause=self.pause_on_divergence))
        if t.early_stopping is not None:
            es = t.early_stopping
            cbs.append(EarlyStopping(es.monitor, es.patience, es.min_delta, es.mode, es.restore_best))
        ft = self.spec.finetune
        if ft is not None and ft.unfreeze_epoch is not None:
            cbs.append(Unfreeze(ft.unfreeze_epoch, ft.unfreeze_lr_factor))
        if t.checkpoint and self.run_dir is not None:
            monitor = t.early_stopping.monitor if t.early_stopping is not None else "val_loss"
            cbs.append(Checkpoint(self.run_dir, monitor=monitor))
        if t.health is not None:
            from workbench.core.training.health import HealthMonitor

            cbs.append(HealthMonitor(t.health.every))
        self.callbacks = cbs + self.user_callbacks


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "DefaultCPUAllocator: can't allocate memory" in text)
