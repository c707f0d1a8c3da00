"""Right-click on a plot: copy it or save it as an image (the walkthrough found no way to take a
curve out of the app for a report or a slide)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint
from PySide6.QtGui import QContextMenuEvent, QImage
from PySide6.QtWidgets import QApplication, QMenu

from workbench.gui.plots import image_menu


def _right_click(widget) -> None:
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, QPoint(20, 20), widget.mapToGlobal(QPoint(20, 20)))
    QApplication.sendEvent(widget, event)


def test_right_click_on_a_window_plot_offers_copy_and_save(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    window.show_page("train")
    plot = window.plots.findChild(pg.GraphicsView)
    assert plot is not None
    shown: list[QMenu] = []
    monkeypatch.setattr(QMenu, "popup", lambda menu, pos, action=None: shown.append(menu))
    _right_click(plot.viewport())
    assert len(shown) == 1
    actions = {a.text(): a for a in shown[0].actions()}
    assert list(actions) == ["Copy image", "Save image…"]

    actions["Copy image"].trigger()
    copied = QApplication.clipboard().pixmap()
    assert not copied.isNull() and copied.size() == plot.grab().size()

    target = tmp_path / "shots" / "loss"
    target.parent.mkdir()
    monkeypatch.setattr(image_menu, "save_file", lambda *a, **k: str(target))
    actions["Save image…"].trigger()
    saved = QImage(str(target.with_suffix(".png")))
    assert not saved.isNull() and saved.size() == plot.grab().size()


def test_save_plot_image_writes_what_is_shown(qtbot, tmp_path):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(320, 200)
    plot.plot(np.arange(10.0), np.arange(10.0) ** 2)
    written = image_menu.save_plot_image(plot, str(tmp_path / "curve.jpg"))
    assert written.endswith("curve.jpg") and QImage(written).width() == plot.grab().width()


def test_the_crosshair_is_left_out_of_a_saved_image(qtbot, tmp_path):
    """The walkthrough's saved loss curve had the crosshair line of the right-click in it."""
    from PySide6.QtGui import QColor

    from workbench.gui.plots.live_curves import LiveCurves

    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.resize(600, 400)
    curves.show()
    qtbot.waitExposed(curves)
    view = curves._glw
    before = image_menu.grab_plot(view).toImage()
    for line in curves.crosshair.lines:
        line.setPen(QColor("#ff00ff"))
    curves.show_crosshair(0.5)  # the mouse is over the plot
    assert all(line.isVisible() for line in curves.crosshair.lines)
    assert view.grab().toImage() != before  # (the line is drawn on screen)
    written = image_menu.save_plot_image(view, str(tmp_path / "loss.png"))
    assert QImage(written).convertToFormat(before.format()) == before  # not in the image
    assert all(line.isVisible() for line in curves.crosshair.lines)  # and still on screen
