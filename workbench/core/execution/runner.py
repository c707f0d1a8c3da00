"""Run `train()` in a child process (multiprocessing 'spawn'); Qt-free, used by GUI, CLI, sweeps.

    run = ProcessRun(spec, base_dir=..., run_dir=..., store_path=...)
    run.start()
    while not run.finished:
        for event in run.events(timeout=0.05):
            ...
    run.pause(); run.resume(); run.set_lr(1e-3); run.stop()

Why a process: training never shares the GUI's interpreter lock, a crash in native code cannot
take the window down, and the GPU memory of a run is freed when its process ends (one child
per run; WarmPool spawns the next child ahead of time so a click starts training at once).

Wire protocol (two one-way pipes):
  child -> parent: ("ready",) once torch is imported, then ("event", event.to_dict()) ...
  parent -> child: ("job", job_dict) once, then ("control", command, value) ...
A thread in the child reads control messages and applies them to a TrainControl.

If the child dies without a terminal event (a crash, os._exit, the OOM killer), the parent
synthesizes a RunFailed; if it was asked to stop and had to be killed, a RunStopped. The parent
never blocks on a dead child.

The child's stderr (file descriptor 2, so native libraries' messages too) goes into a third pipe;
a daemon thread in the parent passes it on to the parent's own stderr, as before, and keeps its
last `STDERR_TAIL_BYTES`. When the child dies, that tail is the synthesized RunFailed's details
(its last line also ends the message), so a person sees why. The child enables faulthandler, so
a native crash (a segfault in a library) leaves a Python traceback in that tail.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from typing import Any, Callable

from workbench.core.training import Event, RunFailed, RunStopped, TerminalEvent, event_from_dict

_CTX = mp.get_context("spawn")
STOP_GRACE_SECONDS = 10.0
STDERR_TAIL_BYTES = 16 * 1024  # how much of a child's last stderr output is kept for RunFailed


# ---- child side ----------------------------------------------------------------------------------
def _child_main(job_conn, event_conn, warm_delay: float, stderr_conn=None) -> None:
    """Entry point of the child process."""
    import faulthandler
    import signal
    import sys

    if stderr_conn is not None:
        # everything written to fd 2 (Python and native code) goes to the parent's reader thread
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        os.dup2(stderr_conn.fileno(), 2)
        stderr_conn.close()
    faulthandler.enable()  # a native crash prints a Python traceback to fd 2 (-> RunFailed.details)
    # Ctrl-C in a terminal reaches the whole process group; the parent decides (it calls stop()).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A spare child waits before the heavy imports so it does not compete with a run starting
    # on the same cores; a job arriving meanwhile cuts the wait short.
    job_msg = job_conn.recv() if job_conn.poll(warm_delay) else None
    import torch  # noqa: F401  (the point of a warm child)

    from workbench.core.training import train  # noqa: F401  (the trainer and what it imports, while warm)

    # The first optimizer a process builds imports torch._dynamo (seconds); do it while warm.
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)

    if job_msg is None:
        try:
            event_conn.send(("ready",))
        except (BrokenPipeError, OSError):
            return
        try:
            job_msg = job_conn.recv()
        except (EOFError, OSError):
            return  # the pool was closed
    if not job_msg or job_msg[0] != "job":
        return
    _run_job(job_msg[1], job_conn, event_conn)


def _run_job(job: dict[str, Any], job_conn, event_conn) -> None:
    from workbench.core.training import TrainControl
    from workbench.core.spec import parse_spec
    from workbench.core.training import train

    control = TrainControl()

    def read_control() -> None:
        while True:
            try:
                msg = job_conn.recv()
            except (EOFError, OSError):
                control.stop()  # the parent went away: stop (politely) rather than train on alone
                return
            if msg and msg[0] == "control":
                try:
                    control.apply(msg[1], msg[2] if len(msg) > 2 else None)
                except ValueError:
                    pass

    threading.Thread(target=read_control, name="workbench-control", daemon=True).start()

    # test hook: (events_sent, exit_code[, text written to stderr first]); exit_code "segv"
    # crashes the process with a segmentation fault instead
    exit_after = job.get("test_exit_after")
    sent = 0

    def send(ev: Event) -> None:
        nonlocal sent
        event_conn.send(("event", ev.to_dict()))
        sent += 1
        if exit_after is not None and sent >= exit_after[0]:
            if len(exit_after) > 2 and exit_after[2]:
                os.write(2, str(exit_after[2]).encode())
            if exit_after[1] == "segv":
                import faulthandler
                faulthandler._sigsegv()
            os._exit(int(exit_after[1]))

    try:
        spec = parse_spec(job["spec"])
    except Exception as exc:  # noqa: BLE001
        send(RunFailed(message=str(exc)))
        return
    callbacks = []
    store = None
    if job.get("store_path"):
        from workbench.core.runs import RunRecorder
        from workbench.core.runs import RunStore

        store = RunStore(job["store_path"])
        callbacks.append(RunRecorder(store, name=job.get("name"), parent_id=job.get("parent_id"),
                                     sweep_id=job.get("sweep_id"), tags=tuple(job.get("tags") or ())))
    try:
        for ev in train(spec, base_dir=job.get("base_dir"), control=control, callbacks=callbacks,
                        run_dir=job.get("run_dir"), resume_from=job.get("resume_from"),
                        progress_interval=job.get("progress_interval", 0.25), threads=job.get("threads")):
            send(ev)
    except (BrokenPipeError, OSError):
        pass  # the parent is gone; nothing left to tell
    finally:
        if store is not None:
            try:
                store.close()
            except Exception:  # noqa: BLE001
                pass


# ---- parent side ---------------------------------------------------------------------------------
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


_TELLING = ("Error", "error", "Fatal", "Exception", "Killed", "Aborted", "memory", "Segmentation")


def _telling_line(text: str) -> str:
    """The line of a stderr tail that best says what went wrong: the last one that names an
    error, else the last non-empty one."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    line = next((ln for ln in reversed(lines) if any(w in ln for w in _TELLING)), lines[-1] if lines else "")
    return line if len(line) <= 300 else line[:297] + "..."


