"""RunRecorder: the one way a run gets into the run store, whoever trains it (the CLI, the app's
child process, a sweep worker)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from workbench.core.runs.health import alert_row, sample_row
from workbench.core.runs.lineage import run_folder
from workbench.core.spec import experiment_name
from workbench.core.runs.store import RunStore
from workbench.core.training import (
    ArtifactSaved,
    Callback,
    CheckpointSaved,
    EvaluationSnapshot,
    HealthAlert,
    HealthSample,
    LRChanged,
    RunFailed,
    RunFinished,
    RunStopped,
    TerminalEvent,
)

if TYPE_CHECKING:
    from workbench.core.spec import ExperimentSpec

__all__ = ["RunRecorder", "finish_record"]


def _unclaimed(folder: Path, store_path: str | os.PathLike) -> Path:
    """`folder`, or runs/<id>-<store name>[-n]/ when it already holds files: two run stores in one
    folder both have a run 1, and the second must not write over the first one's checkpoints."""
    candidate, n = folder, 1
    while candidate.is_dir() and any(candidate.iterdir()):
        n += 1
        candidate = folder.with_name(f"{folder.name}-{Path(store_path).stem}" + (f"-{n - 1}" if n > 2 else ""))
    return candidate


class RunRecorder(Callback):
    """Writes one run into a RunStore as it goes. `RunRecorder.begin` records the run first (status
    running, owned by this process) and gives it its folder; the trainer then calls the hooks:
    device, task and parameter count at the start, every epoch committed when it ends (with its
    step and elapsed time), LR changes, pauses, checkpoints and health alerts as they happen, the
    health monitor's samples a batch at a time (each epoch's with the epoch), status and final
    metrics at the end. A killed process loses at most the epoch in progress."""

    def __init__(self, store: RunStore, run_id: int, run_dir: str | os.PathLike) -> None:
        self.store = store
        self.run_id = run_id
        self.run_dir = Path(run_dir)
        self.ended = False
        self.named = True  # the caller chose the run's name (begin: only when it was given one)
        self._artifacts: set[tuple[str, str]] = set()
        self._health: list[tuple[str, int, int, dict]] = []
        self._started = time.perf_counter()

    @classmethod
    def begin(cls, store: RunStore, spec: "ExperimentSpec", *, run_dir: str | os.PathLike | None = None,
              name: str | None = None, parent_id: int | None = None, sweep_id: int | str | None = None,
              tags: Sequence[str] = ()) -> "RunRecorder":
        """Record a new run of `spec` now and return its recorder. Its folder is runs/<id>/ beside
        the store (every run: CLI, app, sweep trial), or `run_dir` when one is given. Without a
        `name` the run is named after the experiment (its data and model, see naming.py), and
        again once its data is loaded (an "auto" output width is known then)."""
        run_id = store.create_run(spec, name=name or experiment_name(spec), parent_id=parent_id,
                                  sweep_id=sweep_id, tags=tuple(tags), device=spec.train.device)
        folder = Path(run_dir).expanduser().resolve() if run_dir else _unclaimed(run_folder(store.path, run_id),
                                                                                 store.path)
        store.update_run(run_id, run_dir=folder)
        recorder = cls(store, run_id, folder)
        recorder.named = bool(name)
        return recorder

    def on_run_start(self, run, event):
        self._started = time.perf_counter()
        fields: dict[str, Any] = {"device": event.device, "task": event.task, "total_params": event.total_params}
        if not self.named:
            fields["name"] = experiment_name(run.spec, run.meta)
        self.store.update_run(self.run_id, **fields)
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
        if meta is None or self.store.events(self.run_id, kinds=("data",)):
            return
        source = str(meta.source)
        if not source.startswith("sample:"):
            source = str(Path(source).expanduser().resolve())
        self.store.log_event(self.run_id, "data", 0, 0, {"source": source, "notes": list(meta.notes or [])})

    def _flush_health(self) -> None:
        rows, self._health = self._health, []
        if rows:
            self.store.log_events(self.run_id, rows)

    def on_epoch_end(self, run, epoch, logs):
        self._flush_health()
        # step and elapsed let overlays of past runs share the live plot's step/time axes
        self.store.log_epoch(self.run_id, epoch, {
            **logs, "step": float(run.step), "elapsed": time.perf_counter() - self._started,
        })

    def on_event(self, run, event):
        if isinstance(event, HealthSample):
            self._health.append(sample_row(event))
        elif isinstance(event, HealthAlert):
            self.store.log_events(self.run_id, [alert_row(event)])
        elif isinstance(event, LRChanged):
            self.store.log_event(self.run_id, "lr_changed", event.epoch, event.step,
                                 {"lr": event.lr, "previous": event.previous})
        elif isinstance(event, (CheckpointSaved, ArtifactSaved)):
            kind = f"checkpoint_{event.kind}" if isinstance(event, CheckpointSaved) else event.kind
            key = (kind, event.path)
            if key not in self._artifacts:
                self._artifacts.add(key)
                self.store.add_artifact(self.run_id, *key)
        elif isinstance(event, EvaluationSnapshot):
            pass  # a live view; its file is recorded by ArtifactSaved
        else:
            self.store.log_event(self.run_id, type(event).__name__.lower(),
                                 getattr(event, "epoch", 0), getattr(event, "step", 0), {})

    def on_run_end(self, run, event):
        self.end(event)

    def end(self, event: TerminalEvent) -> None:
        """Write the run's outcome, once. The trainer does it through on_run_end; a caller whose
        train function ended without that (it raised, or is not the trainer) calls it itself."""
        if not self.ended:
            self.ended = True
            self._flush_health()
            finish_record(self.store, self.run_id, event)


def finish_record(store: RunStore, run_id: int, event: TerminalEvent) -> None:
    """Write a terminal event into run `run_id`'s record: status, final metrics (and the best
    epoch when early stopping restored it), duration and message."""
    if isinstance(event, RunFinished):
        status, message, duration = "finished", event.reason, event.duration
    elif isinstance(event, RunStopped):
        status, message, duration = "stopped", event.reason, event.duration
    else:
        assert isinstance(event, RunFailed)
        status, message, duration = "failed", event.message, 0.0
    metrics: dict[str, Any] = dict(getattr(event, "metrics", {}) or {})
    if getattr(event, "best_epoch", None) is not None:
        metrics["best_epoch"] = float(event.best_epoch)
    store.finish_run(run_id, status, metrics, duration, message)
