"""The soak from the issue: an hour of live plotting with runs started and stopped and plots
created and closed repeatedly; zero crashes, flat memory.

Not part of the default run (pyproject deselects `slow`). Run it with

    WORKBENCH_SOAK_SECONDS=3600 OMP_NUM_THREADS=1 QT_QPA_PLATFORM=offscreen \
        python -m pytest tests/gui/test_soak.py -m slow -q -s

One cycle, until the time is up:
  * a new LiveCurves is shown and wired to a session's `run_events` (the way MainWindow wires
    its plots); every few cycles a whole MainWindow with its own Session instead;
  * a run is started through `Session.train` — every 3rd cycle in a real child process from the
    warm pool (the path a person takes), otherwise in a thread of this process — streams for a
    random 1–5 s and then is stopped, or paused and resumed, or has its learning rate changed,
    or is left to finish;
  * meanwhile a second, standalone LiveCurves is fed synthetic events at a high rate (bursts of
    BatchProgress, EpochEnd and LRChanged, far faster than any real run sends them);
  * the widgets are closed and deleteLater'd and the deferred deletes are processed.

Checked: no exception and no Qt warning (conftest makes pytest-qt fail the test on either), no
run failed, every run reached a terminal event; at the end the QWidget count is back to the
baseline, no child process and no extra Python thread is left, and the RSS of this process
(sampled each cycle after gc.collect()) did not keep growing after the 25 % mark.

Memory bound, and why: RSS from the 25 % mark to the end must grow by less than
RSS_GROWTH_LIMIT_MB (50 MB) *and* less than 10 % of the 25 % figure. The first quarter is the
warm-up (pyqtgraph/Qt caches, the allocator's arenas, torch's first kernels, the run store's page
cache) and is not judged. After it, a steady app only moves by allocator noise (a few MB). A
leak of one plot or window per cycle is 1–10 MB a cycle (a LiveCurves holds several PlotItems
and numpy buffers; a MainWindow a few hundred widgets), i.e. hundreds of MB over an hour's
~450 cycles and > 50 MB even over a 3-minute soak's ~25 judged cycles; a small per-run leak of
~100 kB (an event list kept alive) reaches 50 MB over the hour. The 25 % and end figures are
medians of a few samples so that one noisy sample does not decide.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
import random
import statistics
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from helpers import wait_ready
from workbench.core.training import (BatchProgress, EpochEnd, LRChanged, RunFailed, RunFinished,
                                   RunStarted, RunStopped, TerminalEvent)

SOAK_SECONDS = float(os.environ.get("WORKBENCH_SOAK_SECONDS", "3600"))
RSS_GROWTH_LIMIT_MB = 50.0
RSS_GROWTH_LIMIT_FRACTION = 0.10
WIDGET_SLACK = 10  # Qt keeps a few application-wide widgets (tooltip label, desktop, …)
REAL_EVERY = 3  # every 3rd run goes to a real child from the warm pool
WINDOW_EVERY = 4  # every 4th cycle builds a whole MainWindow
SYNTH_STEPS_PER_EPOCH = 50


# ---- measurements -------------------------------------------------------------------------
def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS in /proc/self/status")


def os_threads() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return -1


def resource_tracker_pid() -> int | None:
    """multiprocessing's resource tracker: one helper process for the life of the interpreter
    (started by the first spawned child), not a leftover of any run."""
    try:
        from multiprocessing import resource_tracker

        return getattr(resource_tracker._resource_tracker, "_pid", None)
    except Exception:
        return None


def child_pids() -> list[int]:
    """Live (not zombie-reaped-later: zombies count too) direct children of this process."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # after "pid (comm) "
        if int(fields[1]) == me:
            found.append(int(entry))
    tracker = resource_tracker_pid()
    return sorted(p for p in found if p != tracker)


def widget_count() -> int:
    return len(QApplication.allWidgets())


