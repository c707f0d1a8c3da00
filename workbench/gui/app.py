"""The Workbench application: QApplication, theme, the main window, `main()`.

`workbench` (and `python -m workbench`) end up in `main()`. The window shows with the spiral
sample and a small model ready (or the project named on the command line, or unsaved work
restored from the last session); the spare training process is spawned first thing, so it has
imported torch by the time Train can be clicked and the first click starts at once.

Nothing before the window imports torch (seconds on a small machine): the spec, the catalog and
the data loaders do without it. It is imported on a background thread once the window is up
(Session.warm_engine); the model summary and the device list fill in when it is there.

The objects those imports leave (Qt, pyqtgraph, numpy, torch: ~300 000) live as long as the
app, so they are moved out of the garbage collector's sight (`freeze_long_lived`): a full
collection scanning them held the GUI thread ~350 ms, and loading a 10 000-run history set one
off at every run's start and end (benchmarks/gui_latency.py). Collections also run on the GUI
thread only (pyqtgraph's GarbageCollector, on a timer): one set off by a background thread's
allocations destroyed Qt objects on that thread ("Timers cannot be stopped from another thread").

How long all this takes is measured from outside: benchmarks/startup_time.py runs `main()`
through benchmarks/startup_probe.py.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Sequence

from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

import workbench

ORGANIZATION = "Workbench"
STOP_AT_EXIT_S = 5.0  # after the window closed during a run: the longest the process stays for it
ENGINE_DELAY_MS = 1000  # the latest this process starts importing torch, after the window shows
APPLICATION = "workbench"


def create_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), named and themed."""
    app = QApplication.instance()
    if app is None:
        QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0], *(argv or [])])
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(workbench.__version__)
    app.setApplicationDisplayName("Workbench")
    app.setDesktopFileName("workbench")
    from workbench.gui.theme import apply_theme, icon

    dark = QSettings().value("view/dark", False, type=bool)
    apply_theme(app, dark)
    app.setWindowIcon(icon("app"))
    return app


def create_window(project: str | None = None):
    """The main window with a project file, restored unsaved work, or the default experiment."""
    from workbench.gui.main_window import MainWindow

    window = MainWindow()
    if project:
        window.project.open_path(project, ask=False)
    else:
        window.project.restore_autosave()
    return window


GC_INTERVAL_S = 0.25


def collect_garbage_on_gui_thread():
    """gc.disable(), and collect on a GUI-thread timer every GC_INTERVAL_S instead (pyqtgraph's
    GarbageCollector): a collection set off by a background thread's allocations would destroy
    Qt objects caught in cycles on that thread. Keep the returned object; `.timer.stop()` and
    gc.enable() undo it.

    A young-generation collection costs about as much as the objects made since the last one:
    once a second, while a fast run streamed events and the history refreshed, that was ~50 000
    objects and 32 ms of the GUI thread; four times a second it is a quarter of that each."""
    from pyqtgraph.util.garbage_collector import GarbageCollector

    return GarbageCollector(interval=GC_INTERVAL_S)


def freeze_long_lived(window) -> None:
    """gc.freeze() now and once torch has been imported: what exists then (modules, classes, the
    window) is never collected as a cycle, so full collections scan only what came later. The
    app's own window lives as long as the process; objects that die are still freed by their
    reference counts. Cyclic garbage is collected on the GUI thread, each second. Only for the
    app's one window (tests open and close many)."""
    window.gc_was_enabled = gc.isenabled()
    gc.freeze()
    window.session.engine_ready.connect(gc.freeze)
    window.garbage_collector = collect_garbage_on_gui_thread()


def release_long_lived(window) -> None:
    """Undo freeze_long_lived once the window is gone (main() returning inside a longer-lived
    process, as in tests): automatic collection again, every object in its sight."""
    collector = getattr(window, "garbage_collector", None)
    if collector is not None:
        collector.timer.stop()
        window.garbage_collector = None
    if getattr(window, "gc_was_enabled", True):
        gc.enable()
    gc.unfreeze()


def _splash():
    from PySide6.QtGui import QColor, QPainter, QPixmap
    from PySide6.QtWidgets import QSplashScreen

    from workbench.gui.theme import ACCENT, icon

    pixmap = QPixmap(360, 140)
    pixmap.fill(QColor(ACCENT))
    painter = QPainter(pixmap)
    icon("app").paint(painter, 24, 38, 64, 64)
    font = painter.font()
    font.setPointSize(20)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(104, 80, "Workbench")
    painter.end()
    splash = QSplashScreen(pixmap)
    splash.showMessage("Loading…", Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignRight, QColor("white"))
    splash.show()
    QApplication.processEvents()
    return splash


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    project = next((a for a in argv if not a.startswith("-")), None)
    # Training children inherit this and leave one core to the window (core.batching.threads_for)
    os.environ.setdefault("WORKBENCH_GUI", "1")
    app = create_app([a for a in argv if a.startswith("-")])
    # The spare training process first: it imports torch (1-2 s) on the other core while this
    # one builds the window, and is ready by the time Train can first be clicked.
    from workbench.core.execution import WarmPool

    pool = WarmPool()
    # Show that something is happening while the window is built. Not offscreen (tests,
    # benchmarks): nobody sees it there, and Qt waits its full 1 s timeout for it to be exposed.
    splash = _splash() if QApplication.platformName() not in ("offscreen", "minimal") else None
    try:
        window = create_window(project)
        window.session.adopt_pool(pool)
        window.show_first()
    except BaseException:
        pool.close()  # (its child would only go at exit)
        raise
    if splash is not None:
        splash.finish(window)
    freeze_long_lived(window)
    # This process imports its own torch on a background thread (for the model summary, which
    # asks for it once the data is shown; at the latest ENGINE_DELAY_MS after the window), while
    # the person looks at the window and the spare finishes its import.
    QTimer.singleShot(ENGINE_DELAY_MS, window, window.session.warm_engine)
    code = app.exec()
    release_long_lived(window)
    # The window is gone; a run it left stopping gets a moment to record itself as stopped
    # (its thread kills the child after the stop grace).
    window.session.wait_runs_ended(STOP_AT_EXIT_S)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