class _Child:
    """A spawned child process, its two message pipes and its stderr pipe."""

    def __init__(self, warm_delay: float = 0.0) -> None:
        job_r, self.job_w = _CTX.Pipe(duplex=False)
        self.event_r, event_w = _CTX.Pipe(duplex=False)
        stderr_r, stderr_w = _CTX.Pipe(duplex=False)  # used as raw byte pipes (fileno only)
        self.process = _CTX.Process(target=_child_main, args=(job_r, event_w, warm_delay, stderr_w),
                                    name="workbench-run", daemon=True)
        self.process.start()
        # the child owns these ends now; closing ours lets EOF show when it dies
        job_r.close()
        event_w.close()
        stderr_w.close()
        self.stderr = _StderrTail(stderr_r)
        self.spawned_at = time.perf_counter()
        self.ready = False

    def alive(self) -> bool:
        return self.process.is_alive()

    def close(self) -> None:
        for conn in (self.job_w, self.event_r):
            try:
                conn.close()
            except OSError:
                pass
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class ProcessRun:
    """One training run in a child process. See the module doc."""

    def __init__(self, spec, base_dir: str | os.PathLike | None = None, run_dir: str | os.PathLike | None = None,
                 store_path: str | os.PathLike | None = None, *, resume_from: str | os.PathLike | None = None,
                 progress_interval: float = 0.25, threads: int | None = None, name: str | None = None,
                 parent_id: int | None = None, sweep_id: int | None = None, tags: tuple[str, ...] = (),
                 _child: _Child | None = None, _test_exit_after: tuple | None = None) -> None:
        self.spec = spec
        self.job = {
            "spec": spec.to_dict() if hasattr(spec, "to_dict") else spec,
            "base_dir": str(base_dir) if base_dir is not None else None,
            "run_dir": str(run_dir) if run_dir is not None else None,
            "store_path": str(store_path) if store_path is not None else None,
            "resume_from": str(resume_from) if resume_from is not None else None,
            "progress_interval": progress_interval,
            "threads": threads,
            "name": name, "parent_id": parent_id, "sweep_id": sweep_id, "tags": list(tags),
            "test_exit_after": _test_exit_after,
        }
        self._child = _child
        self.on_end: Callable[[], None] | None = None  # called once when the terminal event arrives
        self._terminal: TerminalEvent | None = None
        self._stop_deadline: float | None = None
        self._killed_after_stop = False
        self.started_at: float | None = None

    # ---- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.started_at is not None:
            raise RuntimeError("this run was already started")
        if self._child is None or not self._child.alive():
            self._child = _Child(warm_delay=0.0)
        self.started_at = time.perf_counter()
        try:
            self._child.job_w.send(("job", self.job))
        except (BrokenPipeError, OSError):
            pass  # the child died already; events() reports it

    @property
    def finished(self) -> bool:
        return self._terminal is not None

    @property
    def terminal(self) -> TerminalEvent | None:
        return self._terminal

    @property
    def exitcode(self) -> int | None:
        """The child's exit code; after the terminal event this waits (≤ 5 s) for the exit."""
        if self._child is None:
            return None
        if self._terminal is not None and self._child.process.exitcode is None:
            self._child.process.join(timeout=5)
        return self._child.process.exitcode

    @property
    def pid(self) -> int | None:
        return self._child.process.pid if self._child is not None else None

    def events(self, timeout: float | None = 0.0) -> list[Event]:
        """Everything that arrived; waits up to `timeout` seconds (None: until something comes)
        for the first. Never blocks on a dead child."""
        if self._terminal is not None or self._child is None:
            return []
        out: list[Event] = []
        conn = self._child.event_r
        deadline = None if timeout is None else time.perf_counter() + max(0.0, timeout)
        while True:
            try:
                wait = 0.0 if out else (0.1 if deadline is None else max(0.0, deadline - time.perf_counter()))
                if conn.poll(min(wait, 0.1)):
                    msg = conn.recv()
                    if msg[0] == "event":
                        ev = event_from_dict(msg[1])
                        out.append(ev)
                        if isinstance(ev, TerminalEvent):
                            # no join here: the child exits by itself right after its last
                            # event, and a caller on a GUI thread must not wait for that
                            self._terminal = ev
                            self._ended()
                            return out
                    continue
            except (EOFError, OSError):
                out.append(self._synthesize_end())
                return out
            if not self._child.alive() and not conn.poll(0):
                out.append(self._synthesize_end())
                return out
            if self._stop_deadline is not None and time.perf_counter() > self._stop_deadline:
                self.kill()
                self._killed_after_stop = True
                continue
            if out or (deadline is not None and time.perf_counter() >= deadline):
                return out

    def _ended(self) -> None:
        callback, self.on_end = self.on_end, None
        if callback is not None:
            try:
                callback()
            except Exception:  # a bookkeeping hook must never break event delivery
                pass

    def _synthesize_end(self) -> TerminalEvent:
        self._ended()
        self._child.process.join(timeout=5)
        code = self._child.process.exitcode
        if self._killed_after_stop or (self._stop_deadline is not None and code is not None and code < 0):
            ev: TerminalEvent = RunStopped(epochs=0, metrics={}, duration=self._duration(),
                                           reason="stopped (the training process did not stop in time and was ended)")
        else:
            why = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            hint = (" This usually means the computer ran out of memory; try a smaller batch size or model."
                    if code in (-9, 137) else
                    " This can happen when a native library crashes or memory runs out; try a smaller batch "
                    "size or model, or the CPU device.")
            tail = self._child.stderr.text(wait=1.0).rstrip()
            last = _telling_line(tail)
            message = f"The training process ended unexpectedly ({why}).{hint}"
            if last:
                message += f" Its last error output: {last}"
            details = (f"Last error output of the training process (stderr):\n{tail}\n" if tail
                       else "The training process wrote nothing to stderr before it ended.\n")
            ev = RunFailed(message=message, details=details)
        self._terminal = ev
        return ev

    def _duration(self) -> float:
        return time.perf_counter() - self.started_at if self.started_at else 0.0

    def wait(self, timeout: float | None = None) -> TerminalEvent | None:
        """Drain until the terminal event (or timeout); returns it (None on timeout).
        Events read here are dropped: use events() to see them."""
        end = None if timeout is None else time.perf_counter() + timeout
        while self._terminal is None:
            left = None if end is None else end - time.perf_counter()
            if left is not None and left <= 0:
                return None
            self.events(timeout=0.1 if left is None else min(0.1, left))
        if self._child is not None:
            self._child.process.join(timeout=5)
        return self._terminal

    # ---- control --------------------------------------------------------------------------------
    def _send(self, command: str, value: Any = None) -> None:
        if self._child is None or self._terminal is not None:
            return
        try:
            self._child.job_w.send(("control", command, value))
        except (BrokenPipeError, OSError):
            pass

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
        self._send("stop")
        if self._stop_deadline is None:
            self._stop_deadline = time.perf_counter() + grace

    def kill(self) -> None:
        if self._child is not None and self._child.alive():
            self._child.process.kill()
            self._child.process.join(timeout=5)

    def close(self) -> None:
        """Release the pipes; a child still running is killed. After the terminal event the
        child is given a moment to exit by itself (it is only tidying up)."""
        if self._child is not None:
            if self._terminal is not None and self._child.alive():
                self._child.process.join(timeout=10)
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
        self._spare: _Child | None = None
        self._lock = threading.Lock()
        if prespawn:
            self._spare = _Child(warm_delay=0.0)

    def _take_spare(self) -> _Child | None:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None and not spare.alive():
            spare.close()
            spare = None
        return spare

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until the spare child has imported torch (for tests and measurements)."""
        spare = self._spare
        if spare is None:
            return False
        if spare.ready:
            return True
        if spare.event_r.poll(timeout):
            msg = spare.event_r.recv()
            spare.ready = msg[0] == "ready"
        return spare.ready

    def start_run(self, spec, **kwargs) -> ProcessRun:
        child = self._take_spare()
        if child is not None and not child.ready and child.event_r.poll(0):
            msg = child.event_r.recv()
            child.ready = msg[0] == "ready"
        run = ProcessRun(spec, _child=child, **kwargs)
        run.start()
        if self.defer_spare:
            run.on_end = lambda: self._replenish(0.0)
        else:
            self._replenish(self.warm_delay)
        return run

    def _replenish(self, delay: float) -> None:
        with self._lock:
            if self._spare is None and not self._closed:
                self._spare = _Child(warm_delay=delay)

    def close(self) -> None:
        self._closed = True
        spare = self._take_spare()
        if spare is not None:
            spare.close()

    def __enter__(self) -> "WarmPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["ProcessRun", "WarmPool", "STOP_GRACE_SECONDS"]
