"""The run history as a person uses it: 10 000 runs, sort, filter, rename, tags, notes, delete
with confirmation and undo, overlays coloured per run or by a hyperparameter, compare two runs,
and K seeds as a group with bands and a sentence about seed noise."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from helpers import answer_modal, choose, on_next_modal, save_screenshot, wait_ready
from runs_support import add_run, bulk_copies, cell, click_header, click_row
from workbench.core.runs import RunStore
from workbench.gui.panels.runs_panel import RunsPanel
from workbench.gui.runs.table_model import COL


@pytest.fixture
def store():
    with RunStore(os.environ["WORKBENCH_STORE"]) as s:
        yield s


@pytest.fixture
def make_panel(qtbot, make_session):
    made = []

    def make(session=None):
        session = session or make_session()
        panel = RunsPanel(session)
        made.append(panel)
        panel.resize(1300, 420)
        panel.show()
        qtbot.waitExposed(panel)
        return panel

    yield make
    for panel in made:
        panel.shutdown()
        panel.close()


def test_ten_thousand_runs_list_and_sort(qtbot, make_panel, store, tiny_spec):
    """How fast: benchmarks/scale.py (runs_table)."""
    add_run(store, tiny_spec)
    bulk_copies(store.path, 9999)
    panel = make_panel()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 10_000, timeout=30_000)
    add_run(store, tiny_spec, name="one more")  # a run arrives: the whole list is read again
    panel._refresh_now()  # what the 150 ms debounce timer calls
    qtbot.waitUntil(lambda: panel.model.rowCount() == 10_001, timeout=30_000)
    for column in ("LR", "Batch", "Best val", "Name"):
        click_header(qtbot, panel, column)
    lrs = [float(panel.proxy.index(r, COL["LR"]).data()) for r in range(50)]
    click_header(qtbot, panel, "LR")
    lrs = [float(panel.proxy.index(r, COL["LR"]).data()) for r in range(50)]
    assert lrs == sorted(lrs) or lrs == sorted(lrs, reverse=True)
    assert panel.count_label.text() == "10001 runs"


def test_filter_rename_tags_notes_delete_undo(qtbot, make_panel, store, tiny_spec):
    a = add_run(store, tiny_spec, name="adam small lr")
    b = add_run(store, tiny_spec.with_values({"optimizer": {"type": "SGD", "lr": 0.1}}), name="sgd", status="stopped")
    c = add_run(store, tiny_spec.with_values({"train.batch_size": 64, "optimizer.lr": 0.001}), name="big batch")
    panel = make_panel()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3)
    assert "lr<0.01" in panel.filter.placeholderText()

    # filter by hyperparameters, then by text
    qtbot.keyClicks(panel.filter, "lr<0.05 optimizer=adam")
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 2)
    assert panel.count_label.text() == "2 of 3 runs"
    save_screenshot(panel, "runs_filtered")
    panel.filter.clear()
    qtbot.keyClicks(panel.filter, "batch>=64")
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 1 and cell(panel, c, "Name") == "big batch")
    panel.filter.clear()
    qtbot.keyClicks(panel.filter, "sgd")
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 1)
    panel.filter.clear()
    qtbot.keyClicks(panel.filter, "colour=red")
    qtbot.waitUntil(lambda: panel.filter_bar.error.isVisible())
    assert "unknown field" in panel.filter_bar.error.text()
    panel.filter.clear()
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 3)

    # rename by editing the Name cell (F2, type, Enter)
    click_row(qtbot, panel, a, column=COL["Name"])
    qtbot.keyClick(panel.table, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    editor.selectAll()
    qtbot.keyClicks(editor, "baseline")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: store.get_run(a).name == "baseline")
    assert cell(panel, a, "Name") == "baseline"
    assert f"#{a} baseline" in panel.details.title.text()  # the details pane says the new name too

    # tags and notes of the selected run are saved
    tags = panel.details.tags
    tags.setFocus()
    qtbot.keyClicks(tags, "keep, lr-test")
    qtbot.keyClick(tags, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: store.get_run(a).tags == ["keep", "lr-test"])
    qtbot.keyClicks(panel.details.notes, "the reference run")
    qtbot.waitUntil(lambda: store.get_run(a).notes == "the reference run", timeout=3000)
    assert "keep" in cell(panel, a, "Group / tags")

    # delete: a confirmation naming the run, then Undo brings it back
    click_row(qtbot, panel, b)
    seen = []
    answer_modal(qtbot, "cancelButton", seen)
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    assert "#%d sgd" % b in seen[0] and panel.proxy.rowCount() == 3
    click_row(qtbot, panel, b)  # the box took the focus away (offscreen, no window manager gives it back)
    answer_modal(qtbot, "deleteButton")
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 2)
    assert panel.undo_button.isVisible()
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    assert panel.proxy.rowCount() == 3 and not panel.undo_button.isVisible()
    click_row(qtbot, panel, b)
    answer_modal(qtbot, "deleteButton")
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 2)
    panel.shutdown()  # closing the app purges what was deleted
    assert {r.id for r in store.list_runs()} == {a, c}


def test_overlay_colours_compare_and_colour_by(qtbot, make_panel, store, tiny_spec):
    a = add_run(store, tiny_spec, name="lr 0.01")
    b = add_run(store, tiny_spec.with_values({"optimizer.lr": 0.1}), name="lr 0.1", losses=(1.0, 0.5, 0.3))
    c = add_run(store, tiny_spec.with_values({"optimizer.lr": 0.001}), name="lr 0.001", losses=(1.0, 0.9, 0.85))
    panel = make_panel()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3)
    shown = []
    panel.overlays_changed.connect(shown.append)
    click_row(qtbot, panel, a)
    click_row(qtbot, panel, b, ctrl=True)
    qtbot.waitUntil(lambda: bool(shown) and len(shown[-1]) == 2)
    colors = {col.name() for _label, _rows, col in shown[-1]}
    assert len(colors) == 2
    assert [len(rows) for _l, rows, _c in shown[-1]] == [3, 3]

    # compare: the specs side by side with the lr row highlighted, and the final metrics
    assert panel.compare_button.isEnabled()
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    dialog = panel.compare_dialog
    qtbot.waitExposed(dialog)
    assert "optimizer.lr" in dialog.diff.highlighted_paths()
    assert dialog.metrics.item(0, 0).text() == "status"
    save_screenshot(dialog, "runs_compare")
    dialog.close()

    # colour by learning rate: a colormap over the values, with a legend
    click_row(qtbot, panel, c, ctrl=True)
    qtbot.waitUntil(lambda: len(shown[-1]) == 3)
    before = len(shown)
    choose(qtbot, panel.color_combo, "Learning rate")
    qtbot.waitUntil(lambda: "lr (log)" in panel.legend.text() and len(shown) > before)
    by_lr = {label.split(" ", 1)[1]: col for label, _rows, col in shown[-1]}
    assert len({col.name() for col in by_lr.values()}) == 3
    # the lowest and highest lr sit at the two ends of the colormap (dark purple .. yellow)
    assert by_lr["lr 0.001"].lightness() < by_lr["lr 0.1"].lightness()


def test_k_seeds_make_a_group_with_bands_and_a_noise_sentence(qtbot, make_window, store, tiny_spec):
    window = make_window(spec=tiny_spec.with_values({"train.epochs": 2}))
    session, panel = window.session, window.runs_panel
    wait_ready(qtbot, session)

    def run_three():
        def fill(box):
            box.count.setValue(3)
            qtbot.mouseClick(box.findChild(type(panel.seeds_button), "okButton"), Qt.MouseButton.LeftButton)

        dialog_seen = on_next_modal(fill)
        qtbot.mouseClick(panel.seeds_button, Qt.MouseButton.LeftButton)
        assert dialog_seen
        qtbot.waitUntil(lambda: not panel.repeats.active, timeout=30000)

    run_three()
    runs = store.list_runs()
    assert len(runs) == 3 and {r.status for r in runs} == {"finished"}
    assert sorted(r.spec.train.seed for r in runs) == [0, 1, 2]
    group = runs[0].tags[0]
    assert group.startswith("group:") and all(group in r.tags for r in runs)

    # a second group with another learning rate, for a comparison
    session.edit({"optimizer.lr": 0.0005})
    wait_ready(qtbot, session)
    run_three()
    assert len(store.list_runs()) == 6
    first = [r.id for r in store.list_runs() if group in r.tags]
    second = [r.id for r in store.list_runs() if r.id not in first]
    qtbot.waitUntil(lambda: sorted(panel.selected_ids()) == sorted(second), timeout=5000)  # the new group
    for run_id in first:
        click_row(qtbot, panel, run_id, ctrl=True)
    qtbot.waitUntil(lambda: len(panel.bands._groups) == 2, timeout=5000)
    assert "seed noise" in panel.bands.verdict.text()
    assert "seed noise" in panel.message.text()
    assert "[" in cell(panel, first[0], "Group / tags")
    x, mean, lower, upper = panel.bands.band(panel.bands._groups[0].label)
    assert len(x) == 2 and (upper >= lower).all()
    window.show_page("runs")
    save_screenshot(window, "runs_seed_bands_window")
    save_screenshot(panel, "runs_seed_bands")


def test_a_read_overtaken_by_another_is_read_again_not_planned_on_the_gui_thread(qtbot, make_panel, store, tiny_spec,
                                                                                  monkeypatch):
    """A run's start and end both read the history; when the second read's rows arrive first,
    the first's plan is stale. Sorting and comparing 10 000 rows again on the GUI thread took up
    to ~40 ms (issue 8): the panel reads once more instead."""
    import threading

    from workbench.gui.runs import table_model

    add_run(store, tiny_spec, name="first")
    panel = make_panel()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1)
    on_gui_thread = []
    real_plan = table_model.plan_update

    def watched(old, new):
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return real_plan(old, new)

    monkeypatch.setattr(table_model, "plan_update", watched)
    add_run(store, tiny_spec, name="second")
    version, shown = panel.model.snapshot()
    stale = (version, table_model.plan_update(shown, list(reversed(shown))))  # (a plan of that snapshot)
    panel.model.set_records(list(shown), plan=(version, ("grow", (0, 0, []))))  # the rows moved on meanwhile
    on_gui_thread.clear()
    panel._show_records(list(shown), panel.model.sort_state, stale)  # the overtaken read arrives
    assert on_gui_thread == []  # not planned here ...
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=30_000)  # ... but read again
    assert True not in on_gui_thread
