"""Parallel executor for sweep trials: a pool of long-lived worker processes.

Each worker (spawn context, so torch is imported fresh and nothing is shared by fork) takes a
job, runs the ordinary trainer generator on it, records the run in the RunStore (sweep_id set)
and streams what the sweep needs back over its pipe: the run id, one message per epoch (with
the worker's wall-clock time, so the delay can be measured) and the terminal result. Control
messages go the other way: stop a job (pruned, or the sweep stops), pause/resume, quit.

Workers are kept between trials, so torch is imported once per worker, not once per trial
(on this 2-core machine an import costs ~1.5 s, longer than a small trial). A worker that
dies mid-trial fails only that trial; the pool starts a replacement.

If the parent process disappears (killed), each worker sees its pipe close, stops its run and
exits, so no orphans keep training and the store keeps every epoch already committed.
"""

from __future__ import annotations

import importlib
import importlib.util
import multiprocessing as mp
import os
import queue
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

DEFAULT_TRAIN = "workbench.core.training:train"


@dataclass(frozen=True)
class Job:
    job_id: int
    trial: int  # Optuna trial number
    repeat: int
    spec_json: str
    name: str  # run name in the store
    sweep_id: str
    base_dir: str | None = None


# ---- messages (worker -> parent), plain tuples so they cost nothing to pickle ---------------
# ("ready", worker_index, pid)
# ("started", job_id, run_id | None)
# ("epoch", job_id, epoch, logs: dict, sent_at: float)
# ("done", job_id, status: "finished"|"stopped"|"failed", metrics: dict, message: str, details: str, duration: float)
# ("died", job_id, message)   (synthesized by the pool when a worker process ends mid-job)
# ("requeue", job_id)         (synthesized: the worker died before it was ready; run the job again)


def default_parallel() -> int:
    """cores − 1, at least 1."""
    return max(1, (os.cpu_count() or 2) - 1)


def _import_target(target: str):
    """"package.module:function", or "/path/to/file.py:function" (tests' scripted trainers)."""
    module, _, name = target.rpartition(":")
    if module.endswith(".py"):
        spec = importlib.util.spec_from_file_location(f"_sweep_target_{abs(hash(module))}", module)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return getattr(mod, name)
    return getattr(importlib.import_module(module), name)


def _worker_main(conn: Connection, index: int, train_target: str, store_path: str | None, threads: int | None) -> None:
    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)
    send_lock = threading.Lock()

    parent_gone = threading.Event()

    def send(msg: tuple) -> None:
        if parent_gone.is_set():
            return
        try:
            with send_lock:
                conn.send(msg)
        except (OSError, ValueError):
            # The sweep process is gone: stop the run (it is recorded as stopped) and quit.
            parent_gone.set()
            with state_lock:
                if state["control"] is not None:
                    state["control"].stop()

    jobs: "queue.Queue[Job | None]" = queue.Queue()
    state: dict[str, Any] = {"job": None, "control": None, "paused": False}
    state_lock = threading.Lock()

    def listen() -> None:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                msg = ("quit",)  # the parent is gone
            cmd = msg[0]
            with state_lock:
                control = state["control"]
                if cmd == "run":
                    jobs.put(msg[1])
                elif cmd == "stop":
                    if control is not None and state["job"] == msg[1]:
                        control.stop()
                elif cmd == "pause":
                    state["paused"] = True
                    if control is not None:
                        control.pause()
                elif cmd == "resume":
                    state["paused"] = False
                    if control is not None:
                        control.resume()
                elif cmd == "quit":
                    if control is not None:
                        control.stop()
                    jobs.put(None)
                    return

    threading.Thread(target=listen, name="sweep-worker-control", daemon=True).start()

    from workbench.core.training import TrainControl

    train_fn = _import_target(train_target)
    use_data_cache = train_target == DEFAULT_TRAIN
    if threads and "torch" in sys.modules:
        # Only when the target brought torch in: importing it here would cost a trainer that
        # does not use it (the tests' scripted one) seconds per worker. A target that imports
        # torch later still gets the thread count from OMP_NUM_THREADS, set above.
        import torch

        torch.set_num_threads(threads)
    store = None
    if store_path is not None:
        from workbench.core.runs import RunStore

        store = RunStore(store_path)
    data_cache: dict[str, Any] = {}
    send(("ready", index, os.getpid()))

    while True:
        job = jobs.get()
        if job is None:
            break
        control = TrainControl()
        with state_lock:
            if state["paused"]:
                control.pause()
            state["job"], state["control"] = job.job_id, control
        _run_job(job, train_fn, control, store, send, data_cache if use_data_cache else None,
                 threads if use_data_cache else None)
        with state_lock:
            state["job"], state["control"] = None, None
    try:
        conn.close()
    except OSError:
        pass


