"""How loading, listing and drawing scale: the figures tests used to assert, measured here instead.

    OMP_NUM_THREADS=1 python benchmarks/scale.py [--repeats 5] [--only samples,images,store,model,runs_table,parallel_coords]

Each line gives the median over --repeats runs, a reference measured interleaved with it in the
same run where a fair one exists, their ratio, and the goal (what the tests used to hold on a
2-core box; a figure over its goal is marked, nothing fails):
  samples          every built-in sample loads (goal 0.2 s each; shapes, 400 PNG files, 1.5 s)
  images           an image folder of 300 32x32 PNGs vs a bare PIL open/convert/resize loop
  store            RunStore.list_runs() of 10 000 runs vs a raw sqlite SELECT of the same rows;
                   and the newest 50 (goal 1.0 s and 0.1 s)
  model            build_model + summarize of a small MLP vs constructing the same nn.Sequential
                   by hand (goal 0.1 s)
  runs_table       the run history listing 10 001 runs (read + table) vs the read alone, and
                   sorting it by a column (goal 1.5 s and 1.0 s)
  parallel_coords  parallel coordinates of 1000 trials (data + paint) vs 100 trials (goal 3 s)
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "gui")]  # runs_support: 10 000 runs in one statement

SPEC = {"name": "scale", "data": {"source": "sample:spiral"},
        "model": {"layers": [{"type": "Linear", "out_features": 16}, {"type": "ReLU"},
                             {"type": "Linear", "out_features": "auto"}]}}


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def report(name: str, ours, reference=None, *, goal: float | None = None, repeats: int, ref_name: str = "") -> None:
    """Median of `ours` (and of `reference`, run alternately with it), the ratio and the goal."""
    ours_t, ref_t = [], []
    for _ in range(repeats):
        ours_t.append(timed(ours))
        if reference is not None:
            ref_t.append(timed(reference))
    med = statistics.median(ours_t)
    line = f"{name:<34} {med * 1e3:9.1f} ms"
    if reference is not None:
        ref = statistics.median(ref_t)
        line += f"   {ref_name or 'reference'} {ref * 1e3:8.1f} ms   ratio {med / ref:6.2f}"
    if goal is not None:
        line += f"   goal <= {goal * 1e3:.0f} ms{'' if med <= goal else '  (OVER)'}"
    print(line, flush=True)


def bench_samples(repeats: int) -> None:
    from workbench.core.data import SAMPLES, load_dataset
    from workbench.core.spec import DataSpec

    for name in sorted(SAMPLES):
        spec = DataSpec(source=f"sample:{name}")
        load_dataset(spec)  # the first load pays for imports
        report(f"sample:{name}", lambda: load_dataset(spec), goal=1.5 if name == "shapes" else 0.2, repeats=repeats)


def bench_images(repeats: int, folder: Path) -> None:
    import numpy as np
    from PIL import Image

    from workbench.core.data import load_dataset
    from workbench.core.spec import DataSpec

    root = folder / "images"
    rng = np.random.default_rng(0)
    for k in ("a", "b", "c"):
        (root / k).mkdir(parents=True)
        for i in range(100):
            Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(root / k / f"{i}.png")
    files = sorted(root.rglob("*.png"))

    def bare_pil():
        return np.stack([np.asarray(Image.open(f).convert("L").resize((28, 28)), np.float32) / 255 for f in files])

    spec = DataSpec(source=str(root))
    report("image folder, 300 files", lambda: load_dataset(spec), bare_pil, ref_name="bare PIL", goal=1.5,
           repeats=repeats)


def ten_thousand_runs(folder: Path) -> Path:
    from runs_support import add_run, bulk_copies

    from workbench.core.runs import RunStore
    from workbench.core.spec import parse_spec

    path = folder / "runs.db"
    with RunStore(path) as store:
        add_run(store, parse_spec(SPEC))
    bulk_copies(path, 9999)
    return path


def bench_store(repeats: int, path: Path) -> None:
    from workbench.core.runs import RunStore

    store = RunStore(path)

    def raw_select():
        with sqlite3.connect(path) as db:
            return db.execute("SELECT * FROM runs ORDER BY id DESC").fetchall()

    report("store: list 10 000 runs", store.list_runs, raw_select, ref_name="raw SELECT", goal=1.0, repeats=repeats)
    report("store: newest 50 of 10 000", lambda: store.list_runs(limit=50), goal=0.1, repeats=repeats)
    store.close()


def bench_model(repeats: int) -> None:
    import torch

    from workbench.core.data import load_dataset
    from workbench.core.spec import parse_spec
    from workbench.core.training import build_model, summarize

    spec = parse_spec(SPEC)
    meta = load_dataset(spec.data).meta

    def ours():
        build_model(spec, meta)
        summarize(spec, meta)

    def by_hand():
        return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))

    ours()
    report("model: build + summary", ours, by_hand, ref_name="nn.Sequential", goal=0.1, repeats=repeats)


def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(sys.argv[:1])


def _until(app, condition, timeout: float = 60.0) -> None:
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the condition did not hold within 60 s")
        app.processEvents()


def bench_runs_table(repeats: int, path: Path) -> None:
    from PySide6.QtCore import Qt

    from workbench.core.runs import RunStore, load_runs
    from workbench.core.spec import parse_spec
    from workbench.gui.panels.runs_panel import RunsPanel
    from workbench.gui.runs.table_model import COL
    from workbench.gui.session import Session

    app = _app()
    session = Session(parse_spec(SPEC), store_path=path)
    panel = RunsPanel(session)
    panel.resize(1300, 420)
    panel.show()
    _until(app, lambda: panel.model.rowCount() == 10_000)
    store = RunStore(path)

    def refresh():  # a run arrives: the whole list is read again and the table takes it
        store.create_run(parse_spec(SPEC), name="one more")
        expected = panel.model.rowCount() + 1
        panel._refresh_now()  # what the panel's 150 ms debounce timer calls
        _until(app, lambda: panel.model.rowCount() == expected)

    def read_only():
        load_runs(store)

    report("runs table: list 10 000+ runs", refresh, read_only, ref_name="store read", goal=1.5, repeats=repeats)
    orders = iter([Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder] * repeats)

    def sort():
        panel.table.sortByColumn(COL["LR"], next(orders))
        app.processEvents()

    report("runs table: sort 10 000+ by LR", sort, goal=1.0, repeats=repeats)
    store.close()
    panel.shutdown()
    session.shutdown()
    _dispose(panel)


def bench_parallel_coords(repeats: int) -> None:
    from test_sweep_views import synthetic_trials

    from workbench.gui.plots.parallel_coords import ParallelCoordinates
    from workbench.gui.selection import TrialSelection

    _app()
    trials = {n: synthetic_trials(n, seed=3) for n in (100, 1000)}
    views = {n: ParallelCoordinates(TrialSelection()) for n in trials}

    def draw(n):
        def go():
            views[n].set_data(trials[n], metric="val_loss")
            views[n].grab()
        return go

    draw(100)()
    report("parallel coordinates: 1000 trials", draw(1000), draw(100), ref_name="100 trials", goal=3.0,
           repeats=repeats)
    _dispose(*views.values())


def _dispose(*widgets) -> None:
    """Delete widgets now: left to interpreter exit, pyqtgraph items can crash on the way out."""
    from PySide6.QtCore import QCoreApplication, QEvent

    for widget in widgets:
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


BENCHES = ("samples", "images", "store", "model", "runs_table", "parallel_coords")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", default=",".join(BENCHES), help="comma-separated: " + ", ".join(BENCHES))
    args = ap.parse_args(argv)
    chosen = [b for b in args.only.split(",") if b]
    unknown = set(chosen) - set(BENCHES)
    if unknown:
        ap.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {', '.join(BENCHES)}")
    with tempfile.TemporaryDirectory(prefix="workbench-scale-") as tmp:
        folder = Path(tmp)
        os.environ["WORKBENCH_STORE"] = str(folder / "session-runs.db")  # never the user's store
        runs = ten_thousand_runs(folder) if {"store", "runs_table"} & set(chosen) else None
        for name in chosen:
            if name == "samples":
                bench_samples(args.repeats)
            elif name == "images":
                bench_images(args.repeats, folder)
            elif name == "store":
                bench_store(args.repeats, runs)
            elif name == "model":
                bench_model(args.repeats)
            elif name == "runs_table":
                bench_runs_table(args.repeats, runs)
            elif name == "parallel_coords":
                bench_parallel_coords(args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
