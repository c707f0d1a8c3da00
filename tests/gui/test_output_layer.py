"""A new layer goes before the output layer when none is selected, and layers that end up after
the output layer are pointed out (issue 8, item 7)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint

from panel_support import OFFSCREEN_POPUPS, click_item, make_session
from test_model_panel import SPEC, _drop, types
from workbench.gui.panels import layer_ops
from workbench.gui.panels.model_panel import ModelPanel

pytestmark = OFFSCREEN_POPUPS


@pytest.fixture
def session(qtbot, tmp_path):
    s = make_session(qtbot, tmp_path, SPEC)
    yield s
    s.shutdown()


@pytest.fixture
def panel(qtbot, session):
    p = ModelPanel(session)
    qtbot.addWidget(p)
    p.resize(520, 620)
    p.show()
    qtbot.waitExposed(p)
    return p


def test_with_nothing_selected_a_new_layer_goes_before_the_output_layer(qtbot, session, panel):
    assert panel.stack.selected_path() is None
    click_item(qtbot, panel.palette, panel.palette.item_for("Dropout"), double=True)
    assert types(session) == ["Linear", "ReLU", "Dropout", "Linear"]
    assert session.spec.model.layers[-1].params == {"out_features": "auto"}  # still the output
    assert not panel.order_note.isVisible()
    assert panel.stack.selected_path() == (2,)  # the new layer is selected (the next add follows it)


def test_a_layer_dropped_after_the_output_is_allowed_but_pointed_out(qtbot, session, panel):
    mime = panel.palette.mimeData([panel.palette.item_for("Sigmoid")])
    _drop(panel.stack, QPoint(20, panel.stack.viewport().height() - 5), mime)  # below every row
    assert types(session) == ["Linear", "ReLU", "Linear", "Sigmoid"]
    assert panel.order_note.isVisible()
    text = panel.order_note.text()
    assert "Layer 4 (Sigmoid)" in text and "after the output layer (layer 3, Linear auto)" in text
    session.undo_stack.undo()
    assert not panel.order_note.isVisible()


@pytest.mark.parametrize("layers, expected", [
    ([{"type": "Linear", "out_features": 8}, {"type": "ReLU"}, {"type": "Linear", "out_features": "auto"}], 2),
    ([{"type": "Linear", "out_features": "auto"}, {"type": "Softmax"}], 0),
    ([{"type": "Conv2d", "out_channels": 4}, {"type": "Flatten"}, {"type": "Linear", "out_features": 10}], 2),
    ([{"type": "ReLU"}], None),
    ([], None),
])
def test_output_index(layers, expected):
    assert layer_ops.output_index(layers) == expected
