"""Render every page of the window at 1366×768 and 1920×1080, for the README and for review.

    python -m workbench.gui.screenshots OUT_DIR [--sizes 1366x768,1920x1080] [--pages data,train] [--dark]

Offscreen, in a throwaway run store and settings (never the user's). The scene is what a person
has after a short session: a CSV loaded (with a categorical column and a few missing values), a
model trained on it, a finished sweep on the spiral sample, and those runs in the history. Each
page is saved as `<page>-<width>x<height>.png`.

A page gets a screenshot as soon as it is added to the window. To show it at its best, add a
function to PREPARE: it gets the window and the Scene before the page is captured, and may
return a condition the script waits for (at most WAIT_S, or the condition's `timeout`
attribute) before it grabs the page:

    def _prepare_evaluate(window, scene):
        window.pages.page("evaluate").show_run(scene.run_id)
        return lambda: window.pages.page("evaluate").is_ready

    PREPARE["evaluate"] = _prepare_evaluate
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

SIZES = ((1366, 768), (1920, 1080))
WAIT_S = 60.0  # longest wait for any one condition (a loaded machine is slow, never stuck)
SWEEP_SPACE = {"optimizer.lr": {"log_uniform": [0.002, 0.05]}, "model.layers.0.out_features": {"int": [8, 64]}}


@dataclass
class Scene:
    """What the screenshots show: paths and ids a PREPARE function may use."""

    folder: Path
    csv_path: Path
    store_path: Path
    run_id: int | None = None  # the run trained on the CSV, with its checkpoints
    study: str | None = None  # the finished sweep
    storage: str | None = None
    sweep_error: str = ""
    extra: dict = field(default_factory=dict)


Prepare = Callable[["object", Scene], "Callable[[], bool] | None"]
PREPARE: dict[str, Prepare] = {}


def _prepare_runs(window, scene: Scene):
    panel = window.runs_panel
    if scene.run_id is not None:
        panel.select_ids([scene.run_id])
    return lambda: panel.details.run_id == scene.run_id


def _prepare_sweeps(window, scene: Scene):
    panel = window.sweep_panel
    panel.tabs.setCurrentIndex(1)  # parallel coordinates: what a sweep is about
    return lambda: bool(panel.trials)


def _prepare_evaluate(window, scene: Scene):
    page = window.pages.page("evaluate")
    if scene.run_id is not None:
        page.show_run(scene.run_id)  # the confusion matrix with the misclassified rows beside it
    return lambda: page.sp is not None and (page.sp.task != "classification" or page.ovr is not None)


def _prepare_export(window, scene: Scene):
    """The scene's run exported as ONNX (the parity sentence shown), then its compressed variants
    measured (the table and the sparsity curve filled): one step per check, done once."""
    page = window.pages.page("export")
    done = scene.extra.setdefault("export", set())

    def step() -> bool:
        if scene.run_id is None:
            return True
        if page.selected_run_id() != scene.run_id:
            page.select_run(scene.run_id)  # the list fills in the background
            return False
        if page.job.running or page.compress.job.running:
            return False
        if "onnx" not in done:
            done.add("onnx")
            page.folder_edit.setText(str(scene.folder / "exported"))
            page.start_export()
            return False
        if "compress" not in done:
            done.add("compress")
            page.compress.start()
            return False
        return True

    step.timeout = WAIT_S * 4  # an export and a compression (every method, the curve) in child processes
    return step


def _prepare_model(window, scene: Scene):
    stack = window.model_panel.stack
    stack.setCurrentItem(stack.topLevelItem(0))  # the parameter form beside the stack is filled
    return lambda: bool(stack.selectedItems())


PREPARE["model"] = _prepare_model
PREPARE["runs"] = _prepare_runs
PREPARE["sweeps"] = _prepare_sweeps
PREPARE["evaluate"] = _prepare_evaluate
PREPARE["export"] = _prepare_export


def write_sample_csv(path: Path, rows: int = 240, seed: int = 0) -> Path:
    """Penguin-like measurements: four numbers, an island (categorical), a species to predict,
    and a few missing values (what a person's own file tends to look like)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    species = rng.integers(0, 3, rows)
    centres = np.array([[39.0, 18.3, 190.0, 3700.0], [48.8, 18.4, 196.0, 3730.0], [47.5, 15.0, 217.0, 5080.0]])
    spread = np.array([4.0, 1.6, 9.0, 600.0])  # overlapping species: a model has something to learn
    values = centres[species] + rng.normal(size=(rows, 4)) * spread
    islands = np.array(["Biscoe", "Dream", "Torgersen"])[(species + rng.integers(0, 2, rows)) % 3]
    names = np.array(["Adelie", "Chinstrap", "Gentoo"])[species]
    lines = ["bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,island,species"]
    for i in range(rows):
        cells = [f"{v:.1f}" for v in values[i]]
        if i % 53 == 7:
            cells[1] = ""  # a few missing values
        lines.append(",".join([*cells, islands[i], names[i]]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _sweep_spec():
    """The sweep's spec, read on the main thread: two threads importing pydantic at once met its
    lazily loaded parts half-initialised ("cannot import name 'import_string' from partially
    initialized module", 2 of ~10 runs, at start)."""
    from workbench.core.locations import preset_path
    from workbench.core.spec import load_spec

    return load_spec(preset_path("spiral")).with_values({"train.epochs": 25, "data.n_samples": 300})


def _run_sweep(scene: Scene, spec) -> None:
    """A small finished sweep on the spiral sample, in worker processes (a background thread)."""
    try:
        from workbench.core.sweep import SweepFinished, SweepStarted, run_sweep

        storage = f"sqlite:///{scene.folder / 'sweeps.db'}"
        for event in run_sweep(spec, SWEEP_SPACE, strategy="random", n_trials=8, parallel=1, seed=1,
                               store_path=str(scene.store_path), storage=storage):
            if isinstance(event, SweepStarted):
                scene.study, scene.storage = event.study, storage
            elif isinstance(event, SweepFinished):
                break
    except Exception as err:  # the other pages still get their screenshots
        scene.sweep_error = f"{type(err).__name__}: {err}"


def _wait(app, condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            print(f"  (gave up waiting for {what})", file=sys.stderr)
            return False
        app.processEvents()
        time.sleep(0.01)
    return True


def _settle(app, seconds: float = 0.3) -> None:
    """Let layouts, timers and queued signals run, as the next frames would for a person."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def build_scene(app, window, scene: Scene) -> None:
    """Load the CSV, train a model on it (in this process: fast to start) and wait for the sweep."""
    session = window.session

    def ready() -> bool:
        return not session.is_loading and session.validity[1] != "Loading data…" and session.engine_is_ready

    session.warm_engine()
    window.data_panel.load_path(str(scene.csv_path))  # as a person opens a file
    session.edit({"data.missing": "impute", "data.target": "species", "train.epochs": 60, "train.checkpoint": True,
                  "optimizer.lr": 0.003, "model.layers.0.out_features": 32, "model.layers.2.out_features": 32},
                 text="Screenshot setup")  # …then picks Impute for the missing values it reports
    _wait(app, lambda: ready() and session.dataset is not None, "the CSV")
    _wait(app, lambda: ready() and session.validity[0], "Train to be possible")
    window.train_action.trigger()
    _wait(app, lambda: session.state == "idle" and window.progress.text().startswith(("Finished", "Stopped")),
          "the run to finish", timeout=WAIT_S * 3)
    from workbench.core.runs import RunStore

    store = RunStore(str(scene.store_path))
    try:
        runs = [r for r in store.list_runs() if "sweep" not in (r.tags or [])]
        scene.run_id = max((r.id for r in runs), default=None)
    finally:
        store.close()


def capture(app, window, scene: Scene, out: Path, sizes, pages) -> list[Path]:
    saved = []
    for width, height in sizes:
        window.resize(width, height)
        _settle(app, 0.3)
        for key in pages:
            window.pages.show_page(key)
            _settle(app, 0.2)
            prepare = PREPARE.get(key)
            condition = prepare(window, scene) if prepare else None
            if condition is not None:
                _wait(app, condition, f"the {key} page", getattr(condition, "timeout", WAIT_S))
            _settle(app, 0.4)
            path = out / f"{key}-{width}x{height}.png"
            window.grab().save(str(path))
            saved.append(path)
            print(path, flush=True)
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.gui.screenshots", description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="folder for the PNGs (created)")
    parser.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in SIZES), help="e.g. 1366x768,1920x1080")
    parser.add_argument("--pages", default="", help="page keys, comma separated (default: every page)")
    parser.add_argument("--dark", action="store_true", help="the dark theme")
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep (its page shows empty)")
    args = parser.parse_args(argv)
    try:
        sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",") if s]
    except ValueError:
        parser.error(f"--sizes: expected WIDTHxHEIGHT[,WIDTHxHEIGHT…], got {args.sizes!r}")
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    folder = Path(tempfile.mkdtemp(prefix="workbench-screenshots-"))
    os.environ["WORKBENCH_STORE"] = str(folder / "runs.db")
    os.environ["WORKBENCH_DATA_DIR"] = str(folder / "appdata")
    scene = Scene(folder=folder, csv_path=write_sample_csv(folder / "penguins.csv"), store_path=folder / "runs.db")
    started = time.monotonic()

    sweep = threading.Thread(target=_run_sweep, args=(scene, None if args.no_sweep else _sweep_spec()),
                             name="screenshot-sweep", daemon=True)
    if not args.no_sweep:
        sweep.start()  # its workers import torch while the window is built

    from PySide6.QtCore import QCoreApplication, QSettings

    from workbench.gui.app import create_app

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "settings"))
    app = create_app([])
    QCoreApplication.setOrganizationName("WorkbenchScreenshots")
    from workbench.gui.main_window import MainWindow
    from workbench.gui.session import Session
    from workbench.gui.theme import apply_theme
    from workbench.gui.worker import InProcessRun

    apply_theme(app, args.dark)

    def in_process(spec, base_dir, store_path, **options):
        run = InProcessRun(spec, base_dir=base_dir, store_path=store_path, **options)
        run.start()
        return run

    window = MainWindow(Session(run_factory=in_process))
    window.resize(*sizes[0])
    window.show()
    try:
        build_scene(app, window, scene)
        if not args.no_sweep:
            _wait(app, lambda: not sweep.is_alive(), "the sweep", timeout=WAIT_S * 5)
            if scene.study:
                window.sweep_panel.open_sweep(scene.study, scene.storage)
                _wait(app, lambda: bool(window.sweep_panel.trials) and not window.sweep_panel.running,
                      "the sweep to open")
            if scene.sweep_error:
                print(f"the sweep failed: {scene.sweep_error}", file=sys.stderr)
        window.runs_panel.refresh()
        _settle(app, 0.5)
        pages = [k for k in (args.pages.split(",") if args.pages else window.pages.keys()) if k]
        unknown = [k for k in pages if not window.pages.has_page(k)]
        if unknown:
            parser.error(f"no page {', '.join(unknown)}; pages: {', '.join(window.pages.keys())}")
        saved = capture(app, window, scene, out, sizes, pages)
    finally:
        window.shutdown()
        window.close()
    print(f"{len(saved)} screenshots in {out} ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