def settle(qtbot, ms: int = 0) -> None:
    """Run the event loop, then the deferred deletes (deleteLater), then collect garbage."""
    if ms:
        qtbot.wait(ms)
    for _ in range(3):
        QApplication.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


# ---- synthetic events ---------------------------------------------------------------------
class Synthetic:
    """A fake run's event stream: `burst(n)` returns the next n events (BatchProgress, with an
    EpochEnd each SYNTH_STEPS_PER_EPOCH steps and an LRChanged now and then)."""

    def __init__(self, rng: random.Random, epochs: int = 100000):
        self.rng, self.step, self.lr = rng, 0, 0.01
        self.task = rng.choice(["classification", "regression"])
        self.start = RunStarted(
            name="synthetic", spec_json="{}", device="cpu", device_name="CPU", precision="fp32",
            task=self.task, class_names=["a", "b"] if self.task == "classification" else [],
            n_train=1000, n_val=200, n_test=0, epochs=epochs, batch_size=32,
            steps_per_epoch=SYNTH_STEPS_PER_EPOCH, summary=[], total_params=100, total_flops=100,
            memory_bytes=1000)

    def burst(self, n: int) -> list:
        out = []
        for _ in range(n):
            self.step += 1
            epoch, b = divmod(self.step - 1, SYNTH_STEPS_PER_EPOCH)
            loss = 1.0 / math.sqrt(self.step) + self.rng.random() * 0.05
            out.append(BatchProgress(epoch=epoch + 1, batch=b + 1, batches=SYNTH_STEPS_PER_EPOCH,
                                     step=self.step, loss=loss, lr=self.lr, samples_per_s=5e4,
                                     elapsed=self.step * 1e-3))
            if b + 1 == SYNTH_STEPS_PER_EPOCH:
                key = "accuracy" if self.task == "classification" else "r2"
                logs = {"loss": loss, "val_loss": loss * 1.1, key: 1 - loss, "val_" + key: 0.9 - loss,
                        "lr": self.lr}
                out.append(EpochEnd(epoch=epoch + 1, step=self.step, logs=logs, lr=self.lr,
                                    samples_per_s=5e4, elapsed=self.step * 1e-3, epoch_seconds=0.05))
                if self.rng.random() < 0.2:
                    old, self.lr = self.lr, self.lr * self.rng.choice([0.5, 2.0])
                    out.append(LRChanged(epoch=epoch + 1, step=self.step, lr=self.lr, previous=old))
        return out


# ---- the soak -----------------------------------------------------------------------------
class Tally:
    def __init__(self):
        self.cycles = self.runs = self.real_runs = self.windows = 0
        self.outcomes: dict[str, int] = {}
        self.synthetic_events = 0
        self.failures: list[str] = []


def drive_run(qtbot, session, rng: random.Random, tally: Tally, long_spec, short_spec, real: bool):
    """One run through Session.train: stream 1–5 s, then stop / pause+resume / set_lr / finish."""
    events: list = []
    session.run_event.connect(events.append)
    try:
        action = rng.choice(["stop", "stop", "pause_resume", "set_lr", "finish"])
        spec = short_spec if action == "finish" else long_spec
        assert session.train(spec), f"train() refused: {session.validity}"
        tally.runs += 1
        tally.real_runs += real
        qtbot.waitUntil(lambda: any(isinstance(e, (RunStarted, TerminalEvent)) for e in events),
                        timeout=60000 if real else 15000)
        worker = session._worker  # None already when a short run has ended
        if real and worker is not None and worker._run is not None:
            pid = worker._run.pid
            assert pid is not None and pid != os.getpid()
        if action != "finish":
            qtbot.wait(int(rng.uniform(1.0, 5.0) * 1000))
        if action == "pause_resume" and session.state == "running":
            session.pause()
            qtbot.waitUntil(lambda: session.state in ("paused", "idle"), timeout=10000)
            qtbot.wait(rng.randint(100, 800))
            session.resume()
            qtbot.waitUntil(lambda: session.state in ("running", "idle"), timeout=10000)
            qtbot.wait(rng.randint(200, 1000))
        elif action == "set_lr" and session.state == "running":
            lr = rng.choice([0.003, 0.02, 0.001])
            assert session.set_lr(lr) is None
            qtbot.waitUntil(lambda: any(isinstance(e, LRChanged) for e in events)
                            or session.state == "idle", timeout=10000)
            qtbot.wait(rng.randint(200, 1000))
        if action != "finish":
            session.stop()
        qtbot.waitUntil(lambda: session.state == "idle", timeout=60000 if action == "finish" else 15000)
        terminal = [e for e in events if isinstance(e, TerminalEvent)]
        assert len(terminal) == 1, f"{action}: terminal events {terminal!r}"
        end = terminal[0]
        name = type(end).__name__
        tally.outcomes[name] = tally.outcomes.get(name, 0) + 1
        if isinstance(end, RunFailed):
            tally.failures.append(f"run {tally.runs} ({'child' if real else 'thread'}, {action}): "
                                  f"{end.message}")
        elif action == "finish":
            assert isinstance(end, RunFinished), end
        else:
            assert isinstance(end, (RunStopped, RunFinished)), end
    finally:
        session.run_event.disconnect(events.append)


