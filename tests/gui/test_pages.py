"""Pages laid out for the room they have, the runs table's columns, and the screenshot script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage

from helpers import wait_ready


def left(widget, window) -> int:
    return widget.mapTo(window, widget.rect().topLeft()).x()


def top(widget, window) -> int:
    return widget.mapTo(window, widget.rect().topLeft()).y()


def test_data_page_puts_the_views_beside_the_settings_when_wide(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    page, panel = window.pages.page("data"), window.data_panel
    qtbot.waitUntil(lambda: page.wide is True)  # 1366 px: wide
    assert panel.view_tabs.parent() is page.splitter
    combo, views = panel.info_label, panel.view_tabs  # facts about the data, under the views when narrow
    qtbot.waitUntil(lambda: left(views, window) > left(combo, window) + combo.width())  # beside, on the right
    assert views.height() > 0.7 * page.height()
    window.show_page("train")
    window.pages.show_beside("data")  # narrow: one column again, the views inside it
    qtbot.waitUntil(lambda: page.wide is False)
    assert panel.isAncestorOf(panel.view_tabs) and panel.view_tabs.isVisible()
    qtbot.waitUntil(lambda: top(views, window) < top(combo, window))  # above the settings
    window.pages.close_beside()
    window.show_page("data")
    qtbot.waitUntil(lambda: page.wide is True)
    assert panel.view_tabs.parent() is page.splitter and panel.view_tabs.isVisible()


def test_model_page_puts_the_parameters_beside_the_stack_when_wide(qtbot, make_window):
    window = make_window()
    window.show_page("model")
    splitter = window.model_panel.right_splitter
    qtbot.waitUntil(lambda: window.pages.page("model").wide is True)
    assert splitter.orientation() == Qt.Orientation.Horizontal
    stack, params = window.model_panel.stack, window.model_panel.params_box
    qtbot.waitUntil(lambda: left(params, window) >= left(stack, window) + stack.width())


def test_runs_columns_fit_1366_with_headers_whole_and_can_be_chosen(qtbot, make_window):
    window = make_window()
    window.show_page("runs")
    table = window.runs_panel.table
    header = table.horizontalHeader()
    from workbench.gui.runs.table_model import COL

    qtbot.waitUntil(lambda: window.pages.page("runs").wide is False)  # details under the table at 1366 px
    shown = [n for n, i in COL.items() if not header.isSectionHidden(i)]
    assert "Device" not in shown and "Parent" not in shown and "Optimizer" in shown
    metrics = header.fontMetrics()
    for name in shown[:-1]:  # the last one stretches
        assert header.sectionSize(COL[name]) >= metrics.horizontalAdvance(name) + 12, f"{name} is clipped"
    qtbot.waitUntil(lambda: not table.horizontalScrollBar().isVisible())
    from workbench.gui.runs import columns

    header.setSectionHidden(COL["Date"], True)
    QSettings().setValue(columns.HIDDEN_KEY, ["Date"])
    columns.install_column_menu(table, COL)  # what a new window does: the choice is remembered
    assert header.isSectionHidden(COL["Date"]) and not header.isSectionHidden(COL["Device"])


def test_screenshot_script_renders_pages_at_the_sizes_asked(tmp_path):
    out = tmp_path / "shots"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run([sys.executable, "-m", "workbench.gui.screenshots", str(out), "--no-sweep",
                             "--pages", "data,train", "--sizes", "1366x768"],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    for key in ("data", "train"):
        image = QImage(str(out / f"{key}-1366x768.png"))
        assert (image.width(), image.height()) == (1366, 768)
    assert "gave up" not in result.stderr


def test_train_page_beside_another_puts_the_settings_under_the_curves(qtbot, make_window):
    """At 1366 px with the Model page beside it, the Train page squeezed its curves to a third of
    its width and cut its settings; now the settings go under the curves at full width."""
    window = make_window()
    window.show_page("train")
    page = window.train_page
    qtbot.waitUntil(lambda: not page.stacked and page.width() > 1000)
    window.pages.show_beside("model")
    qtbot.waitUntil(lambda: page.stacked)
    settings = window.training_panel
    assert settings.width() >= settings.minimumWidth() and settings.width() > 0.9 * page.width()
    assert not settings.horizontalScrollBar().isVisible()
    assert window.plots.width() > 0.9 * page.width() and window.plots.height() > 0.45 * page.height()
    window.pages.close_beside()
    qtbot.waitUntil(lambda: not page.stacked)
