"""Colours for plots, taken from the widget's QPalette so light and dark themes both read well."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette

# Live-run roles. Light variants are the matplotlib "tab" colours; dark variants are lighter so
# they keep their contrast on a dark background.
_ROLES = {
    "train": ("#1f77b4", "#5aa9ff"),
    "val": ("#ff7f0e", "#ffa94d"),
    "lr": ("#2ca02c", "#69db7c"),
    "overfit": ("#d62728", "#ff6b6b"),
    "marker": ("#6c6c6c", "#a0a0a0"),
}

# Overlays (past runs): distinct from each other and from the live train/validation colours.
_OVERLAY_LIGHT = ["#9467bd", "#2ca02c", "#d62728", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
                  "#7f7f7f", "#393b79", "#637939"]
_OVERLAY_DARK = ["#c39bff", "#69db7c", "#ff6b6b", "#d9a066", "#ff9ad5", "#4dd8e8", "#e0e060",
                 "#c8c8c8", "#8c8cff", "#a8d080"]


class PlotColors:
    """Background/foreground and curve colours for one palette."""

    def __init__(self, palette: QPalette):
        self.background = QColor(palette.color(QPalette.ColorRole.Base))
        self.foreground = QColor(palette.color(QPalette.ColorRole.Text))
        self.dark = self.background.lightnessF() < 0.5

    def role(self, name: str) -> QColor:
        light, dark = _ROLES[name]
        return QColor(dark if self.dark else light)

    def faint(self, color: QColor, alpha: int = 70) -> QColor:
        c = QColor(color)
        c.setAlpha(alpha)
        return c

    def legend_brush(self) -> QColor:
        c = QColor(self.background)
        c.setAlpha(200)
        return c

    def overlay_colors(self, n: int) -> list[QColor]:
        base = _OVERLAY_DARK if self.dark else _OVERLAY_LIGHT
        colors = [QColor(c) for c in base[:n]]
        # More runs than the palette: spread hues by the golden angle (still distinct).
        for i in range(len(colors), n):
            hue = (0.11 + i * 0.618034) % 1.0
            colors.append(QColor.fromHsvF(hue, 0.65, 0.95 if self.dark else 0.75))
        return colors

    def apply_global(self) -> None:
        """Items created from now on (by any plot) start with these colours."""
        pg.setConfigOptions(background=self.background, foreground=self.foreground)


def style_axes(plot: pg.PlotItem, colors: PlotColors) -> None:
    axis_pen = pg.mkPen(colors.foreground)
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(axis_pen)
        axis.setTextPen(axis_pen)
        if axis.label is not None:
            axis.label.setDefaultTextColor(colors.foreground)
    title = plot.titleLabel
    title.setText(title.text, color=colors.foreground.name())
