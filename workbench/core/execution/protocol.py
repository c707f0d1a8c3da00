"""The one protocol between a parent and a training child process, for single runs (ProcessRun)
and sweep workers (WorkerPool) alike: jobs and control go in, events come out.

Two one-way pipes carry plain tuples (cheap to pickle; events are the trainer's own picklable
dataclasses):

  parent -> child
    ("job", Job)                           run this job (queued while another one runs)
    ("control", job_id, command, value)    pause | resume | stop | set_lr, applied to the job's
                                           TrainControl (TrainControl.apply, the one dispatch)
    ("quit",)                              stop the running job and exit
  child -> parent
    ("ready", pid)                         the child imported its train target; jobs start at once
    ("event", job_id, event, sent_at)      every event of a job, in order, with the child's wall
                                           clock (time.time()) when it was sent. A recorded job
                                           sends RunRecorded first; every job ends with exactly one
                                           terminal event (RunFinished | RunStopped | RunFailed)

A third pipe carries the child's stderr (see process.py). The child's side is child.py, the
parent's side process.py; runner.py (single runs) and worker_pool.py (sweeps) are built on them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from workbench.core.training import Event

__all__ = ["DEFAULT_TRAIN", "Job", "job_message", "control_message", "QUIT", "ready_message", "event_message"]

DEFAULT_TRAIN = "workbench.core.training:train"


@dataclass(frozen=True)
class Job:
    """One training run for a child process: the spec, where its data and record go, and who it
    is (name, parent, sweep, tags) in the run store."""

    job_id: int
    spec: dict[str, Any]  # ExperimentSpec.to_dict()
    base_dir: str | None = None  # relative data paths resolve against this folder
    store_path: str | None = None  # the run store; None: the run is not recorded
    run_dir: str | None = None  # the run's folder; None: runs/<run id>/ beside the store
    resume_from: str | None = None  # a checkpoint to continue from
    name: str | None = None
    parent_id: int | None = None
    sweep_id: str | None = None
    tags: tuple[str, ...] = ()
    progress_interval: float = 0.25
    threads: int | None = None  # CPU threads (else the child's, else the trainer's default)
    pause_on_divergence: bool = False  # a person is watching: NaN pauses at good weights (train())
    train_target: str = DEFAULT_TRAIN  # "package.module:function" or "/path/file.py:function"


QUIT = ("quit",)


def job_message(job: Job) -> tuple:
    return ("job", job)


def control_message(job_id: int, command: str, value: Any = None) -> tuple:
    return ("control", job_id, command, value)


def ready_message(pid: int) -> tuple:
    return ("ready", pid)


def event_message(job_id: int, event: Event) -> tuple:
    return ("event", job_id, event, time.time())
