"""RunRecorder: the callback that writes a run into the run store as it goes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from workbench.core.runs.naming import experiment_name
from workbench.core.runs.store import RunStore
from workbench.core.training import (
    Callback,
    CheckpointSaved,
    LRChanged,
    RunContext,
    RunFailed,
    RunFinished,
    RunStopped,
)

__all__ = ["RunRecorder"]


class RunRecorder(Callback):
    """Writes the run into a RunStore as it goes: created at start, every epoch committed when
    it ends, LR changes and checkpoints as they happen, status and final metrics at the end.
    A killed process loses at most the epoch in progress."""

    def __init__(self, store: RunStore, *, name: str | None = None, parent_id: int | None = None,
                 sweep_id: int | None = None, tags: tuple[str, ...] | list[str] = ()) -> None:
        self.store = store
        self.name = name
        self.parent_id = parent_id
        self.sweep_id = sweep_id
        self.tags = tuple(tags)
        self.run_id: int | None = None
        self._artifacts: set[tuple[str, str]] = set()
        self._started = time.perf_counter()

    def _create(self, run: RunContext, **extra: Any) -> int:
        self.run_id = self.store.create_run(run.spec, name=self.name or experiment_name(run.spec, run.meta),
                                            parent_id=self.parent_id, sweep_id=self.sweep_id, tags=self.tags,
                                            run_dir=str(run.run_dir or ""), **extra)
        return self.run_id

    def on_run_start(self, run, event):
        self._started = time.perf_counter()
        self._create(run, device=event.device, task=event.task, total_params=event.total_params)
        self._record_data(run)
        self.store.log_event(self.run_id, "started", event.start_epoch, run.step, {
            "device": event.device, "device_name": event.device_name, "precision": event.precision,
            "n_train": event.n_train, "n_val": event.n_val, "n_test": event.n_test,
            "total_params": event.total_params, "start_epoch": event.start_epoch,
            "target_scaler": event.target_scaler,
        })

    def _record_data(self, run) -> None:
        """Where the data was found (an absolute path for files: a spec naming its file relative
        to itself can be loaded again from anywhere) and the loader's notes, unless the caller
        recorded them already (the CLI adds its own report)."""
        meta = run.meta
        if meta is None or any(e["kind"] == "data" for e in self.store.events(self.run_id)):
            return
        source = str(meta.source)
        if not source.startswith("sample:"):
            source = str(Path(source).expanduser().resolve())
        self.store.log_event(self.run_id, "data", 0, 0, {"source": source, "notes": list(meta.notes or [])})

    def on_epoch_end(self, run, epoch, logs):
        if self.run_id is not None:
            # step and elapsed let overlays of past runs share the live plot's step/time axes
            self.store.log_epoch(self.run_id, epoch, {
                **logs, "step": float(run.step), "elapsed": time.perf_counter() - self._started,
            })

    def on_event(self, run, event):
        if self.run_id is None:
            return
        if isinstance(event, LRChanged):
            self.store.log_event(self.run_id, "lr_changed", event.epoch, event.step,
                                 {"lr": event.lr, "previous": event.previous})
        elif isinstance(event, CheckpointSaved):
            key = (f"checkpoint_{event.kind}", event.path)
            if key not in self._artifacts:
                self._artifacts.add(key)
                self.store.add_artifact(self.run_id, *key)
        else:
            self.store.log_event(self.run_id, type(event).__name__.lower(),
                                 getattr(event, "epoch", 0), getattr(event, "step", 0), {})

    def on_run_end(self, run, event):
        if self.run_id is None:  # failed before it started: still recorded, so it is never lost
            self._create(run)
        if isinstance(event, RunFinished):
            status, message, duration = "finished", event.reason, event.duration
        elif isinstance(event, RunStopped):
            status, message, duration = "stopped", event.reason, event.duration
        else:
            assert isinstance(event, RunFailed)
            status, message, duration = "failed", event.message, 0.0
        metrics = dict(getattr(event, "metrics", {}) or {})
        if getattr(event, "best_epoch", None) is not None:
            metrics["best_epoch"] = float(event.best_epoch)
        self.store.finish_run(self.run_id, status, metrics, duration, message)
