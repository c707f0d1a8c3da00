"""The Workbench application: QApplication, theme, the main window, `main()`.

`workbench` (and `python -m workbench`) end up in `main()`. The window shows with the spiral
sample and a small model ready (or the project named on the command line, or unsaved work
restored from the last session); the spare training process is spawned right after the
window appears, so the first click on Train starts at once.
"""

from __future__ import annotations

import os
import sys
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
    splash.showMessage("Loading PyTorch…", Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignRight, QColor("white"))
    splash.show()
    QApplication.processEvents()
    return splash


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    project = next((a for a in argv if not a.startswith("-")), None)
    app = create_app([a for a in argv if a.startswith("-")])
    splash = _splash()  # PyTorch takes seconds to import; show that something is happening
    window = create_window(project)
    window.show()
    splash.finish(window)
    # The spare child imports torch while the person looks at the window.
    QTimer.singleShot(300, window, window.session.warm_pool)
    if os.environ.get("WORKBENCH_QUIT_AFTER_MS"):  # smoke tests and startup timing
        QTimer.singleShot(int(os.environ["WORKBENCH_QUIT_AFTER_MS"]), window, window.close)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
