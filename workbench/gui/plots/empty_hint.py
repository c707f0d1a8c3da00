"""Words over a plot that has nothing to draw yet ("Press Train…"), as a card centred on it:
empty axes with made-up 0-1 ranges look like data."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractScrollArea, QLabel, QVBoxLayout

__all__ = ["add_empty_hint"]

HINT_WIDTH = 420  # px at most: a few short lines read better than one long one


def add_empty_hint(view: QAbstractScrollArea, text: str, name: str) -> QLabel:
    """A label centred over `view` (a pyqtgraph GraphicsView), shown until the owner hides it;
    mouse events pass through it to the plot."""
    hint = QLabel(text, objectName=name, wordWrap=True)
    hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
    hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    hint.setMaximumWidth(HINT_WIDTH)
    hint.setMargin(10)
    hint.setBackgroundRole(QPalette.ColorRole.Base)  # over the axis lines, as a card
    hint.setAutoFillBackground(True)
    over = QVBoxLayout(view.viewport())
    over.addWidget(hint, 0, Qt.AlignmentFlag.AlignCenter)
    return hint
