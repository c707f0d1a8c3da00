"""Running training in child processes: one run (ProcessRun, with a warm spare in WarmPool) and
a pool of long-lived sweep workers (WorkerPool). Training never shares the GUI's interpreter
lock, and a crash in a run cannot take the caller down."""

from workbench.core.execution.runner import STOP_GRACE_SECONDS, ProcessRun, WarmPool
from workbench.core.execution.worker_pool import DEFAULT_TRAIN, Job, WorkerPool, WorkerStartError, default_parallel

__all__ = ["ProcessRun", "WarmPool", "STOP_GRACE_SECONDS", "WorkerPool", "Job", "WorkerStartError",
           "default_parallel", "DEFAULT_TRAIN"]
