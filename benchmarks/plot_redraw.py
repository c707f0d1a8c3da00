"""Redraw time of the live curves with a 1e6-point training-loss curve (goal: <= 10 ms).

    QT_QPA_PLATFORM=offscreen python benchmarks/plot_redraw.py [--points 1000000] [--repeats 60]

Measured on a LiveCurves widget (900x640, smoothing on so two 1e6-point curves are drawn:
the faint raw one and the smoothed one; each frame hands pyqtgraph ~2 points per pixel column
from the series' min/max pyramid, see gui/plots/decimate.py), offscreen raster painting:
  repaint       a full repaint of the plot area with nothing new (e.g. an expose)
  append+draw   100 new points arrive, the ~30 Hz timer pushes them and the plot repaints:
                what each live frame costs
  zoomed        as append+draw with the view zoomed to 10 % of the x range (clip to view)
  smoothing     recomputing the smoothed curve after a slider move (1e6 points)
and, at small N (200 points), a repaint with and without pyqtgraph's grid (showGrid alpha).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def median_ms(fn, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=60)
    args = ap.parse_args(argv)

    import numpy as np
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    from workbench.core.training import BatchProgress
    from workbench.gui.plots.live_curves import LiveCurves

    w = LiveCurves()
    w.resize(900, 640)
    w.show()
    app.processEvents()
    n = args.points
    rng = np.random.default_rng(0)
    steps = np.arange(1, n + 1, dtype=np.float64)
    loss = 2.0 * np.exp(-steps / (n / 5)) + 0.1 + rng.normal(0, 0.05, n)
    spe = 1000
    # Fill the buffers directly (1e6 events through handle_event would only time Python).
    w.run.batches.extend(np.column_stack([steps, steps / spe, steps * 1e-3, loss]))
    w.run.lrs.extend(np.column_stack([steps[::100], steps[::100] / spe, steps[::100] * 1e-3,
                                      np.full(n // 100, 0.01)]))
    w.run.lr_lo = w.run.lr_hi = 0.01
    w.flush()
    view = w._glw.viewport()
    view.repaint()
    app.processEvents()

    rows = []
    rows.append(("repaint (nothing new)", *median_ms(view.repaint, args.repeats)))

    state = {"step": n}

    def append_and_draw():
        for _ in range(100):
            state["step"] += 1
            s = state["step"]
            w.handle_event(BatchProgress(epoch=s // spe + 1, batch=s % spe, batches=spe, step=s,
                                         loss=0.1, lr=0.01, samples_per_s=1.0, elapsed=s * 1e-3))
        w.flush()
        view.repaint()

    rows.append(("append 100 + redraw + repaint", *median_ms(append_and_draw, args.repeats)))
    w.loss_plot.vb.setXRange(0.45 * n, 0.55 * n, padding=0)
    w.loss_plot.vb.sigRangeChangedManually.emit([True, True])  # as a mouse zoom would
    rows.append(("  same, zoomed to 10 % (clip)", *median_ms(append_and_draw, args.repeats)))
    w.follow()

    def slider():
        w.set_smoothing(0.7 if w.smoothing != 0.7 else 0.8)
        w.flush()
        view.repaint()

    rows.append(("smoothing slider moved (recompute)", *median_ms(slider, max(5, args.repeats // 6))))

    # Small N: the grid's cost (the reason the live curves have no grid).
    small = LiveCurves()
    small.resize(900, 640)
    small.show()
    app.processEvents()
    small.run.batches.extend(np.column_stack([steps[:200], steps[:200] / 20, steps[:200], loss[:200]]))
    small.flush()
    sview = small._glw.viewport()
    sview.repaint()
    rows.append(("200 points, no grid: repaint", *median_ms(sview.repaint, args.repeats)))
    for plot in small.plots:
        plot.showGrid(x=True, y=True, alpha=0.3)
    sview.repaint()
    rows.append(("200 points, showGrid(alpha=0.3)", *median_ms(sview.repaint, args.repeats)))

    print(f"LiveCurves redraw, {n:,} points in the train-loss curve (raw + smoothed, noisy), "
          f"900x640, offscreen, {args.repeats} repeats")
    print(f"{'':38s}{'median ms':>10s}{'p90 ms':>9s}")
    for name, med, p90 in rows:
        print(f"{name:38s}{med:10.2f}{p90:9.2f}")
    goal = rows[1][1]
    print(f"goal: live frame (append + redraw + repaint) <= 10 ms: "
          f"{'met' if goal <= 10 else 'NOT met'} ({goal:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
