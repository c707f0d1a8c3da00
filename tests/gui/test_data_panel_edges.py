"""The data panel where the new user tripped (issue 8, items 9 and 10): an error names the
control that fixes it and that control is there; nothing of an earlier dataset shows under an
error; class bars never paint over the notes; the image grid shows every class and fills its room."""

from __future__ import annotations

import numpy as np
import pytest

from panel_support import OFFSCREEN_POPUPS, choose, load, save_shot, wait_idle
from workbench.gui.panels.data_panel import DataPanel

pytestmark = OFFSCREEN_POPUPS


@pytest.fixture
def session(default_session):
    return default_session


def _panel(qtbot, session, width, height):
    p = DataPanel(session)
    qtbot.addWidget(p)
    p.resize(width, height)
    p.show()
    qtbot.waitExposed(p)
    return p


def test_a_csv_error_after_digits_shows_only_the_error(qtbot, tmp_path, session):
    panel = _panel(qtbot, session, 400, 680)
    load(qtbot, session, "sample:digits")
    assert panel.class_balance.isVisible() and panel.image_grid.image_count() > 0
    bad = tmp_path / "customers.csv"
    bad.write_text("id,age,plan\n1,30,basic\n2,41\n3,25,pro\n")  # line 3 is short
    panel.load_path(bad)
    wait_idle(qtbot, session)
    assert "line 3" in panel.error_label.text()
    assert panel.image_grid.image_count() == 0 and not panel.class_balance.isVisible()
    assert not panel.notes_label.isVisible() and "digits" not in panel.info_label.text()
    assert panel.empty_label.isVisible()
    assert panel.task_combo.itemText(0) == "auto"  # not "auto (classification)" of the digits
    assert panel.target_combo.isVisible() and panel.target_combo.currentText() == ""
    assert panel.target_combo.placeholderText() == "the last column"
    assert [panel.target_combo.itemData(i) for i in range(panel.target_combo.count())] == ["id", "age", "plan"]


def test_an_unknown_target_names_the_control_and_offers_the_file_columns(qtbot, tmp_path, session):
    panel = _panel(qtbot, session, 400, 680)
    path = tmp_path / "houses.csv"
    path.write_text("rooms,area,price\n" + "\n".join(f"{i % 5},{50 + i},{100 + 3 * i}" for i in range(40)) + "\n")
    session.edit({"data.source": str(path), "data.target": "cost"})
    wait_idle(qtbot, session)
    text = panel.error_label.text()
    assert "'cost'" in text and "Choose one of them as the Target below" in text
    assert "data.target" not in text and "--target" not in text
    assert panel.target_combo.isVisible()
    offered = [panel.target_combo.itemData(i) for i in range(panel.target_combo.count())]
    assert {"rooms", "area", "price"} <= set(offered)
    choose(qtbot, panel.target_combo, "price")
    wait_idle(qtbot, session)
    assert session.dataset is not None and session.dataset.meta.target_name == "price"
    assert not panel.error_label.isVisible()
    # the notes speak of controls too
    notes = panel.notes_label.text()
    assert "--" not in notes and "data.task" not in notes and "data.target" not in notes


@pytest.mark.parametrize("size", [(380, 520), (380, 680), (1270, 640)])
def test_class_bars_never_paint_over_the_notes(qtbot, session, size):
    panel = _panel(qtbot, session, *size)
    load(qtbot, session, "sample:digits")
    qtbot.wait(20)
    parts = [panel.view_tabs, panel.info_label, panel.class_balance, panel.notes_label]
    for a, b in zip(parts, parts[1:]):
        assert a.geometry().bottom() < b.geometry().top(), f"{a.objectName()} runs into {b.objectName()}"
    bars = panel.class_balance
    assert bars.height() >= bars.heightForWidth(bars.width())  # room for every row it paints
    assert panel.notes_label.height() >= panel.notes_label.heightForWidth(panel.notes_label.width())
    save_shot(panel, f"data_panel_digits_{size[0]}x{size[1]}")


def test_image_grid_shows_every_class_and_fills_its_room(qtbot, tmp_path, session):
    panel = _panel(qtbot, session, 1100, 700)
    # a folder loads class by class: the first images are all one class
    X = np.random.default_rng(0).random((120, 1, 8, 8)).astype("float32")
    y = np.repeat(np.arange(4), 30)
    np.savez(tmp_path / "sorted.npz", X=X, y=y)
    panel.load_path(tmp_path / "sorted.npz")
    wait_idle(qtbot, session)
    grid = panel.image_grid
    qtbot.wait(20)
    cols, _rows = grid.layout_size()
    first_row = grid.shown_classes()[:cols]
    assert set(first_row) == {0, 1, 2, 3}  # every class in the first row
    assert grid.visible_count() == min(grid.image_count(), cols * _rows)  # no empty room while images remain
    assert grid.image_count() == 120


def test_shapes_grid_is_not_all_circles(qtbot, session):
    panel = _panel(qtbot, session, 900, 700)
    load(qtbot, session, "sample:shapes")
    grid = panel.image_grid
    names = session.dataset.meta.class_names
    shown = [names[c] for c in grid.shown_classes()[:grid.visible_count()]]
    assert set(shown) == set(names), shown


def test_a_tall_page_needs_no_scrolling_and_the_views_take_the_room(qtbot, session):
    from PySide6.QtWidgets import QScrollArea

    panel = _panel(qtbot, session, 1270, 680)
    load(qtbot, session, "sample:iris")
    qtbot.wait(20)
    scroll = panel.findChild(QScrollArea, "dataPanelScroll")
    assert scroll.widget().height() <= scroll.viewport().height()  # everything on the page, no scroll bar
    assert panel.view_tabs.height() > 250  # the plot has the room the rest leaves
