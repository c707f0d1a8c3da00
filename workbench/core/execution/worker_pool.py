"""Parallel executor for sweep trials: a pool of long-lived worker processes.

Each worker is a training child (child.py) that stays alive for job after job, so torch is
imported once per worker, not once per trial (on this 2-core machine an import costs ~1.5 s,
longer than a small trial). It speaks the one protocol of protocol.py: the pool sends jobs and
control (stop a pruned trial, pause, resume), the worker runs each job as any run is run
(recorded by RunRecorder in its own folder, sweep_id set) and streams every event back; the
pool hands them to the sweep loop as JobEvents (job id, event, the worker's send time).

A worker that dies mid-job ends only that job: the pool gives it its terminal event (JobWatch:
RunFailed with the worker's last error output, or RunStopped if it was being stopped), records
it, and starts a replacement. A job whose worker died before it was ready is not the job's
fault: the replacement runs it again (after MAX_START_FAILURES such deaths in a row the pool
gives up with WorkerStartError). If the sweep process disappears (killed), each worker sees its
pipe close, stops its run and exits: no orphans keep training and the store keeps every epoch
already committed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import NamedTuple

from workbench.core.execution.child import ChildOptions
from workbench.core.execution.process import ChildProcess, JobWatch
from workbench.core.execution.protocol import DEFAULT_TRAIN, Job, control_message, job_message
from workbench.core.training import Event

__all__ = ["WorkerPool", "JobEvent", "WorkerStartError", "default_parallel"]


def default_parallel() -> int:
    """cores − 1, at least 1."""
    return max(1, (os.cpu_count() or 2) - 1)


class JobEvent(NamedTuple):
    job_id: int
    event: Event
    sent_at: float  # the worker's wall clock (time.time()) when it sent the event


class WorkerStartError(RuntimeError):
    """Worker processes die before they are ready (a broken install, no memory)."""


@dataclass
class _Worker:
    index: int
    child: ChildProcess
    watch: JobWatch | None = None  # the job it runs


class WorkerPool:
    """N worker processes. Qt-free; poll() from one thread (the sweep loop)."""

    MAX_START_FAILURES = 3

    def __init__(self, n: int, *, train_target: str = DEFAULT_TRAIN, threads: int | None = None) -> None:
        self.n = max(1, int(n))
        self.train_target = train_target
        cores = os.cpu_count() or 1
        self.threads = threads if threads is not None else max(1, cores // self.n)
        self._workers: list[_Worker] = []
        self._paused = False
        self._start_failures = 0

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        for i in range(self.n):
            self._workers.append(self._spawn(i))

    def _spawn(self, index: int) -> _Worker:
        options = ChildOptions(warm_target=self.train_target, threads=self.threads,
                               keep_data=self.train_target == DEFAULT_TRAIN)
        return _Worker(index, ChildProcess(options, name=f"workbench-sweep-worker-{index}"))

    def close(self, timeout: float = 5.0) -> None:
        """Ask every worker to quit (stopping its run); kill those that do not in time."""
        for w in self._workers:
            w.child.send(("quit",))
        deadline = time.monotonic() + timeout
        for w in self._workers:
            w.child.close(max(0.0, deadline - time.monotonic()))
        self._workers = []

    # ---- jobs --------------------------------------------------------------------------------
    def idle(self) -> int:
        return sum(1 for w in self._workers if w.watch is None)

    def submit(self, job: Job) -> None:
        for w in self._workers:
            if w.watch is None:
                self._give(w, JobWatch(job))
                return
        raise RuntimeError("no idle worker")

    def _give(self, w: _Worker, watch: JobWatch) -> None:
        w.watch = watch
        w.child.send(job_message(watch.job))
        if self._paused:
            w.child.send(control_message(watch.job.job_id, "pause"))

    def _worker_of(self, job_id: int) -> _Worker | None:
        return next((w for w in self._workers if w.watch is not None and w.watch.job.job_id == job_id), None)

    def stop_job(self, job_id: int) -> None:
        w = self._worker_of(job_id)
        if w is not None and not w.watch.stop_requested:
            w.watch.stop_requested = True
            w.child.send(control_message(job_id, "stop"))

    def kill_job(self, job_id: int) -> None:
        """A job that does not stop when asked: kill its worker (poll() ends the job)."""
        w = self._worker_of(job_id)
        if w is not None and w.child.alive():
            w.watch.killed_after_stop = w.watch.stop_requested
            w.child.process.kill()

    def pause(self) -> None:
        self._paused = True
        self._control_all("pause")

    def resume(self) -> None:
        self._paused = False
        self._control_all("resume")

    def _control_all(self, command: str) -> None:
        for w in self._workers:
            if w.watch is not None:
                w.child.send(control_message(w.watch.job.job_id, command))

    # ---- results -----------------------------------------------------------------------------
    def poll(self, timeout: float) -> list[JobEvent]:
        """Events that arrived within `timeout` seconds (all that are waiting, in order per worker)."""
        by_conn = {w.child.connection: w for w in self._workers}
        by_sentinel = {w.child.sentinel: w for w in self._workers}
        ready = wait(list(by_conn) + list(by_sentinel), timeout)
        out: list[JobEvent] = []
        for obj in ready:
            if obj in by_conn:
                self._drain(by_conn[obj], out)
        for obj in ready:
            if obj in by_sentinel:
                self._worker_died(by_sentinel[obj], out)
        return out

    def _drain(self, w: _Worker, out: list[JobEvent]) -> None:
        for _, job_id, event, sent_at in w.child.messages(0):
            watch = w.watch
            if watch is None or watch.job.job_id != job_id:
                continue
            watch.observe(event)
            out.append(JobEvent(job_id, event, sent_at))
            if watch.terminal is not None:
                w.watch = None

    def _worker_died(self, w: _Worker, out: list[JobEvent]) -> None:
        self._drain(w, out)  # what it sent before dying
        code = w.child.exitcode(wait=1.0)
        if not w.child.ready:
            self._start_failures += 1
            if self._start_failures >= self.MAX_START_FAILURES:
                raise WorkerStartError(
                    f"sweep worker processes exit before they start (exit code {code}, "
                    f"{self._start_failures} times); their error output is above")
        else:
            self._start_failures = 0
        watch = w.watch
        if watch is not None and w.child.ready:
            out.append(JobEvent(watch.job.job_id, watch.child_died(w.child), time.time()))
            watch = None
        w.child.close()
        replacement = self._spawn(w.index)
        self._workers[self._workers.index(w)] = replacement
        if watch is not None:  # never started: not the job's fault, run it again
            self._give(replacement, watch)
