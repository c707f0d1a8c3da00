"""The Workbench application: QApplication, theme, the main window, `main()`.

`workbench` (and `python -m workbench`) end up in `main()`. The window shows with the spiral
sample and a small model ready (or the project named on the command line, or unsaved work
restored from the last session); the spare training process is spawned right after the
window appears, so the first click on Train starts at once.

Nothing before the window imports torch (seconds on a small machine): the spec, the catalog and
the data loaders do without it. It is imported on a background thread once the window is up
(Session.warm_engine); the model summary and the device list fill in when it is there.

WORKBENCH_EXIT_AFTER_SHOWN=1 (benchmarks/startup_time.py) prints how long the window took to
show with its data and layers, then how long until Train could be clicked, and quits.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Sequence

from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

import workbench

ORGANIZATION = "Workbench"
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


def _seconds_since_start() -> float:
    """Seconds since this process started (WORKBENCH_T0, a time.time() set by whoever launched
    it, wins: it also counts the interpreter's own start)."""
    t0 = os.environ.get("WORKBENCH_T0")
    if t0:
        return time.time() - float(t0)
    try:  # Linux: the process's start time, in clock ticks after boot
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter()


def _report_startup(window) -> None:
    """Print `startup shown=<s>` at the first painted window with the data plotted and the layers
    listed, then `startup trainable=<s>` once Train can be clicked (or after 60 s), and quit."""
    poll = QTimer(window, interval=10)
    shown: list[float] = []

    def check() -> None:
        session = window.session
        if not shown:
            scatter = window.data_panel.scatter
            layers = window.model_panel.stack.topLevelItemCount()
            if not (window.isVisible() and session.dataset is not None and len(scatter.data) > 0
                    and layers == len(session.spec.model.layers) > 0):
                return
            window.repaint()  # paints now, synchronously: the figure includes the first paint
            shown.append(_seconds_since_start())
            torch = sys.modules.get("torch")
            imported = torch is not None and not getattr(torch.__spec__, "_initializing", False)
            print(f"startup shown={shown[0]:.3f} torch_imported={imported}", flush=True)
            poll.setInterval(50)  # fewer wake-ups while torch imports on the other thread
        elapsed = _seconds_since_start()
        if session.validity[0] or elapsed > 60:
            poll.stop()
            print(f"startup trainable={elapsed:.3f} ok={session.validity[0]} reason={session.validity[1]!r}",
                  flush=True)
            window.close()

    poll.timeout.connect(check)
    poll.start()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    project = next((a for a in argv if not a.startswith("-")), None)
    # Training children inherit this and leave one core to the window (core.batching.threads_for)
    os.environ.setdefault("WORKBENCH_GUI", "1")
    app = create_app([a for a in argv if a.startswith("-")])
    # Show that something is happening while the window is built. Not offscreen (tests,
    # benchmarks): nobody sees it there, and Qt waits its full 1 s timeout for it to be exposed.
    splash = _splash() if QApplication.platformName() not in ("offscreen", "minimal") else None
    window = create_window(project)
    window.show_first()
    if splash is not None:
        splash.finish(window)
    # torch is imported on a background thread (the summary asks for it once the data is shown;
    # at the latest a second after the window) while the person looks at the window; then the
    # spare child imports its own. One after the other: on two busy cores, importing both at once
    # made each take twice as long (Train enabled ~2x later), and the child is not ready sooner.
    QTimer.singleShot(1000, window, window.session.warm_engine)
    window.session.engine_ready.connect(lambda: QTimer.singleShot(300, window, window.session.warm_pool))
    if os.environ.get("WORKBENCH_EXIT_AFTER_SHOWN"):
        _report_startup(window)
    if os.environ.get("WORKBENCH_QUIT_AFTER_MS"):  # smoke tests and startup timing
        QTimer.singleShot(int(os.environ["WORKBENCH_QUIT_AFTER_MS"]), window, window.close)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
