"""The parent side of the protocol (see protocol.py): a spawned training child (ChildProcess) and
the parent's watch over one job in it (JobWatch). Used by ProcessRun, WarmPool and WorkerPool.

Children are spawned ('spawn' start method: torch is imported fresh and nothing is shared by
fork). The parent never blocks on a dead child. A child's stderr (file descriptor 2, so native
libraries' messages too) goes through a third pipe; a daemon thread passes it on to the parent's
own stderr and keeps its last `STDERR_TAIL_BYTES`. When a child dies in the middle of a job (a
crash, os._exit, the OOM killer, a kill), JobWatch makes the job's terminal event: RunStopped
when the job had been asked to stop and had to be killed, else a RunFailed whose message ends
with the telling line of that tail and whose details hold all of it (the child enables
faulthandler, so a native crash leaves a Python traceback there), and writes it into the run's
record, so the run store says what happened.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time

from workbench.core.execution.child import ChildOptions, child_main
from workbench.core.execution.protocol import QUIT, Job
from workbench.core.runs import RunStore, finish_record
from workbench.core.training import Event, RunFailed, RunRecorded, RunStopped, TerminalEvent

__all__ = ["ChildProcess", "JobWatch", "STDERR_TAIL_BYTES"]

_CTX = mp.get_context("spawn")
STDERR_TAIL_BYTES = 16 * 1024  # how much of a child's last stderr output is kept for RunFailed
_TELLING = ("Error", "error", "Fatal", "Exception", "Killed", "Aborted", "memory", "Segmentation")


class _StderrTail:
    """Reads a child's stderr pipe on a daemon thread: passes it on to our stderr and keeps the
    last `limit` bytes. Never raises; ends at EOF (every copy of the write end closed)."""

    def __init__(self, conn, limit: int = STDERR_TAIL_BYTES) -> None:
        self._conn = conn
        self._limit = limit
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, name="workbench-run-stderr", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        import sys

        fd = self._conn.fileno()
        try:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except InterruptedError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                with self._lock:
                    self._buf += chunk
                    if len(self._buf) > self._limit:
                        del self._buf[: len(self._buf) - self._limit]
                try:  # the person at a terminal still sees the child's warnings
                    out = sys.stderr
                    if out is not None:
                        out.write(chunk.decode("utf-8", "replace"))
                        out.flush()
                except Exception:  # noqa: BLE001 — a closed or odd stderr must not end the reader
                    pass
        finally:
            try:
                self._conn.close()
            except OSError:
                pass

    def text(self, wait: float = 0.0) -> str:
        """The kept tail; waits up to `wait` seconds for the pipe to reach EOF first."""
        if wait > 0:
            self._thread.join(wait)
        with self._lock:
            data = bytes(self._buf)
        text = data.decode("utf-8", "replace")
        if len(data) >= self._limit and "\n" in text:
            text = text.split("\n", 1)[1]  # drop the partial first line
        return text


def _telling_line(text: str) -> str:
    """The line of a stderr tail that best says what went wrong: the last one that names an
    error, else the last non-empty one."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    line = next((ln for ln in reversed(lines) if any(w in ln for w in _TELLING)), lines[-1] if lines else "")
    return line if len(line) <= 300 else line[:297] + "..."


