"""Running training in child processes, with one protocol (protocol.py: jobs and control in,
events out) and one child main loop (child.py) for single runs (ProcessRun, with a warm spare in
WarmPool) and for the long-lived sweep workers of a WorkerPool. Training never shares the GUI's
interpreter lock, and a crash in a run cannot take the caller down.

`recorded_run` is how every run is trained and recorded, in a child or not (the CLI trains in
its own process): the record first, in runs/<id>/ beside the store, then the trainer's events."""

from workbench.core.execution.job import recorded_run
from workbench.core.execution.protocol import DEFAULT_TRAIN, Job
from workbench.core.execution.runner import STOP_GRACE_SECONDS, ProcessRun, WarmPool
from workbench.core.execution.worker_pool import JobEvent, WorkerPool, WorkerStartError, default_parallel

__all__ = ["ProcessRun", "WarmPool", "STOP_GRACE_SECONDS", "WorkerPool", "JobEvent", "Job", "WorkerStartError",
           "default_parallel", "DEFAULT_TRAIN", "recorded_run"]
