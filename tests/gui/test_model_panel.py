"""Model panel: palette -> stack, reorder, duplicate, remove, undo/redo, parameters, the live
summary (columns of the stack, totals under it), the red layer with its message, templates, and
that everything reads whole at the page's real width."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QFontMetrics
from PySide6.QtWidgets import QApplication, QStyle, QToolButton

from panel_support import OFFSCREEN_POPUPS, click_item, item_center, load, make_session, save_shot, wait_idle
from workbench.gui.panels.layer_palette import LAYER_NAME_MIME
from workbench.gui.panels.model_panel import ModelPanel

pytestmark = OFFSCREEN_POPUPS

SPEC = {
    "name": "t",
    "data": {"source": "sample:spiral", "n_samples": 100},
    "model": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                         {"type": "Linear", "out_features": "auto"}]},
    "train": {"epochs": 1, "batch_size": 32},
}


@pytest.fixture
def session(qtbot, tmp_path):
    s = make_session(qtbot, tmp_path, SPEC)
    yield s
    s.shutdown()


@pytest.fixture
def panel(qtbot, session):
    p = ModelPanel(session)
    qtbot.addWidget(p)
    p.resize(520, 620)  # the Model page shown beside another on a 1366x768 screen
    p.show()
    qtbot.waitExposed(p)
    return p


def types(session):
    return [layer.type for layer in session.spec.model.layers]


def stack_texts(panel):
    """Number and layer of each top-level row, as read: "1  Linear 8"."""
    items = [panel.stack.topLevelItem(i) for i in range(panel.stack.topLevelItemCount())]
    return [f"{item.text(0)}  {item.text(1)}" for item in items]


def test_stack_and_summary_show_the_spec(qtbot, session, panel):
    assert stack_texts(panel) == ["1  Linear 8", "2  ReLU", "3  Linear auto"]
    stack = panel.stack
    assert [stack.headerItem().text(c) for c in range(5)] == ["#", "Layer", "Output", "Params", "Lock"]
    assert stack.row_texts(0) == ["1", "Linear 8", "8", "24", ""]  # 2*8 + 8 params; not locked
    assert stack.row_texts(1) == ["2", "ReLU", "8", "0", ""]
    assert stack.row_texts(2) == ["3", "Linear auto", "2", "18", ""]
    assert "32 FLOPs" in stack.topLevelItem(0).toolTip(3)  # 2*2*8
    assert "out_features=8" in stack.topLevelItem(0).toolTip(1)
    totals = panel.summary_view.totals_label.text()
    assert "<b>42</b> parameters" in totals and "memory" in totals and "FLOPs" in totals
    assert "2 → 2" in totals
    assert panel.validity_label.text() == "✓ Ready to train"
    save_shot(panel, "model_panel_normal")


def test_double_click_in_palette_adds_after_the_selected_layer(qtbot, session, panel):
    click_item(qtbot, panel.stack, panel.stack.topLevelItem(0))
    click_item(qtbot, panel.palette, panel.palette.item_for("Dropout"), double=True)
    wait_idle(qtbot, session)
    assert types(session) == ["Linear", "Dropout", "ReLU", "Linear"]
    assert panel.stack.selected_path() == (1,)
    assert panel.params_box.title() == "Layer 2: Dropout"
    assert panel.stack.row_count() == 4


def test_up_down_duplicate_remove_and_undo_redo(qtbot, session, panel):
    click_item(qtbot, panel.stack, panel.stack.topLevelItem(1))  # ReLU
    qtbot.mouseClick(panel.up_button, Qt.MouseButton.LeftButton)
    assert types(session) == ["ReLU", "Linear", "Linear"]
    assert panel.stack.selected_path() == (0,) and not panel.up_button.isEnabled()
    qtbot.mouseClick(panel.down_button, Qt.MouseButton.LeftButton)
    assert types(session) == ["Linear", "ReLU", "Linear"]
    qtbot.mouseClick(panel.duplicate_button, Qt.MouseButton.LeftButton)
    assert types(session) == ["Linear", "ReLU", "ReLU", "Linear"]
    assert panel.stack.selected_path() == (2,)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert types(session) == ["Linear", "ReLU"]
    assert "Remove" in panel.undo_button.toolTip()

    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    assert types(session) == ["Linear", "ReLU", "Linear"]
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    assert types(session) == ["Linear", "ReLU", "ReLU", "Linear"]
    assert panel.redo_button.isEnabled()
    qtbot.mouseClick(panel.redo_button, Qt.MouseButton.LeftButton)
    assert types(session) == ["Linear", "ReLU", "Linear"]
    assert stack_texts(panel)[2] == "3  Linear auto"


def test_delete_key_removes_the_selected_layer(qtbot, session, panel):
    click_item(qtbot, panel.stack, panel.stack.topLevelItem(1))
    qtbot.keyClick(panel.stack, Qt.Key.Key_Delete)
    assert types(session) == ["Linear", "Linear"]


def _drop(widget, pos: QPoint, mime: QMimeData):
    """The events a drag ending over `widget` at `pos` delivers."""
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(widget.viewport(), enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(widget.viewport(), move)
    assert move.isAccepted()
    drop = QDropEvent(QPointF(pos), actions, mime, buttons, mods)
    QApplication.sendEvent(widget.viewport(), drop)
    assert drop.isAccepted()


def test_drag_from_palette_and_reorder_by_drag(qtbot, session, panel):
    # a palette item dropped on the lower half of the first layer goes after it
    mime = panel.palette.mimeData([panel.palette.item_for("Tanh")])
    assert bytes(mime.data(LAYER_NAME_MIME)) == b"Tanh"
    _drop(panel.stack, item_center(panel.stack, panel.stack.topLevelItem(0), 0.8), mime)
    assert types(session) == ["Linear", "Tanh", "ReLU", "Linear"]

    # drag the last layer onto the top half of the first: it moves to the top
    mime = panel.stack.mimeData([panel.stack.topLevelItem(3)])
    _drop(panel.stack, item_center(panel.stack, panel.stack.topLevelItem(0), 0.2), mime)
    assert types(session) == ["Linear", "Linear", "Tanh", "ReLU"]
    assert session.spec.model.layers[0].params == {"out_features": "auto"}
    assert panel.stack.selected_path() == (0,)

    # dropped below every row: appended
    mime = panel.palette.mimeData([panel.palette.item_for("Sigmoid")])
    _drop(panel.stack, QPoint(20, panel.stack.viewport().height() - 5), mime)
    assert types(session)[-1] == "Sigmoid"
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert types(session) == ["Linear", "Tanh", "ReLU", "Linear"]


def test_residual_block_children_add_and_drop_into(qtbot, session, panel):
    click_item(qtbot, panel.stack, panel.stack.topLevelItem(1))
    click_item(qtbot, panel.palette, panel.palette.item_for("Residual"), double=True)
    wait_idle(qtbot, session)
    block = session.spec.model.layers[2]
    assert block.type == "Residual"
    assert [layer.type for layer in block.layers] == ["Linear", "ReLU"]
    assert block.layers[0].params["out_features"] == 8  # keeps the width flowing into it
    item = panel.stack.topLevelItem(2)
    assert item.childCount() == 2 and [item.child(0).text(0), item.child(0).text(1)] == ["3.1", "Linear 8"]
    # select an inner layer; adding goes inside the block
    click_item(qtbot, panel.stack, item.child(1))
    click_item(qtbot, panel.palette, panel.palette.item_for("Dropout"), double=True)
    assert [layer.type for layer in session.spec.model.layers[2].layers] == ["Linear", "ReLU", "Dropout"]
    # dropping on the middle of the block puts the layer inside, at its end
    item = panel.stack.topLevelItem(2)
    mime = panel.palette.mimeData([panel.palette.item_for("Tanh")])
    _drop(panel.stack, item_center(panel.stack, item, 0.5), mime)
    wait_idle(qtbot, session)
    assert [layer.type for layer in session.spec.model.layers[2].layers] == ["Linear", "ReLU", "Dropout", "Tanh"]
    # the stack lists inner layers, numbered and indented, with their shapes
    rows = [panel.stack.row_texts(r) for r in range(panel.stack.row_count())]
    assert ["3.4", "Tanh", "8", "0", ""] in rows
    stack = panel.stack
    block = stack.topLevelItem(2)
    number_rect = lambda it: stack.visualRect(stack.indexFromItem(it, 0))  # noqa: E731
    assert number_rect(block.child(3)).left() > number_rect(block).left()
    assert panel.validity_label.text() == "✓ Ready to train"


def test_editing_a_parameter_updates_spec_and_summary(qtbot, session, panel):
    click_item(qtbot, panel.stack, panel.stack.topLevelItem(0))
    spin = panel._form.editor("out_features")
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "16")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    wait_idle(qtbot, session)
    assert session.spec.model.layers[0].params["out_features"] == 16
    assert stack_texts(panel)[0] == "1  Linear 16"
    assert panel.stack.row_texts(0)[2:4] == ["16", "48"]
    assert panel._form.editor("out_features") is spin  # the form was kept, not rebuilt
    session.undo_stack.undo()
    wait_idle(qtbot, session)
    assert spin.value() == 8


def test_linear_on_images_without_flatten_is_red_with_the_message(qtbot, tmp_path, session, panel):
    X = np.random.default_rng(0).random((40, 1, 8, 8)).astype("float32")
    np.savez(tmp_path / "img.npz", X=X, y=np.arange(40) % 2)
    load(qtbot, session, str(tmp_path / "img.npz"))
    # a person's own images keep the model as built (only the built-in image sample gets a Flatten first)
    assert types(session)[0] == "Linear"
    red = panel.stack.error_items()
    assert [panel.stack.indexOfTopLevelItem(i) for i in red] == [0]
    assert panel.stack.is_red(red[0])
    assert "Flatten" in red[0].toolTip(0)
    assert not panel.stack.is_red(panel.stack.topLevelItem(1))
    assert panel.stack.row_texts(1)[2:4] == ["—", "—"]  # not reached
    assert panel.summary_view.error_label.isVisible() and "Flatten" in panel.summary_view.error_label.text()
    assert panel.validity_label.text().startswith("Train is disabled")
    assert session.validity[0] is False
    save_shot(panel, "model_panel_error")

    # the CNN template fits images; the fix for the red layer is undoable
    assert panel.template_actions["cnn"].isEnabled()
    panel.template_actions["cnn"].trigger()
    wait_idle(qtbot, session)
    assert types(session)[:3] == ["Conv2d", "ReLU", "MaxPool2d"]
    assert panel.stack.error_items() == []
    assert panel.validity_label.text() == "✓ Ready to train"
    session.undo_stack.undo()
    wait_idle(qtbot, session)
    assert len(panel.stack.error_items()) == 1


@pytest.mark.parametrize("key", ["linear", "mlp", "residual_mlp"])
def test_templates_fit_tabular_data(qtbot, session, panel, key):
    assert not panel.template_actions["cnn"].isEnabled()
    assert "needs image data" in panel.template_actions["cnn"].text()
    panel.template_actions[key].trigger()
    wait_idle(qtbot, session)
    assert session.spec.model.layers[-1].params == {"out_features": "auto"}
    assert panel.stack.error_items() == []
    assert session.validity == (True, "")
    assert "Use template" in session.undo_stack.undoText()


def _elided(tree, item, col) -> bool:
    """Whether the text of `item` in `col` is cut (QFontMetrics vs the column's width)."""
    fm = QFontMetrics(item.font(col))
    margin = tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1
    need = fm.horizontalAdvance(item.text(col)) + 2 * margin  # the style's text margins
    if col == 1:  # the stack indents inner layers' names
        depth, parent = 0, item.parent()
        while parent is not None:
            depth, parent = depth + 1, parent.parent()
        need += depth * tree.indentation()
    if not item.icon(col).isNull():
        need += tree.iconSize().width() if tree.iconSize().width() > 0 else 20
    rect = tree.visualRect(tree.indexFromItem(item, col))
    return need > rect.width()


def _assert_reads_whole(panel):
    QApplication.processEvents()
    stack = panel.stack
    assert stack.horizontalScrollBar().maximum() == 0
    header = stack.header()
    assert sum(header.sectionSize(c) for c in range(4)) <= stack.viewport().width()
    hfm = QFontMetrics(header.font())
    for c in range(4):
        assert hfm.horizontalAdvance(stack.headerItem().text(c)) + 8 <= header.sectionSize(c), c
    for item in stack.all_items():
        for c in range(4):
            assert not _elided(stack, item, c), (item.text(c), c, header.sectionSize(c))
    palette = panel.palette
    for g in range(palette.topLevelItemCount() if palette.isVisible() else 0):
        group = palette.topLevelItem(g)
        for item in [group] + [group.child(i) for i in range(group.childCount())]:
            assert not _elided(palette, item, 0), item.text(0)
    for label in (panel.summary_view.totals_label, panel.summary_view.error_label, panel.validity_label):
        if label.isVisible():  # wrapped, never cut
            assert label.heightForWidth(label.width()) <= label.height() + 1, label.text()


def test_everything_reads_whole_at_a_narrow_width(qtbot, tmp_path, session, panel):
    assert panel.width() == 520
    assert panel.palette_view.isVisible()
    panel.template_actions["residual_mlp"].trigger()
    wait_idle(qtbot, session)
    _assert_reads_whole(panel)
    click_item(qtbot, panel.stack, panel.stack.topLevelItem(2))
    assert panel.params_box.title() == "Layer 3: Residual"
    save_shot(panel, "model_panel_520")

    X = np.random.default_rng(0).random((40, 3, 28, 28)).astype("float32")
    np.savez(tmp_path / "img.npz", X=X, y=np.arange(40) % 2)
    load(qtbot, session, str(tmp_path / "img.npz"))
    panel.template_actions["cnn"].trigger()
    wait_idle(qtbot, session)
    assert panel.stack.row_texts(0) == ["1", "Conv2d 6, k3, p1", "6×28×28", "168", ""]
    assert panel.stack.row_texts(2)[1:3] == ["MaxPool2d k2", "6×14×14"]
    _assert_reads_whole(panel)
    save_shot(panel, "model_panel_cnn_520")

    # a layer that does not fit: its row is red, the message wraps under the stack
    click_item(qtbot, panel.stack, panel.stack.topLevelItem(6))  # Flatten
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, session)
    red = panel.stack.error_items()
    assert len(red) == 1 and panel.stack.is_red(red[0])
    assert panel.summary_view.error_label.isVisible()
    _assert_reads_whole(panel)
    save_shot(panel, "model_panel_error_520")


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_in_the_main_window_at_1366x768(qtbot, qapp, make_window, tiny_spec, dark):
    """The Model page as a person sees it on the smallest screen we promise, both themes."""
    from helpers import save_screenshot, wait_ready
    from workbench.gui.theme import apply_theme

    apply_theme(qapp, dark=dark)
    try:
        window = make_window(spec=tiny_spec)
        session = window.session
        wait_ready(qtbot, session)
        window.show_page("model")
        panel = window.model_panel
        wait_idle(qtbot, session)
        click_item(qtbot, panel.stack, panel.stack.topLevelItem(0))
        _assert_reads_whole(panel)
        theme = "dark" if dark else "light"
        save_screenshot(window, f"model_page_{theme}")
        # an invalid layer: a Conv2d on tabular data
        click_item(qtbot, panel.palette, panel.palette.item_for("Conv2d"), double=True)
        wait_idle(qtbot, session)
        assert len(panel.stack.error_items()) == 1
        _assert_reads_whole(panel)
        save_screenshot(window, f"model_page_invalid_{theme}")
    finally:
        apply_theme(qapp, dark=False)


def test_narrow_page_hides_the_palette_and_adds_from_the_menu(qtbot, session, panel):
    panel.resize(380, 620)
    qtbot.waitUntil(lambda: not panel.palette_view.isVisible(), timeout=2000)
    _assert_reads_whole(panel)
    assert panel.add_button.popupMode() == QToolButton.ToolButtonPopupMode.InstantPopup
    click_item(qtbot, panel.stack, panel.stack.topLevelItem(0))
    panel.add_menu_action("Dropout").trigger()
    wait_idle(qtbot, session)
    assert types(session) == ["Linear", "Dropout", "ReLU", "Linear"]
    groups = [a.text() for a in panel.add_menu.actions()]
    assert groups[:2] == ["Core", "Convolution"] and "Activation" in groups
    _assert_reads_whole(panel)
    save_shot(panel, "model_panel_380")
    panel.resize(520, 620)
    qtbot.waitUntil(lambda: panel.palette_view.isVisible(), timeout=2000)
