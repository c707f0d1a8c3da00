"""Data panel: samples, files, the preview, loader errors in words and the split/noise controls."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from panel_support import OFFSCREEN_POPUPS, choose, make_session, press_key, save_shot, wait_idle
from workbench.gui.panels.data_panel import DataPanel

pytestmark = OFFSCREEN_POPUPS


@pytest.fixture
def session(qtbot, tmp_path):
    s = make_session(qtbot, tmp_path)
    yield s
    s.shutdown()


@pytest.fixture
def panel(qtbot, session):
    p = DataPanel(session)
    qtbot.addWidget(p)
    p.resize(400, 680)
    p.show()
    return p


def _csv(path, rows):
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_spiral_on_start_shows_scatter_classes_and_split(qtbot, session, panel):
    assert panel.view_tabs.currentWidget() is panel.plot_widget
    x, y = panel.scatter.getData()
    assert len(x) == session.dataset.meta.n_samples == 500
    assert "500 rows · 2 features" in panel.info_label.text()
    assert panel.class_balance.lines() == ["0: 250 (50 %)", "1: 250 (50 %)"]
    assert panel.sample_combo.currentData() == "spiral"
    assert panel.val_value.text() == "15 %" and "train 350 · val 75 · test 75" in panel.split_sizes_label.text()
    assert not panel.error_label.isVisible()
    save_shot(panel, "data_panel_spiral")


def test_picking_a_sample_loads_it_and_n_samples_changes_the_point_count(qtbot, session, panel):
    choose(qtbot, panel.sample_combo, "moons")
    wait_idle(qtbot, session)
    assert session.spec.data.source == "sample:moons"
    assert len(panel.scatter.getData()[0]) == 500
    assert panel.noise_slider.isVisible() and panel.noise_value.text() == "0.10"  # moons' default noise

    spin = panel.n_samples_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "200")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    wait_idle(qtbot, session)
    assert session.spec.data.n_samples == 200
    assert len(panel.scatter.getData()[0]) == 200

    press_key(qtbot, panel.noise_slider, Qt.Key.Key_PageUp)  # +0.05
    wait_idle(qtbot, session)
    assert session.spec.data.noise == pytest.approx(0.15)
    assert panel.noise_value.text() == "0.15"


def test_split_sliders_edit_the_spec_with_live_labels(qtbot, session, panel):
    press_key(qtbot, panel.val_slider, Qt.Key.Key_Right)
    assert session.spec.data.split.val == pytest.approx(0.16)
    assert panel.val_value.text() == "16 %"
    # while dragging only the labels follow; letting go edits the spec
    panel.test_slider.setSliderDown(True)
    panel.test_slider.setSliderPosition(30)
    assert panel.test_value.text() == "30 %" and session.spec.data.split.test == pytest.approx(0.15)
    assert "val 80 · test 150" in panel.split_sizes_label.text()
    panel.test_slider.setSliderDown(False)
    assert session.spec.data.split.test == pytest.approx(0.30)
    session.undo_stack.undo()
    assert panel.test_slider.value() == 15


def test_csv_shows_a_table_and_the_target_picker_changes_the_target(qtbot, tmp_path, session, panel):
    path = _csv(tmp_path / "flowers.csv", ["height,width,color,species"]
                + [f"{1 + i % 7},{2 + i % 5},{'red' if i % 2 else 'blue'},{'a' if i % 3 else 'b'}" for i in range(40)])
    panel.load_path(path)
    wait_idle(qtbot, session)
    assert panel.view_tabs.currentWidget() is panel.table
    model = panel.table_model
    assert model.rowCount() == 40 and model.columnCount() == 4
    assert model.headerData(3, Qt.Orientation.Horizontal) == "species (target)"
    assert model.data(model.index(0, 2)) == "blue"
    assert [panel.target_combo.itemText(i) for i in range(panel.target_combo.count())] == [
        "height", "width", "color", "species"]
    assert panel.target_combo.currentText() == "species" and panel.target_combo.isVisible()
    assert "classification of 'species' into 2 classes" in panel.info_label.text()
    assert panel.missing_combo.isVisible()  # a table file: the missing-value policy applies
    save_shot(panel, "data_panel_csv")

    choose(qtbot, panel.target_combo, "height")
    wait_idle(qtbot, session)
    assert session.spec.data.target == "height"
    assert session.dataset.meta.target_name == "height"
    assert model.headerData(0, Qt.Orientation.Horizontal) == "height (target)"

    choose(qtbot, panel.task_combo, "regression")
    wait_idle(qtbot, session)
    assert session.spec.data.task == "regression"
    assert "regression of 'height'" in panel.info_label.text()


def test_loader_error_is_shown_in_words_and_nothing_of_the_last_data(qtbot, tmp_path, session, panel):
    path = _csv(tmp_path / "holes.csv", ["a,b,label", "1,2,x", "3,,y", "5,6,x", "7,8,y", "9,,x", "1,1,y"])
    panel.load_path(path)
    wait_idle(qtbot, session)
    assert session.dataset is None
    assert panel.error_label.isVisible()
    text = panel.error_label.text()
    assert "missing" in text.lower() and "holes.csv" in text
    assert "choose Drop or Impute under Missing values below" in text and "data.missing" not in text
    # the spiral that loaded before is gone: no points, classes or notes that would pass for this file
    assert panel.shown_dataset() is None and len(panel.scatter.getData()[0]) == 0
    assert not panel.view_tabs.isVisible() and panel.empty_label.isVisible()
    assert not panel.class_balance.isVisible() and not panel.notes_label.isVisible()
    assert not panel.info_label.isVisible()
    assert panel.missing_combo.isVisible()
    save_shot(panel, "data_panel_error")

    choose(qtbot, panel.missing_combo, "drop")
    wait_idle(qtbot, session)
    assert session.dataset is not None and session.dataset.meta.n_samples == 4
    assert not panel.error_label.isVisible() and not panel.empty_label.isVisible()
    assert panel.view_tabs.isVisible() and panel.table_model.rowCount() >= 4


def test_a_missing_file_is_an_error_in_words(qtbot, tmp_path, session, panel):
    panel.load_path(tmp_path / "nope.csv")
    wait_idle(qtbot, session)
    assert panel.error_label.isVisible() and "nope.csv" in panel.error_label.text()
    choose(qtbot, panel.sample_combo, "xor")
    wait_idle(qtbot, session)
    assert not panel.error_label.isVisible() and session.dataset.meta.source == "sample:xor"


def test_images_show_a_grid_with_class_names(qtbot, tmp_path, session, panel):
    rng = np.random.default_rng(0)
    X = rng.random((30, 1, 8, 8)).astype("float32")
    y = np.arange(30) % 3
    np.savez(tmp_path / "tiny.npz", X=X, y=y)
    panel.load_path(tmp_path / "tiny.npz")
    wait_idle(qtbot, session)
    assert session.dataset.meta.kind == "image"
    assert panel.view_tabs.currentWidget() is panel.image_grid
    assert not panel.view_tabs.isTabVisible(0) and not panel.view_tabs.isTabVisible(1)
    assert panel.image_grid.image_count() == 30 and panel.image_grid.visible_count() > 0
    assert "30 images 8×8, 1 channel" in panel.info_label.text()


def test_sample_thumbnails_are_drawn(qtbot, session, panel):
    panel.thumbnails().flush()
    index = panel.sample_combo.findData("spiral")
    assert not panel.sample_combo.itemIcon(index).isNull()
    assert panel.thumbnails().pending() == []


def test_standardise_target_shows_for_regression_and_edits_the_spec(qtbot, session, panel):
    assert not panel.standardize_target_check.isVisible()  # spiral: classification
    choose(qtbot, panel.sample_combo, "sine")
    wait_idle(qtbot, session)
    check = panel.standardize_target_check
    assert check.isVisible() and check.isChecked()
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(8, check.height() // 2))  # the box
    assert session.spec.data.standardize_target is False
    session.undo_stack.undo()
    assert session.spec.data.standardize_target is True and check.isChecked()


def test_the_table_is_every_row_of_the_arrays_and_a_big_scatter_is_sampled(qtbot, tmp_path, session, panel):
    g = np.random.default_rng(0)
    n = 8000
    rows = [f"{a:.3f},{b:.3f},{c},{d}" for a, b, c, d in zip(g.normal(size=n), g.normal(size=n),
                                                             g.choice(["red", "blue"], n), g.choice(["x", "y"], n))]
    path = _csv(tmp_path / "big.csv", ["a,b,color,label", *rows])
    panel.load_path(path)
    wait_idle(qtbot, session)
    model = panel.table_model
    assert model.rowCount() == n and model.columnCount() == 4  # all rows, not the first fifty
    last = rows[-1].split(",")
    assert [model.data(model.index(n - 1, c)) for c in range(4)] == [
        f"{float(last[0]):.6g}", f"{float(last[1]):.6g}", last[2], last[3]]
    assert model.headerData(3, Qt.Orientation.Horizontal) == "label (target)"
    x, _ = panel.scatter.getData()
    assert len(x) == 5000  # a random sample of the 8000 points
    assert not set(np.round(x, 3)) <= set(np.round(session.dataset.X[:5000, 0], 3))  # not just the first rows


def test_a_slow_load_shows_rows_per_second_and_cancel_says_so(qtbot, tmp_path, session, panel,
                                                                         monkeypatch):
    import threading

    from workbench.core.data import progress as progress_module
    from workbench.core.data import table_fast
    from workbench.gui.widgets import load_progress

    monkeypatch.setenv("WORKBENCH_DATA_CACHE", "off")
    monkeypatch.setattr(load_progress, "SHOW_AFTER_MS", 0)
    monkeypatch.setattr(table_fast, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(table_fast, "reading_threads", lambda: 1)
    gate = threading.Event()
    real_update = progress_module.Progress.update

    def held_update(self, done, total=None, force=False):
        real_update(self, done, total, force=True)
        gate.wait(10)  # the load waits here until the test lets it go on

    monkeypatch.setattr(progress_module.Progress, "update", held_update)
    n = 3000
    path = _csv(tmp_path / "slow.csv", ["a,b,label"] + [f"{i * 0.5},{i % 7},{i % 2}" for i in range(n)])
    panel.load_path(path)
    row = panel.load_progress
    qtbot.waitUntil(lambda: row.isVisible() and "rows/s" in row.label.text(), timeout=10000)
    assert "of about" in row.label.text() and session.is_loading
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    gate.set()
    wait_idle(qtbot, session)
    assert not row.isVisible()
    assert "cancelled" in panel.error_label.text() and panel.error_label.isVisible()
    # nothing of the spiral loaded before passes for the file (issue 8, item 10)
    assert panel.empty_label.isVisible() and len(panel.scatter.getData()[0]) == 0
    assert not session.validity[0]

    monkeypatch.setattr(progress_module.Progress, "update", real_update)
    panel.load_path(path)  # the same file again: it loads this time
    wait_idle(qtbot, session)
    assert session.dataset is not None and session.dataset.meta.n_samples == n
    assert not panel.error_label.isVisible()


def test_keep_some_classes_and_few_training_rows_per_class(qtbot, session, panel):
    """Digits 5-9 with 20 training images each (the fine-tuning example), typed on the Data page."""
    subset = panel.class_subset
    assert not subset.classes_edit.isVisible()  # spiral: two classes, nothing to keep apart
    choose(qtbot, panel.sample_combo, "digits")
    wait_idle(qtbot, session)
    qtbot.waitUntil(lambda: subset.classes_edit.isVisible() and subset.per_class.isVisible())
    edit = subset.classes_edit
    edit.setFocus()
    qtbot.keyClicks(edit, "5, 6, 7,8, 9")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert session.spec.data.classes == ["5", "6", "7", "8", "9"]
    spin = subset.per_class
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "20")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert session.spec.data.train_per_class == 20
    wait_idle(qtbot, session)
    assert session.meta.class_names == ["5", "6", "7", "8", "9"]
    edit.selectAll()
    qtbot.keyClicks(edit, "7")  # one class: not a classification
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert subset.message.isVisible() and subset.message.text() == (
        "Keep classes: name at least two different classes (a classifier needs two), or leave it empty for all")
    assert session.spec.data.classes == ["5", "6", "7", "8", "9"] and edit.text() == "5, 6, 7, 8, 9"
    save_shot(panel, "data_panel_class_subset")
    spin.selectAll()
    qtbot.keyClicks(spin, "0")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert session.spec.data.train_per_class is None and spin.text() == "all"


def test_a_table_sample_that_says_choose_another_target_shows_the_target_control(qtbot, session, panel):
    """Iris's note says "choose another Target below": the Target control is there to do it, and
    choosing a column trains on it; a generated sample (Spiral) has a fixed target and no control."""
    assert not panel.target_combo.isVisible()  # spiral
    choose(qtbot, panel.sample_combo, "iris")
    wait_idle(qtbot, session)
    assert "choose another Target below" in panel.notes_label.text()
    assert panel.target_combo.isVisible() and panel.target_combo.currentText() == "species"
    choose(qtbot, panel.target_combo, "petal_width")
    wait_idle(qtbot, session)
    assert session.spec.data.target == "petal_width" and session.dataset.meta.task == "regression"


def test_sample_thumbnails_load_off_the_gui_thread(qtbot):
    """Loading a sample for its thumbnail takes up to ~200 ms (the shape images): on the GUI
    thread it froze the window, a run's live plots included."""
    import threading

    from workbench.gui.widgets.sample_thumbnails import ThumbnailQueue, default_sample_loader

    threads, shown = [], []

    def loader(name):
        threads.append(threading.current_thread())
        return default_sample_loader(name)

    queue = ThumbnailQueue(loader, size=23)  # (a size no other test has cached)
    queue.ready.connect(lambda name, icon: shown.append((name, icon.isNull())))
    queue.request(["circle", "xor"])
    qtbot.waitUntil(lambda: len(shown) == 2)
    assert shown == [("circle", False), ("xor", False)] and queue.pending() == []
    assert threads and all(t is not threading.main_thread() for t in threads)
    queue.shutdown()
