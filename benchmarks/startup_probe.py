"""The app as `workbench` starts it, with a probe that reports its start, then quits.

    python benchmarks/startup_probe.py        (benchmarks/startup_time.py runs it)

It runs `workbench.gui.app.main()` unchanged; the probe, installed on the window it creates,
prints:

    startup shown=<s>        the first painted window with the spiral scatter plotted and the
                             layer stack filled (seconds since the process started)
    startup trainable=<s>    Train can be clicked
    startup first_point=<s>  seconds from the first click on Train (at once when it can be
                             clicked) to a painted live curve with a point on it
    startup spare_ready=<0|1> whether the warm spare process was ready at that click

Nothing of this lives in the app: the timing hooks are here, in the benchmarks.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

# the checkout startup_time.py launches (its PYTHONPATH; --baseline runs another one), else this one
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def seconds_since_start() -> float:
    """Seconds since this process started (WORKBENCH_T0, a time.time() set by the launcher,
    wins: it also counts the interpreter's own start)."""
    t0 = os.environ.get("WORKBENCH_T0")
    if t0:
        return time.time() - float(t0)
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def install(window) -> None:
    from PySide6.QtCore import QTimer

    poll = QTimer(window, interval=10)
    state: dict = {}

    def drawn_points() -> int:
        """Points on any live curve (a short epoch sends no batch losses: its first point is
        the epoch's)."""
        total = 0
        for series in window.plots.series.values():
            x, _y = series.curve.getOriginalDataset()
            total += 0 if x is None else len(x)
        return total

    painted = [0]
    paint = window.plots._glw.on_paint

    def counting_paint(ms):
        painted[0] += 1
        paint(ms)

    window.plots._glw.on_paint = counting_paint

    def check() -> None:
        session = window.session
        if "shown" not in state:
            scatter = window.data_panel.scatter
            layers = window.model_panel.stack.topLevelItemCount()
            if not (window.isVisible() and session.dataset is not None and len(scatter.data) > 0
                    and layers == len(session.spec.model.layers) > 0):
                return
            window.repaint()  # paints now, synchronously: the figure includes the first paint
            state["shown"] = seconds_since_start()
            print(f"startup shown={state['shown']:.3f}", flush=True)
            poll.setInterval(50)  # fewer wake-ups while torch imports on the other thread
        if "trainable" not in state:
            elapsed = seconds_since_start()
            if not session.validity[0] and elapsed < 60:
                return
            state["trainable"] = elapsed
            print(f"startup trainable={elapsed:.3f} ok={session.validity[0]} reason={session.validity[1]!r}",
                  flush=True)
            if not session.validity[0]:
                window.close()
                return
            spare = getattr(session._pool, "_spare", None)
            state["spare"] = int(spare is not None and spare.wait_ready(0.001))
            poll.setInterval(5)
            state["clicked"] = time.perf_counter()
            state["paints"] = painted[0]
            window.train_action.trigger()  # the person clicks Train as soon as they can
            return
        waited = time.perf_counter() - state["clicked"]
        if (drawn_points() > 0 and painted[0] > state["paints"]) or waited > 120:
            poll.stop()
            print(f"startup first_point={waited:.3f} spare_ready={state['spare']}", flush=True)
            window.shutdown(wait=False)  # the run is stopped by its own thread; no "stop the run?" box
            window.close()

    poll.timeout.connect(check)
    poll.start()


def main() -> int:
    from workbench.gui import app

    create_window = app.create_window

    def probed(project=None):
        window = create_window(project)
        install(window)
        return window

    app.create_window = probed
    return app.main([])


if __name__ == "__main__":
    raise SystemExit(main())
