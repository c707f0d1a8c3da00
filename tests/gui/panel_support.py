"""Helpers shared by the data/model panel and param form tests: a real Session on a temporary
run store, waiting for its background loads, and driving widgets as a person would."""

from __future__ import annotations

from pathlib import Path

import pytest

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QTreeWidget, QTreeWidgetItem

from workbench.core.spec import parse_spec
from workbench.gui.session import Session

# Opening a combo's list on the offscreen platform warns that it cannot raise the popup or grab
# the keyboard/mouse: platform limits like propagateSizeHints, not problems of the app.
OFFSCREEN_POPUPS = pytest.mark.qt_log_ignore(
    r"This plugin does not support (raise\(\)|grabbing the keyboard|grabbing the mouse)"
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def make_session(qtbot, tmp_path, spec: dict | None = None) -> Session:
    session = Session(parse_spec(spec) if spec is not None else None, store_path=tmp_path / "runs.db")
    wait_idle(qtbot, session)
    return session


def wait_idle(qtbot, session: Session, timeout: int = 15000) -> None:
    """Until the background load (and the summary/validity check after it) is done."""
    # the session rechecks on a zero-time timer after the load
    qtbot.waitUntil(lambda: not session.is_loading and not session._recheck_timer.isActive(), timeout=timeout)


def load(qtbot, session: Session, source: str) -> None:
    session.load_data(source)
    wait_idle(qtbot, session)


def choose(qtbot, combo: QComboBox, data) -> None:
    """Open the combo's list and click the item holding `data`, as a person would."""
    index = combo.findData(data)
    assert index >= 0, f"{data!r} not in the combo"
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=2000)
    model_index = view.model().index(index, combo.modelColumn(), view.rootIndex())
    view.scrollTo(model_index)
    rect = view.visualRect(model_index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=2000)
    assert combo.currentIndex() == index


def click_item(qtbot, tree: QTreeWidget, item: QTreeWidgetItem, double: bool = False) -> None:
    tree.scrollToItem(item, QAbstractItemView.ScrollHint.EnsureVisible)
    pos = tree.visualItemRect(item).center()
    if double:
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    else:
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def press_key(qtbot, widget, key, times: int = 1) -> None:
    widget.setFocus()
    for _ in range(times):
        qtbot.keyClick(widget, key)


def item_center(tree: QTreeWidget, item: QTreeWidgetItem, fraction: float = 0.5) -> QPoint:
    rect = tree.visualItemRect(item)
    return QPoint(rect.center().x(), rect.top() + int(rect.height() * fraction))


def save_shot(widget, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    widget.grab().save(str(path))
    return path