def _prepared_data(spec: Any, base_dir: str | None, cache: dict[str, Any] | None) -> Any:
    """Load and split the data once per worker for all trials that share a data spec."""
    if cache is None:
        return None
    key = spec.data.model_dump_json() + "|" + str(base_dir)
    if key not in cache:
        try:
            from workbench.core.data import load_dataset, prepare

            cache.clear()  # one dataset at a time: a sweep rarely varies the data
            cache[key] = prepare(load_dataset(spec.data, base_dir), spec.data)
        except Exception:  # noqa: BLE001 - let the trainer report the data problem as a RunFailed
            return None
    return cache[key]


def _run_job(job: Job, train_fn, control, store, send, data_cache, threads) -> None:
    from workbench.core.training import EpochEnd, RunFailed, RunFinished, RunStarted, RunStopped
    from workbench.core.spec import parse_spec

    t0 = time.monotonic()
    run_id = None
    device = ""

    def ensure_run(spec) -> None:
        nonlocal run_id
        if store is not None and run_id is None:
            run_id = store.create_run(spec, name=job.name, device=device, sweep_id=job.sweep_id, tags=("sweep",))
            send(("started", job.job_id, run_id))

    spec = None
    try:
        spec = parse_spec(job.spec_json)
        kwargs: dict[str, Any] = {"base_dir": job.base_dir, "control": control}
        data = _prepared_data(spec, job.base_dir, data_cache)
        if data is not None:
            kwargs["data"] = data
        if threads:
            kwargs["threads"] = threads
        terminal = None
        for ev in train_fn(spec, **kwargs):
            if isinstance(ev, EpochEnd):
                ensure_run(spec)
                logs = {k: float(v) for k, v in ev.logs.items()}
                send(("epoch", job.job_id, ev.epoch, logs, time.time()))
                if store is not None:
                    store.log_epoch(run_id, ev.epoch, logs)
            elif isinstance(ev, RunStarted):
                device = ev.device
                ensure_run(spec)
            elif isinstance(ev, (RunFinished, RunStopped, RunFailed)):
                terminal = ev
                break
        duration = time.monotonic() - t0
        if terminal is None:
            status, metrics, message, details = "failed", {}, "the trainer ended without a final event", ""
        elif isinstance(terminal, RunFailed):
            status, metrics, message, details = "failed", {}, terminal.message, terminal.details
        elif isinstance(terminal, RunStopped):
            status, metrics, message, details = "stopped", dict(terminal.metrics), terminal.reason, ""
        else:
            status, metrics, message, details = "finished", dict(terminal.metrics), terminal.reason, ""
    except Exception as exc:  # noqa: BLE001 - one trial's crash never ends the worker
        duration = time.monotonic() - t0
        status, metrics, details = "failed", {}, traceback.format_exc()
        message = str(exc) if hasattr(exc, "problems") else f"{type(exc).__name__}: {exc}"
    metrics = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
    if store is not None and spec is not None:
        try:
            ensure_run(spec)
            store.finish_run(run_id, status, metrics, duration, message)
        except Exception:  # noqa: BLE001 - recording must not hide the trial's own result
            details += "\n(recording the run failed)\n" + traceback.format_exc()
    send(("done", job.job_id, status, metrics, message or "", details or "", duration))


@dataclass
class _Worker:
    index: int
    process: Any
    conn: Connection
    job: Job | None = None
    ready: bool = False
    stop_sent: bool = False


class WorkerStartError(RuntimeError):
    """Worker processes die before they are ready (a broken install, no memory)."""


