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
    "alert": ("#e6550d", "#ff9f43"),
    "best": ("#2ca02c", "#69db7c"),
}

# Overlays (past runs): distinct from each other and from the live run's role colours (train
# blue, validation orange, learning-rate green, overfitting red), so an overlaid run is never
# read as the learning rate or the live validation curve.
_OVERLAY_LIGHT = ["#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#5254a3", "#393b79", "#7b4173",
                  "#de9ed6", "#6b6ecf"]
_OVERLAY_DARK = ["#c39bff", "#c49a9a", "#ff9ad5", "#4dd8e8", "#e0e060", "#9c9ede", "#8c8cff", "#d291bc",
                 "#f7b6d2", "#e6b8ff"]
ROLE_HUE_MARGIN = 0.06  # generated overlay hues keep this far (of the colour circle) from role hues


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
        # More runs than the palette: spread hues by the golden angle (still distinct), skipping
        # the hues of the live run's roles.
        role_hues = [QColor(light).hsvHueF() for light, _dark in _ROLES.values() if QColor(light).hsvHueF() >= 0]
        i = len(colors)
        while len(colors) < n:
            hue = (0.11 + i * 0.618034) % 1.0
            i += 1
            if any(min(abs(hue - r), 1 - abs(hue - r)) < ROLE_HUE_MARGIN for r in role_hues):
                continue
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
