"""Colours for classes, shared by the data scatter, thumbnails and the class-balance bars.

Tableau-10: distinguishable on light and dark backgrounds and for most colour-blind viewers.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

TAB10 = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)


def class_color(index: int) -> QColor:
    """Colour of class `index` (cycles after ten classes)."""
    return QColor(TAB10[index % len(TAB10)])


def class_rgb(index: int) -> tuple[int, int, int]:
    c = class_color(index)
    return c.red(), c.green(), c.blue()