class WorkerPool:
    """N worker processes. Qt-free; poll() from one thread (the sweep loop)."""

    MAX_START_FAILURES = 3

    def __init__(self, n: int, *, train_target: str = DEFAULT_TRAIN, store_path: str | None = None,
                 threads: int | None = None) -> None:
        self.n = max(1, int(n))
        self.train_target = train_target
        self.store_path = store_path
        cores = os.cpu_count() or 1
        self.threads = threads if threads is not None else max(1, cores // self.n)
        self._ctx = mp.get_context("spawn")
        self._workers: list[_Worker] = []
        self._paused = False
        self._start_failures = 0

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        for i in range(self.n):
            self._workers.append(self._spawn(i))

    def _spawn(self, index: int) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_worker_main, args=(child, index, self.train_target, self.store_path, self.threads),
            name=f"workbench-sweep-worker-{index}", daemon=True,
        )
        proc.start()
        child.close()
        w = _Worker(index, proc, parent)
        if self._paused:
            self._send(w, ("pause",))
        return w

    def close(self, timeout: float = 5.0) -> None:
        """Ask every worker to quit (stopping its run); kill those that do not in time."""
        for w in self._workers:
            self._send(w, ("quit",))
        deadline = time.monotonic() + timeout
        for w in self._workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(2.0)
            try:
                w.conn.close()
            except OSError:
                pass
        self._workers = []

    # ---- jobs --------------------------------------------------------------------------------
    def idle(self) -> int:
        return sum(1 for w in self._workers if w.job is None)

    def running(self) -> list[Job]:
        return [w.job for w in self._workers if w.job is not None]

    def submit(self, job: Job) -> None:
        for w in self._workers:
            if w.job is None:
                w.job, w.stop_sent = job, False
                self._send(w, ("run", job))
                return
        raise RuntimeError("no idle worker")

    def stop_job(self, job_id: int) -> None:
        for w in self._workers:
            if w.job is not None and w.job.job_id == job_id and not w.stop_sent:
                w.stop_sent = True
                self._send(w, ("stop", job_id))

    def kill_job(self, job_id: int) -> None:
        """A job that does not stop when asked: kill its worker (poll reports it as died)."""
        for w in self._workers:
            if w.job is not None and w.job.job_id == job_id and w.process.is_alive():
                w.process.kill()

    def pause(self) -> None:
        self._paused = True
        for w in self._workers:
            self._send(w, ("pause",))

    def resume(self) -> None:
        self._paused = False
        for w in self._workers:
            self._send(w, ("resume",))

    def _send(self, w: _Worker, msg: tuple) -> None:
        try:
            w.conn.send(msg)
        except (OSError, ValueError, BrokenPipeError):
            pass  # a dead worker is noticed by poll()

    # ---- results -----------------------------------------------------------------------------
    def poll(self, timeout: float) -> list[tuple]:
        """Messages that arrived within `timeout` seconds (all that are ready, in order per worker)."""
        conns = {w.conn: w for w in self._workers}
        sentinels = {w.process.sentinel: w for w in self._workers}
        ready = wait(list(conns) + list(sentinels), timeout)
        out: list[tuple] = []
        dead: list[_Worker] = []
        for obj in ready:
            w = conns.get(obj)
            if w is not None:
                self._drain(w, out)
        for obj in ready:
            w = sentinels.get(obj)
            if w is not None:
                self._drain(w, out)  # what it sent before dying
                dead.append(w)
        for w in dead:
            w.process.join(1.0)
            code = w.process.exitcode
            if not w.ready:
                self._start_failures += 1
                if self._start_failures >= self.MAX_START_FAILURES:
                    raise WorkerStartError(
                        f"sweep worker processes exit before they start (exit code {code}, "
                        f"{self._start_failures} times); their error output is above")
            else:
                self._start_failures = 0
            if w.job is not None and not w.ready:
                out.append(("requeue", w.job.job_id))  # never started: not the trial's fault
            elif w.job is not None:
                out.append(("died", w.job.job_id,
                            f"the worker process ended unexpectedly (exit code {code}) while running this trial"))
            try:
                w.conn.close()
            except OSError:
                pass
            self._workers[self._workers.index(w)] = self._spawn(w.index)
        return out

    def _drain(self, w: _Worker, out: list[tuple]) -> None:
        while True:
            try:
                if not w.conn.poll(0):
                    return
                msg = w.conn.recv()
            except (EOFError, OSError):
                return
            if msg[0] == "ready":
                w.ready = True
                continue
            if msg[0] == "done" and w.job is not None and w.job.job_id == msg[1]:
                w.job = None
            out.append(msg)
