"""Helpers shared by the GUI tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations


def wait_ready(qtbot, session, timeout=8000):
    """Until the data has loaded and the session has decided whether Train is possible."""
    qtbot.waitUntil(lambda: not session.is_loading and session.validity[1] != "Loading data…"
                    and not session._recheck_timer.isActive(), timeout=timeout)


def answer_modal(qtbot, button_name: str, seen: list | None = None, delay_ms: int = 50):
    """Click the button named `button_name` in the next modal box, as a person would.

    Call it before the action that opens the box (the box's exec() blocks the test).
    `seen` collects the box's text, to check what was asked.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QAbstractButton, QApplication

    def click():
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(delay_ms, click)
            return
        if seen is not None:
            seen.append(getattr(box, "text", lambda: "")())
        button = box.findChild(QAbstractButton, button_name)
        assert button is not None, f"no button {button_name!r} in {box.objectName()}"
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    from PySide6.QtCore import Qt

    QTimer.singleShot(delay_ms, click)


def on_next_modal(act, delay_ms: int = 30) -> list:
    """Call `act(box)` on the next modal window once it shows (call it before the action that
    opens the box: its exec() blocks the test); returns the list of boxes seen, filled then."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    seen: list = []

    def check():
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(delay_ms, check)
            return
        seen.append(box)
        act(box)

    QTimer.singleShot(delay_ms, check)
    return seen


def choose(qtbot, combo, text: str) -> None:
    """Pick `text` in a combo box with the keyboard (popups cannot open offscreen)."""
    from PySide6.QtCore import Qt

    target = combo.findText(text)
    assert target >= 0, f"{text!r} is not offered; items: {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setFocus()
    key = Qt.Key.Key_Down if target > combo.currentIndex() else Qt.Key.Key_Up
    for _ in range(combo.count()):
        if combo.currentIndex() == target:
            break
        qtbot.keyClick(combo, key)
    assert combo.currentText() == text


def save_screenshot(widget, name: str):
    """Save what `widget` shows to ./screenshots/NAME.png (gitignored) and return the path."""
    from pathlib import Path

    from PySide6.QtWidgets import QApplication

    folder = Path(__file__).resolve().parents[2] / "screenshots"
    folder.mkdir(exist_ok=True)
    from PySide6.QtTest import QTest

    for _ in range(3):  # layouts settle over a few event-loop turns (what a person sees next frame)
        QApplication.processEvents()
        QTest.qWait(15)
    path = folder / f"{name}.png"
    widget.grab().save(str(path))
    return path
