"""A pyqtgraph plot in the app's colours (background and axes from the palette), for the
Evaluate page's views."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from workbench.gui.plots.palette import PlotColors, style_axes
from workbench.gui.plots.trial_axes import plain_numbers

__all__ = ["themed_plot", "plot_colors", "themed_legend", "restyle"]


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
