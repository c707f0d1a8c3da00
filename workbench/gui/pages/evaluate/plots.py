"""A pyqtgraph plot in the app's colours (background and axes from the palette), for the
Evaluate page's views."""

from __future__ import annotations

import types

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from workbench.core.evaluation import format_value

from workbench.gui.plots.palette import PlotColors, style_axes
from workbench.gui.plots.readable_axis import tick_text
from workbench.gui.plots.trial_axes import plain_numbers

__all__ = ["themed_plot", "plot_colors", "themed_legend", "restyle", "units_axes"]


def plot_colors() -> PlotColors:
    return PlotColors(QApplication.palette())


def themed_plot(name: str, title: str = "", x: str = "", y: str = "", *, still: bool = False,
                grid: bool = True) -> pg.PlotWidget:
    """A PlotWidget named `name` with a title and axis labels; `still`: no mouse panning/zooming."""
    widget = pg.PlotWidget(objectName=name)
    restyle(widget)
    item = widget.getPlotItem()
    item.hideButtons()
    item.setMenuEnabled(False)
    if still:
        item.setMouseEnabled(x=False, y=False)
    if grid:
        item.showGrid(x=True, y=True, alpha=0.15)
    if title:
        item.setTitle(title)
    if x:
        item.setLabel("bottom", x)
    if y:
        item.setLabel("left", y)
    style_axes(item, plot_colors())
    for side in ("left", "bottom"):
        plain_numbers(item.getAxis(side))
    return widget


def themed_legend(widget: pg.PlotWidget, offset=(8, 8)) -> pg.LegendItem:
    """A legend readable over images and curves: the palette's text on a translucent background."""
    colors = plot_colors()
    return widget.getPlotItem().addLegend(offset=offset, brush=colors.legend_brush(),
                                          labelTextColor=colors.foreground)


def restyle(widget: pg.PlotWidget) -> None:
    """Background and axes in the current palette's colours (after a theme change too)."""
    colors = plot_colors()
    widget.setBackground(colors.background)
    style_axes(widget.getPlotItem(), colors)


def _unit_tick_strings(axis: pg.AxisItem, values, scale, spacing) -> list[str]:
    if spacing and spacing * scale >= 1 and max((abs(v * scale) for v in values), default=0) >= 1000:
        return [format_value(v * scale) for v in values]  # "1,300,000", not "1.3e+06"
    return [tick_text(v * scale, spacing * scale if spacing else None) for v in values]


def units_axes(widget: pg.PlotWidget, sides=("left", "bottom")) -> None:
    """Tick labels of values in a target's own units as people write them ("250,000")."""
    for side in sides:
        axis = widget.getPlotItem().getAxis(side)
        axis.tickStrings = types.MethodType(_unit_tick_strings, axis)
