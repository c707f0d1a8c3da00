"""Running one job: `recorded_run` (train with the run recorded, the same for the CLI, the app and
sweep workers) and `run_job` (what a child process does with a Job it was sent).

A child keeps `JobResources` between jobs: the train functions it imported, the run stores it
opened, and (sweep workers) the prepared data of the last data spec, so trials that share their
data load and split it once per worker.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from workbench.core.evaluation import GRID
from workbench.core.execution.protocol import DEFAULT_TRAIN, Job
from workbench.core.runs import RunRecorder, RunStore
from workbench.core.training import Callback, Event, RunFailed, RunRecorded, TerminalEvent, TrainControl

__all__ = ["recorded_run", "run_job", "JobResources", "import_target"]


def recorded_run(spec, *, store: RunStore | None = None, train_fn: Callable[..., Iterator[Event]] | None = None,
                 run_dir=None, name: str | None = None, parent_id: int | None = None, sweep_id: str | None = None,
                 tags: Sequence[str] = (), callbacks: Sequence[Callback] = (), evaluate: bool | None = None,
                 **train_kwargs: Any) -> Iterator[Event]:
    """`train(spec, ...)` with the run recorded in `store` (when one is given) by a RunRecorder.

    The record comes first: RunRecorded (the run's id and folder) is the first event. The folder
    is runs/<id>/ beside the store unless `run_dir` is given. Exactly one terminal event ends the
    stream, and the record gets it, even when the train function raises or stops without one.
    `train_fn` has train()'s signature (default: the trainer); `train_kwargs` go to it. `evaluate`
    (default: when the trainer is used) adds an EvaluationRecorder unless `callbacks` has one."""
    callbacks = list(callbacks)
    if evaluate is None:
        evaluate = train_fn is None
    if train_fn is None:
        from workbench.core.training import train as train_fn
    if evaluate:
        from workbench.core.evaluation import EvaluationRecorder  # loads torch: the trainer is about to run

        if not any(isinstance(cb, EvaluationRecorder) for cb in callbacks):
            # predictions and preprocessing kept with the run; a live boundary grid only for a run
            # someone watches (not a sweep trial)
            callbacks.append(EvaluationRecorder(grid=0 if sweep_id is not None else GRID))
    recorder = None
    if store is not None:
        recorder = RunRecorder.begin(store, spec, run_dir=run_dir, name=name, parent_id=parent_id,
                                     sweep_id=sweep_id, tags=tags)
        run_dir = recorder.run_dir
        callbacks.append(recorder)
        yield RunRecorded(recorder.run_id, str(run_dir))
    terminal: TerminalEvent | None = None
    events = None
    try:
        events = train_fn(spec, callbacks=callbacks, run_dir=run_dir, **train_kwargs)
        for event in events:
            if isinstance(event, TerminalEvent):
                terminal = event
                break
            yield event
    except Exception as exc:  # noqa: BLE001 - a train function that raises ends the run, never the caller
        terminal = RunFailed(message=f"{type(exc).__name__}: {exc}", details=traceback.format_exc())
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # a consumer that stops early still ends the trainer (it records the run as stopped)
    if terminal is None:
        terminal = RunFailed(message="the training ended without a final event")
    if recorder is not None and not recorder.ended:
        try:
            recorder.end(terminal)
        except Exception:  # noqa: BLE001 - the record is a record; the outcome still reaches the caller
            pass
    yield terminal


def import_target(target: str) -> Callable[..., Iterator[Event]]:
    """A train function by name: "package.module:function", or "/path/to/file.py:function" (a
    scripted trainer in tests)."""
    module, _, name = target.rpartition(":")
    if module.endswith(".py"):
        mod_name = f"workbench_train_target_{abs(hash(module))}"
        if mod_name not in sys.modules:
            spec = importlib.util.spec_from_file_location(mod_name, module)
            loaded = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(loaded)
            sys.modules[mod_name] = loaded
        return getattr(sys.modules[mod_name], name)
    return getattr(importlib.import_module(module), name)


class JobResources:
    """What a child keeps between its jobs (see the module doc)."""

    def __init__(self, *, threads: int | None = None, keep_data: bool = False) -> None:
        self.threads = threads
        self.keep_data = keep_data
        self._targets: dict[str, Callable] = {}
        self._stores: dict[str, RunStore] = {}
        self._data: dict[str, Any] = {}

    def target(self, name: str) -> Callable[..., Iterator[Event]]:
        if name not in self._targets:
            self._targets[name] = import_target(name)
        return self._targets[name]

    def warm(self, name: str) -> None:
        """Import a train target before any job, with torch's slow first steps when it uses torch."""
        try:
            self.target(name)
        except Exception:  # noqa: BLE001 - the job that needs it reports the problem as a RunFailed
            return
        if "torch" in sys.modules:  # only when the target brought it: a scripted one never pays for it
            import torch

            if self.threads:
                torch.set_num_threads(self.threads)
            # The first optimizer a process builds imports torch._dynamo (seconds): do it now.
            torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)

    def store(self, path: str) -> RunStore:
        if path not in self._stores:
            self._stores[path] = RunStore(path)
        return self._stores[path]

    def prepared_data(self, spec, job: Job) -> Any:
        """The job's data, loaded and split once for every job that shares its data spec (only
        when kept, and only for the real trainer); None: let the trainer load it."""
        if not self.keep_data or job.train_target != DEFAULT_TRAIN:
            return None
        key = spec.data.model_dump_json() + "|" + str(job.base_dir)
        if key not in self._data:
            try:
                from workbench.core.data import load_dataset, prepare

                self._data.clear()  # one dataset at a time: a sweep rarely varies the data
                self._data[key] = prepare(load_dataset(spec.data, job.base_dir), spec.data)
            except Exception:  # noqa: BLE001 - the trainer reports the data problem as a RunFailed
                return None
        return self._data[key]

    def close(self) -> None:
        for store in self._stores.values():
            try:
                store.close()
            except Exception:  # noqa: BLE001 - closing at exit
                pass
        self._stores.clear()


def run_job(job: Job, control: TrainControl, emit: Callable[[Event], None], resources: JobResources) -> None:
    """Run `job` in this (child) process, passing each event to `emit`; the last is terminal."""
    from workbench.core.spec import parse_spec

    try:
        spec = parse_spec(job.spec)
        train_fn = resources.target(job.train_target)
        store = resources.store(job.store_path) if job.store_path else None
    except Exception as exc:  # noqa: BLE001 - a bad spec or target fails this job only
        message = str(exc) if hasattr(exc, "problems") else f"{type(exc).__name__}: {exc}"
        emit(RunFailed(message=message, details=traceback.format_exc()))
        return
    kwargs: dict[str, Any] = {"base_dir": job.base_dir, "control": control, "resume_from": job.resume_from,
                              "progress_interval": job.progress_interval}
    threads = job.threads or resources.threads
    if threads:
        kwargs["threads"] = threads
    if job.pause_on_divergence:  # (only then: a scripted train_target need not know the option)
        kwargs["pause_on_divergence"] = True
    data = resources.prepared_data(spec, job)
    if data is not None:
        kwargs["data"] = data
    for event in recorded_run(spec, store=store, train_fn=train_fn, run_dir=job.run_dir, name=job.name,
                              parent_id=job.parent_id, sweep_id=job.sweep_id, tags=job.tags,
                              evaluate=job.train_target == DEFAULT_TRAIN, **kwargs):
        emit(event)
