"""GUI responsiveness while a run trains, and what the GUI costs the run.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_latency.py [--epochs 30] [--rounds 2]

While the spiral MLP preset trains in a child process (core.runner.WarmPool with the app's
default warm_delay -> ProcessRun, progress every 0.1 s as the app asks) whose events are
drained on the GUI thread every 30 ms into a shown LiveCurves widget, a 5 ms QTimer records how
late each of its ticks is (p50/p99/max), from RunStarted to the terminal event. The box's load
average is printed before and after: on a shared machine it moves the figures. Training speed (median EpochEnd.samples_per_s, first
epoch left out) is compared with headless train() on the same spec, measured in the same run,
alternating: headless, GUI, headless, GUI, ..., headless; the ratio is of the medians.
Goals: p99 <= 10 ms, max <= 50 ms, ratio >= 0.90.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]


def sps(events) -> float:
    from workbench.core.training import EpochEnd

    rates = [e.samples_per_s for e in events if isinstance(e, EpochEnd)]
    rates = rates[1:] or rates  # the first epoch includes warm-up
    return statistics.median(rates) if rates else float("nan")


def headless(spec) -> float:
    from workbench.core.training import RunFailed
    from workbench.core.training import train

    events = list(train(spec, base_dir=ROOT))
    if isinstance(events[-1], RunFailed):
        raise SystemExit(f"headless run failed: {events[-1].message}")
    return sps(events)


def with_gui(app, pool, spec, lateness: list[float], own: dict) -> float:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer

    from workbench.core.training import RunFailed, RunStarted
    from workbench.gui.plots.live_curves import LiveCurves

    curves = LiveCurves()
    curves.resize(900, 640)
    curves.show()
    app.processEvents()
    pool.wait_ready()  # as the app does: a spare child with torch imported is kept warm
    run = pool.start_run(spec, base_dir=ROOT, progress_interval=0.1)  # as gui/session.py
    events: list = []
    training = [False]
    loop = QEventLoop()

    paint = curves._glw.on_paint

    def timed_paint(ms):
        own["paint_max"] = max(own.get("paint_max", 0.0), ms)
        paint(ms)

    curves._glw.on_paint = timed_paint

    def drain():
        t0 = time.perf_counter()
        drain_work()
        own["drain_max"] = max(own.get("drain_max", 0.0), (time.perf_counter() - t0) * 1e3)

    def drain_work():
        t0 = time.perf_counter()
        new = run.events(timeout=0)
        t1 = time.perf_counter()
        events.extend(new)
        curves.handle_events(new)
        own["events_max"] = max(own.get("events_max", 0.0), (t1 - t0) * 1e3)
        own["handle_max"] = max(own.get("handle_max", 0.0), (time.perf_counter() - t1) * 1e3)
        training[0] = any(isinstance(e, RunStarted) for e in events) and not run.finished
        if run.finished:
            loop.quit()

    clock = QElapsedTimer()
    last = [None]

    def tick():
        now = clock.nsecsElapsed() / 1e6
        if last[0] is not None and training[0]:  # from RunStarted to the terminal event
            lateness.append(max(0.0, now - last[0] - 5.0))
        last[0] = now

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(5)
    probe.timeout.connect(tick)
    drainer = QTimer()
    drainer.setInterval(30)
    drainer.timeout.connect(drain)
    clock.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    probe.start()
    drainer.start()
    loop.exec()
    probe.stop()
    drainer.stop()
    own["cpu"] = own.get("cpu", 0.0) + time.process_time() - cpu0
    own["wall"] = own.get("wall", 0.0) + time.perf_counter() - wall0
    run.close()
    curves.close()
    curves.deleteLater()
    app.processEvents()
    if isinstance(events[-1], RunFailed):
        raise SystemExit(f"GUI run failed: {events[-1].message}")
    return sps(events)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default=str(ROOT / "resources/presets/spiral.json"))
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2, help="GUI runs (headless runs: rounds + 1)")
    args = ap.parse_args(argv)

    import numpy as np
    from PySide6.QtWidgets import QApplication

    from workbench.core.execution import WarmPool
    from workbench.core.spec import load_spec

    app = QApplication.instance() or QApplication(sys.argv)
    spec = load_spec(args.preset).with_values({"train.epochs": args.epochs,
                                                "train.device": "cpu"})
    head, gui, lateness, own = [], [], [], {}
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    pool = WarmPool()  # the app's default warm_delay
    for i in range(2 * args.rounds + 1):
        t0 = time.perf_counter()
        if i % 2 == 0:
            head.append(headless(spec))
            print(f"  headless run: {head[-1]:10.0f} samples/s  ({time.perf_counter() - t0:.1f} s)")
        else:
            gui.append(with_gui(app, pool, spec, lateness, own))
            print(f"  GUI run:      {gui[-1]:10.0f} samples/s  ({time.perf_counter() - t0:.1f} s)")
    pool.close()
    late = np.asarray(lateness)
    p50, p99, mx = np.percentile(late, 50), np.percentile(late, 99), late.max()
    ratio = statistics.median(gui) / statistics.median(head)
    print(f"\n{Path(args.preset).name}, {args.epochs} epochs, cpu; {len(late)} ticks of a 5 ms timer "
          f"during {len(gui)} GUI runs")
    print(f"timer lateness  p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   max {mx:6.2f} ms   "
          f"(goals: p99 <= 10, max <= 50)")
    print(f"samples/s       headless {statistics.median(head):.0f}   GUI {statistics.median(gui):.0f}"
          f"   ratio {ratio:.3f}   (goal >= 0.90)")
    print(f"GUI process's own work: longest drain {own['drain_max']:.1f} ms (run.events "
          f"{own['events_max']:.1f} ms, handle_events {own['handle_max']:.1f} ms), longest paint "
          f"{own.get('paint_max', 0.0):.1f} ms, CPU {own['cpu']:.1f} s over {own['wall']:.1f} s "
          f"({100 * own['cpu'] / own['wall']:.0f} % of one core)")
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    met = p99 <= 10 and mx <= 50 and ratio >= 0.90
    print("goals:", "met" if met else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
