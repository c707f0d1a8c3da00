"""The child side of the protocol (see protocol.py): one main loop for every training child. A
single run's child takes one job and exits (its GPU memory goes with it); a sweep worker stays
alive for job after job, so torch is imported once per worker, not once per trial.

A reader thread takes everything the parent sends: a job is queued with its own TrainControl
(created on arrival, so a control message that follows the job at once is never lost), a
control message goes to that job's TrainControl.apply, "quit" or a closed pipe (the parent is
gone) stops every job and ends the loop: a run is never left training for nobody, and it is
recorded as stopped. The main thread runs the jobs and sends their events.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from dataclasses import dataclass

from workbench.core.execution.job import JobResources, run_job
from workbench.core.execution.protocol import DEFAULT_TRAIN, Job, event_message, ready_message
from workbench.core.training import TrainControl

__all__ = ["ChildOptions", "child_main"]


@dataclass(frozen=True)
class ChildOptions:
    """How a child process behaves, fixed when it is spawned."""

    warm_target: str = DEFAULT_TRAIN  # imported before "ready"
    warm_delay: float = 0.0  # seconds to wait for a job before those imports (a spare must not slow a
    #                          run that is starting on the same cores); a job arriving cuts it short
    max_jobs: int | None = None  # 1: a single run's child; None: a worker that serves until "quit"
    threads: int | None = None  # CPU threads for every job (sweep workers: cores / workers)
    keep_data: bool = False  # keep prepared data between jobs (sweep workers)


class _Inbox:
    """The reader thread's side: queued jobs and the TrainControl of each."""

    def __init__(self, conn) -> None:
        self._conn = conn
        self._jobs: queue.Queue[tuple[Job, TrainControl] | None] = queue.Queue()
        self._controls: dict[int, TrainControl] = {}
        self._lock = threading.Lock()
        self._arrived = threading.Event()
        threading.Thread(target=self._read, name="workbench-control", daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                msg = self._conn.recv()
            except (EOFError, OSError):
                msg = ("quit",)  # the parent is gone: stop (politely) rather than train on alone
            kind = msg[0]
            if kind == "job":
                job, control = msg[1], TrainControl()
                with self._lock:
                    self._controls[job.job_id] = control
                self._jobs.put((job, control))
            elif kind == "control":
                with self._lock:
                    control = self._controls.get(msg[1])
                if control is not None:
                    try:
                        control.apply(msg[2], msg[3])
                    except ValueError:
                        pass  # an unknown command or a bad value changes nothing
            elif kind == "quit":
                self.stop_all()
                self._jobs.put(None)
                self._arrived.set()
                return
            self._arrived.set()

    def wait(self, timeout: float) -> None:
        """Until a message arrives or `timeout` seconds pass."""
        if timeout > 0:
            self._arrived.wait(timeout)

    def next_job(self) -> tuple[Job, TrainControl] | None:
        return self._jobs.get()

    def done(self, job_id: int) -> None:
        with self._lock:
            self._controls.pop(job_id, None)

    def stop_all(self) -> None:
        with self._lock:
            controls = list(self._controls.values())
        for control in controls:
            control.stop()


class _Outbox:
    """Sends to the parent; once the pipe is broken (the parent is gone) it stops every job and
    sends nothing more."""

    def __init__(self, conn, inbox: _Inbox) -> None:
        self._conn = conn
        self._inbox = inbox
        self._lock = threading.Lock()
        self._broken = False

    def send(self, msg: tuple) -> None:
        if self._broken:
            return
        try:
            with self._lock:
                self._conn.send(msg)
        except (OSError, ValueError):
            self._broken = True
            self._inbox.stop_all()


def _send_stderr_to(conn) -> None:
    """Everything written to fd 2 (Python and native code) goes to the parent's reader thread."""
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    os.dup2(conn.fileno(), 2)
    conn.close()


def child_main(job_conn, event_conn, stderr_conn, options: ChildOptions) -> None:
    """Entry point of a spawned training child (see the module doc)."""
    import faulthandler
    import signal

    if stderr_conn is not None:
        _send_stderr_to(stderr_conn)
    faulthandler.enable()  # a native crash prints a Python traceback to fd 2 (-> the parent's RunFailed)
    # Ctrl-C in a terminal reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if options.threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(options.threads)
    inbox = _Inbox(job_conn)
    outbox = _Outbox(event_conn, inbox)
    resources = JobResources(threads=options.threads, keep_data=options.keep_data)
    inbox.wait(options.warm_delay)
    resources.warm(options.warm_target)
    outbox.send(ready_message(os.getpid()))
    done = 0
    try:
        while options.max_jobs is None or done < options.max_jobs:
            item = inbox.next_job()
            if item is None:
                break
            job, control = item
            run_job(job, control, lambda event: outbox.send(event_message(job.job_id, event)), resources)
            inbox.done(job.job_id)
            done += 1
    finally:
        resources.close()
    # Everything the jobs wrote is closed; skip the interpreter's teardown, which takes seconds
    # with torch loaded (measured 6 s on a busy 2-core machine) while the caller waits for the exit
    # and the GPU memory is held.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(0)