class ChildProcess:
    """A spawned training child (child.child_main), its two message pipes and its stderr pipe."""

    def __init__(self, options: ChildOptions = ChildOptions(), name: str = "workbench-run") -> None:
        job_r, self._job_w = _CTX.Pipe(duplex=False)
        self.connection, event_w = _CTX.Pipe(duplex=False)  # what the child sends; wait() on it
        stderr_r, stderr_w = _CTX.Pipe(duplex=False)  # used as raw byte pipes (fileno only)
        self.process = _CTX.Process(target=child_main, args=(job_r, event_w, stderr_w, options), name=name,
                                    daemon=True)
        self.process.start()
        # the child owns these ends now; closing ours lets EOF show when it dies
        job_r.close()
        event_w.close()
        stderr_w.close()
        self.stderr = _StderrTail(stderr_r)
        self.ready = False  # the child said "ready" (its train target is imported)

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def sentinel(self) -> int:
        return self.process.sentinel

    def alive(self) -> bool:
        return self.process.is_alive()

    def send(self, msg: tuple) -> bool:
        """Send a message; False when the child is gone (its death shows in alive())."""
        try:
            self._job_w.send(msg)
            return True
        except (OSError, ValueError):
            return False

    def messages(self, timeout: float = 0.0) -> list[tuple]:
        """The event messages that arrived (all that are waiting), after waiting up to `timeout`
        seconds for the first; "ready" is noted here and not returned."""
        out: list[tuple] = []
        try:
            if not self.connection.poll(timeout):
                return out
            while True:
                msg = self.connection.recv()
                if msg[0] == "ready":
                    self.ready = True
                else:
                    out.append(msg)
                if not self.connection.poll(0):
                    return out
        except (EOFError, OSError):
            return out  # the child is gone; the caller sees it in alive()

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for "ready" from a child that has no job yet."""
        end = time.perf_counter() + timeout
        while not self.ready and self.alive() and time.perf_counter() < end:
            self.messages(min(0.1, max(0.0, end - time.perf_counter())))
        return self.ready

    def exitcode(self, wait: float = 5.0) -> int | None:
        if self.process.exitcode is None and wait > 0:
            self.process.join(wait)
        return self.process.exitcode

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.join(5)

    def close(self, timeout: float = 0.0) -> None:
        """Ask the child to quit, give it `timeout` seconds, then kill it; release the pipes."""
        if self.alive():
            self.send(QUIT)
            if timeout > 0:
                self.process.join(timeout)
        self.kill()
        for conn in (self._job_w, self.connection):
            try:
                conn.close()
            except OSError:
                pass


class JobWatch:
    """The parent's view of one job in a child: the run it was recorded as, whether it was asked
    to stop, and its terminal event (from the child, or made here when the child died)."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.run_id: int | None = None
        self.run_dir: str | None = None
        self.terminal: TerminalEvent | None = None
        self.stop_requested = False
        self.killed_after_stop = False
        self.started = time.perf_counter()

    def observe(self, event: Event) -> None:
        if isinstance(event, RunRecorded):
            self.run_id, self.run_dir = event.run_id, event.run_dir
        elif isinstance(event, TerminalEvent):
            self.terminal = event

    def child_died(self, child: ChildProcess) -> TerminalEvent:
        """The job's terminal event when its child ended without sending one; written into the
        run's record too (the child could not)."""
        code = child.exitcode()
        if self.stop_requested and (self.killed_after_stop or (code is not None and code < 0)):
            event: TerminalEvent = RunStopped(
                epochs=0, metrics={}, duration=time.perf_counter() - self.started,
                reason="stopped (the training process did not stop in time and was ended)")
        else:
            event = _death_failure(code, child.stderr.text(wait=1.0).rstrip())
        self.terminal = event
        self._record(event)
        return event

    def _record(self, event: TerminalEvent) -> None:
        if self.job.store_path is None or self.run_id is None:
            return
        try:
            store = RunStore(self.job.store_path)
            try:
                finish_record(store, self.run_id, event)
            finally:
                store.close()
        except Exception:  # noqa: BLE001 - the store is a record; the caller still gets the event
            pass


def _death_failure(code: int | None, tail: str) -> RunFailed:
    why = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    hint = (" This usually means the computer ran out of memory; try a smaller batch size or model."
            if code in (-9, 137) else
            " This can happen when a native library crashes or memory runs out; try a smaller batch "
            "size or model, or the CPU device.")
    message = f"The training process ended unexpectedly ({why}).{hint}"
    last = _telling_line(tail)
    if last:
        message += f" Its last error output: {last}"
    details = (f"Last error output of the training process (stderr):\n{tail}\n" if tail
               else "The training process wrote nothing to stderr before it ended.\n")
    return RunFailed(message=message, details=details)
