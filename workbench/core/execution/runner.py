"""One training run in a child process (ProcessRun), with a warm spare ready (WarmPool); Qt-free,
used by the app (gui/worker.py) and the tests.

    run = ProcessRun(spec, base_dir=..., store_path=...)
    run.start()
    while not run.finished:
        for event in run.events(timeout=0.05):
            ...
    run.pause(); run.resume(); run.set_lr(1e-3); run.stop()

Why a process: training never shares the GUI's interpreter lock, a crash in native code cannot
take the window down, and the GPU memory of a run is freed when its process ends (one child per
run; WarmPool spawns the next child ahead of time so a click starts training at once).

The run speaks the one protocol of protocol.py. When it is recorded (a store path), the child
records it (RunRecorder) and RunRecorded is its first event: `run_id` and `run_dir` tell the
caller where. If the child dies without a terminal event, the run ends with the one JobWatch
makes (process.py): RunStopped when it was asked to stop and had to be killed, else a RunFailed
that quotes the child's last error output; the record says the same.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from workbench.core.execution.child import ChildOptions
from workbench.core.execution.process import ChildProcess, JobWatch
from workbench.core.execution.protocol import DEFAULT_TRAIN, Job, control_message, job_message
from workbench.core.training import Event, TerminalEvent

__all__ = ["ProcessRun", "WarmPool", "STOP_GRACE_SECONDS"]

STOP_GRACE_SECONDS = 10.0
_job_ids = itertools.count(1)


class ProcessRun:
    """One training run in a child process. See the module doc.

    `train_target` ("package.module:function" or "/path/file.py:function") replaces the trainer
    by a function with its signature (tests use scripted ones); `child` is a ChildProcess already
    spawned (WarmPool's spare)."""

    def __init__(self, spec, base_dir: str | os.PathLike | None = None, run_dir: str | os.PathLike | None = None,
                 store_path: str | os.PathLike | None = None, *, resume_from: str | os.PathLike | None = None,
                 progress_interval: float = 0.25, threads: int | None = None, name: str | None = None,
                 parent_id: int | None = None, sweep_id: str | None = None, tags: tuple[str, ...] = (),
                 train_target: str = DEFAULT_TRAIN, pause_on_divergence: bool = False,
                 child: ChildProcess | None = None) -> None:
        self.spec = spec

        def text(path) -> str | None:
            return str(path) if path is not None else None

        self.job = Job(
            next(_job_ids), spec.to_dict() if hasattr(spec, "to_dict") else spec, base_dir=text(base_dir),
            store_path=text(store_path), run_dir=text(run_dir), resume_from=text(resume_from), name=name,
            parent_id=parent_id, sweep_id=sweep_id, tags=tuple(tags), progress_interval=progress_interval,
            threads=threads, train_target=train_target, pause_on_divergence=pause_on_divergence)
        self._child = child
        self._watch = JobWatch(self.job)
        self.on_end: Callable[[], None] | None = None  # called once when the terminal event arrives
        self._stop_deadline: float | None = None
        self.started_at: float | None = None

    # ---- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.started_at is not None:
            raise RuntimeError("this run was already started")
        if self._child is None or not self._child.alive():
            self._child = ChildProcess(ChildOptions(warm_target=self.job.train_target, max_jobs=1))
        self.started_at = time.perf_counter()
        self._watch = JobWatch(self.job)
        self._child.send(job_message(self.job))  # a child that died already shows in events()

    @property
    def finished(self) -> bool:
        return self._watch.terminal is not None

    @property
    def terminal(self) -> TerminalEvent | None:
        return self._watch.terminal

    @property
    def run_id(self) -> int | None:
        """The run's id in the run store, once RunRecorded arrived (None when not recorded)."""
        return self._watch.run_id

    @property
    def run_dir(self) -> str | None:
        """The run's folder (checkpoints), once RunRecorded arrived."""
        return self._watch.run_dir

    @property
    def exitcode(self) -> int | None:
        """The child's exit code; after the terminal event this waits (≤ 5 s) for the exit."""
        if self._child is None:
            return None
        return self._child.exitcode(wait=5.0 if self.finished else 0.0)

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def events(self, timeout: float | None = 0.0) -> list[Event]:
        """Everything that arrived; waits up to `timeout` seconds (None: until something comes)
        for the first. Never blocks on a dead child."""
        if self.finished or self._child is None:
            return []
        out: list[Event] = []
        deadline = None if timeout is None else time.perf_counter() + max(0.0, timeout)
        while True:
            wait = 0.0 if out else (0.1 if deadline is None else max(0.0, deadline - time.perf_counter()))
            alive = self._child.alive()  # looked at before reading, so nothing sent before death is missed
            for _, job_id, event, _sent_at in self._child.messages(min(wait, 0.1)):
                if job_id != self.job.job_id:
                    continue
                self._watch.observe(event)
                out.append(event)
                if self.finished:
                    # no join here: the child exits by itself right after its last event, and a
                    # caller on a GUI thread must not wait for that
                    self._ended()
                    return out
            if not alive:
                out.append(self._watch.child_died(self._child))
                self._ended()
                return out
            if self._stop_deadline is not None and time.perf_counter() > self._stop_deadline:
                self._watch.killed_after_stop = True
                self.kill()
                continue
            if out or (deadline is not None and time.perf_counter() >= deadline):
                return out

    def _ended(self) -> None:
        callback, self.on_end = self.on_end, None
        if callback is not None:
            try:
                callback()
            except Exception:  # noqa: BLE001 - a bookkeeping hook must never break event delivery
                pass

    def wait(self, timeout: float | None = None) -> TerminalEvent | None:
        """Drain until the terminal event (or timeout); returns it (None on timeout).
        Events read here are dropped: use events() to see them."""
        end = None if timeout is None else time.perf_counter() + timeout
        while not self.finished:
            left = None if end is None else end - time.perf_counter()
            if left is not None and left <= 0:
                return None
            self.events(timeout=0.1 if left is None else min(0.1, left))
        if self._child is not None:
            self._child.exitcode(wait=5.0)
        return self.terminal

    # ---- control --------------------------------------------------------------------------------
    def _send(self, command: str, value: Any = None) -> None:
        if self._child is not None and not self.finished:
            self._child.send(control_message(self.job.job_id, command, value))

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def set_lr(self, lr: float) -> None:
        if not (lr > 0):
            raise ValueError(f"learning rate must be > 0 (got {lr!r})")
        self._send("set_lr", float(lr))

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Ask politely; events() kills the child if it has not ended `grace` seconds later."""
        self._watch.stop_requested = True
        self._send("stop")
        if self._stop_deadline is None:
            self._stop_deadline = time.perf_counter() + grace

    def kill(self) -> None:
        if self._child is not None:
            self._child.kill()

    def close(self) -> None:
        """Release the pipes; a child still running is killed. After the terminal event the
        child is given a moment to exit by itself (it is only tidying up)."""
        if self._child is not None:
            if self.finished and self._child.alive():
                self._child.exitcode(wait=10.0)
            self._child.close()


class WarmPool:
    """Keeps one spawned child, torch already imported, waiting for a job.

    `start_run(spec, ...)` hands the job to the spare (or spawns one if none is alive) and
    spawns the next spare; the new spare waits `warm_delay` seconds before importing torch so it
    does not slow the run that is starting. On a machine with two cores or fewer the next spare
    is spawned only when the run ends: its torch import would otherwise take the core the GUI
    needs while the run trains on the other (measured: timer lag p99 73 ms with it, see
    benchmarks/gui_latency.py). One child per run: GPU memory goes with the process.
    """

    def __init__(self, warm_delay: float = 2.0, prespawn: bool = True,
                 defer_spare: bool | None = None) -> None:
        self.warm_delay = warm_delay
        self.defer_spare = (os.cpu_count() or 1) <= 2 if defer_spare is None else defer_spare
        self._closed = False
        self._spare: ChildProcess | None = None
        self._lock = threading.Lock()
        if prespawn:
            self._spare = self._spawn(0.0)

    @staticmethod
    def _spawn(delay: float) -> ChildProcess:
        return ChildProcess(ChildOptions(warm_delay=delay, max_jobs=1))

    def _take_spare(self) -> ChildProcess | None:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None and not spare.alive():
            spare.close()
            spare = None
        return spare

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until the spare child has imported torch (for tests and measurements)."""
        spare = self._spare
        return spare is not None and spare.wait_ready(timeout)

    def start_run(self, spec, **kwargs) -> ProcessRun:
        run = ProcessRun(spec, child=self._take_spare(), **kwargs)
        run.start()
        if self.defer_spare:
            run.on_end = lambda: self._replenish(0.0)
        else:
            self._replenish(self.warm_delay)
        return run

    def _replenish(self, delay: float) -> None:
        with self._lock:
            if self._spare is None and not self._closed:
                self._spare = self._spawn(delay)

    def close(self) -> None:
        self._closed = True
        spare = self._take_spare()
        if spare is not None:
            spare.close()

    def __enter__(self) -> "WarmPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