def feed_synthetic(qtbot, curves, synth: Synthetic, seconds: float, tally: Tally):
    """Bursts of events into a standalone LiveCurves for `seconds`, yielding to the event loop
    between bursts as the worker's ~30 ms batches do (but 20x more events per batch)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = synth.burst(200)
        curves.handle_events(batch)
        tally.synthetic_events += len(batch)
        qtbot.wait(10)


@pytest.mark.slow
def test_soak_live_plotting_runs_and_plots(qtbot, tiny_spec, in_process_runs, tmp_path):
    from workbench.gui.main_window import MainWindow
    from workbench.gui.plots.live_curves import LiveCurves
    from workbench.gui.session import Session

    seed = int(os.environ.get("WORKBENCH_SOAK_SEED", str(int(time.time()) % 100000)))
    rng = random.Random(seed)
    long_spec = tiny_spec.with_values({"train.epochs": 100000, "data.n_samples": 400})
    short_spec = tiny_spec.with_values({"train.epochs": 3})

    settle(qtbot)
    base_widgets = widget_count()
    base_threads = threading.active_count()
    base_os_threads = os_threads()
    base_children = child_pids()

    # Long-lived sessions: one trains in real children from its warm pool, one in-process.
    child_session = Session(long_spec, run_factory=None)
    thread_session = Session(long_spec, run_factory=in_process_runs)
    sessions = [child_session, thread_session]
    tally = Tally()
    samples: list[tuple[float, float]] = []  # (seconds since start, RSS MB)
    t0 = time.monotonic()
    try:
        assert child_session.warm_pool().wait_ready(120)
        wait_ready(qtbot, child_session)
        wait_ready(qtbot, thread_session)
        while time.monotonic() - t0 < SOAK_SECONDS:
            tally.cycles += 1
            real = tally.cycles % REAL_EVERY == 0
            window = None
            if tally.cycles % WINDOW_EVERY == 0:
                # A whole window with its own session (and, on real cycles, its own warm pool).
                session = Session(long_spec, run_factory=None if real else in_process_runs)
                window = MainWindow(session)
                window.resize(1366, 768)
                window.show()
                qtbot.waitExposed(window)
                tally.windows += 1
                plots = window.plots
            else:
                session = child_session if real else thread_session
                plots = LiveCurves()
                plots.resize(900, 600)
                plots.show()
                qtbot.waitExposed(plots)
                session.run_events.connect(plots.handle_events)
            wait_ready(qtbot, session, timeout=30000)

            synth_curves = LiveCurves()
            synth_curves.resize(700, 500)
            synth_curves.show()
            qtbot.waitExposed(synth_curves)
            synth = Synthetic(rng)
            synth_curves.handle_event(synth.start)

            drive_run(qtbot, session, rng, tally, long_spec, short_spec, real)
            feed_synthetic(qtbot, synth_curves, synth, rng.uniform(0.5, 1.5), tally)
            if rng.random() < 0.3:  # the run ends; the synthetic run too
                synth_curves.handle_event(RunStopped(epochs=synth.step // SYNTH_STEPS_PER_EPOCH,
                                                     metrics={}, duration=1.0, reason="soak"))
            synth_curves.flush()
            plots.flush()

            # Close everything this cycle made.
            if window is not None:
                window.shutdown()  # stops the run, joins threads, closes its pool
                window.close()
                window.deleteLater()
                session.deleteLater()
            else:
                session.run_events.disconnect(plots.handle_events)
                plots.close()
                plots.deleteLater()
            synth_curves.close()
            synth_curves.deleteLater()
            del window, plots, synth_curves, synth
            settle(qtbot, 20)
            samples.append((time.monotonic() - t0, rss_mb()))
    finally:
        for session in sessions:
            session.shutdown()
            session.deleteLater()
        settle(qtbot, 50)

    # Children end asynchronously after their pool closes; give them a moment.
    deadline = time.monotonic() + 15
    while child_pids() != base_children and time.monotonic() < deadline:
        multiprocessing.active_children()  # reaps finished multiprocessing children
        time.sleep(0.2)
    deadline = time.monotonic() + 10
    while threading.active_count() > base_threads and time.monotonic() < deadline:
        settle(qtbot, 100)
    settle(qtbot, 50)

    elapsed = time.monotonic() - t0
    rss = [r for _, r in samples]
    n = len(rss)
    assert n >= 1, "no cycle completed"
    quarter = next(i for i, (t, _) in enumerate(samples) if t >= samples[-1][0] * 0.25)
    rss_start = rss[0]
    rss_quarter = statistics.median(rss[max(0, quarter - 2): quarter + 3])
    rss_end = statistics.median(rss[-5:])
    rss_peak = max(rss)
    growth = rss_end - rss_quarter
    widgets_end = widget_count()
    threads_end = threading.active_count()
    os_threads_end = os_threads()
    children_end = child_pids()
    print(
        f"\nSOAK seed={seed} {elapsed:.0f}s cycles={tally.cycles} runs={tally.runs} "
        f"(child={tally.real_runs} thread={tally.runs - tally.real_runs}) windows={tally.windows} "
        f"outcomes={dict(sorted(tally.outcomes.items()))} synthetic_events={tally.synthetic_events} | "
        f"RSS MB start={rss_start:.1f} 25%={rss_quarter:.1f} end={rss_end:.1f} peak={rss_peak:.1f} "
        f"growth_after_25%={growth:+.1f} ({growth / rss_quarter:+.1%}) | "
        f"widgets base={base_widgets} end={widgets_end} | "
        f"py_threads base={base_threads} end={threads_end} | os_threads base={base_os_threads} "
        f"end={os_threads_end} | children base={base_children} end={children_end}"
    )
    print("SOAK rss_series_MB=" + " ".join(f"{r:.0f}" for r in rss[:: max(1, n // 40)]))

    assert n >= 8, f"only {n} cycles in {elapsed:.0f} s: too short a soak to judge memory"
    assert not tally.failures, "runs failed:\n" + "\n".join(tally.failures)
    assert abs(widgets_end - base_widgets) <= WIDGET_SLACK, (
        f"{widgets_end} QWidgets alive at the end, {base_widgets} at the start")
    assert children_end == base_children, f"child processes left: {children_end} (base {base_children})"
    assert threads_end <= base_threads, (
        f"Python threads left: {[t.name for t in threading.enumerate()]} (base count {base_threads})")
    assert growth < RSS_GROWTH_LIMIT_MB and growth < RSS_GROWTH_LIMIT_FRACTION * rss_quarter, (
        f"RSS grew {growth:.1f} MB from the 25% mark ({rss_quarter:.1f} MB) to the end ({rss_end:.1f} MB)")
