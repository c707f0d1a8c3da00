"""The window before PyTorch is imported: it shows the data and the layers at once, the
summary and the device list say they are coming, Train waits, and all of it fills in when the
background import is done (gui/engine.py; torch itself is imported up front in these tests, so
the import is faked)."""

from __future__ import annotations

import threading

from helpers import wait_ready


def test_window_works_while_torch_loads(qtbot, make_window, monkeypatch):
    from workbench.core.training import available_devices
    from workbench.gui import engine
    from workbench.gui.panels.layer_stack import COL_OUTPUT

    ready, release, calls = threading.Event(), threading.Event(), []

    def fake_warm_up():
        calls.append(1)
        release.wait(20)
        ready.set()
        return available_devices()

    monkeypatch.setattr(engine, "is_ready", ready.is_set)
    monkeypatch.setattr(engine, "warm_up", fake_warm_up)
    window = make_window()
    session = window.session
    wait_ready(qtbot, session)
    assert session.validity == (False, "Loading PyTorch…")
    assert not window.train_button.isEnabled()
    assert "Loading PyTorch" in window.reason_label.text()
    assert len(window.data_panel.scatter.data) > 0  # the data is there already

    model = window.model_panel
    stack = model.stack
    assert stack.topLevelItemCount() == len(session.spec.model.layers)
    assert {stack.topLevelItem(i).text(COL_OUTPUT) for i in range(stack.topLevelItemCount())} == {"…"}
    assert "Loading PyTorch" in model.summary_view.totals_label.text()
    combo = window.training_panel.device
    assert session.spec.train.device == "cpu"  # the spec's device is kept, marked as not yet checked
    assert [combo.itemData(i) for i in range(combo.count())] == ["auto", None, "cpu"]
    assert combo.currentText() == "cpu (checking…)"

    # editing works meanwhile
    assert session.set_layers([{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                               {"type": "Linear", "out_features": "auto"}]) is None
    qtbot.waitUntil(lambda: stack.topLevelItemCount() == 3)
    assert stack.topLevelItem(0).text(COL_OUTPUT) == "…"

    qtbot.waitUntil(lambda: bool(calls), timeout=5000)  # the summary asked for the import
    release.set()
    qtbot.waitUntil(lambda: session.validity[0], timeout=8000)
    assert calls == [1]
    assert window.train_button.isEnabled()
    assert session.summary is not None and stack.topLevelItem(0).text(COL_OUTPUT) == "8"
    assert "parameters" in model.summary_view.totals_label.text()
    assert [combo.itemData(i) for i in range(combo.count())] == ["auto"] + [k for k, _ in available_devices()]
    assert combo.currentData() == session.spec.train.device


def test_a_failed_import_is_said_in_words(qtbot, make_session, monkeypatch):
    from workbench.gui import engine

    def broken():
        raise ImportError("libtorch_cpu.so: cannot open shared object file")

    monkeypatch.setattr(engine, "is_ready", lambda: False)
    monkeypatch.setattr(engine, "warm_up", broken)
    session = make_session()
    session.warm_engine()
    qtbot.waitUntil(lambda: session.validity[1].startswith("PyTorch could not be loaded"), timeout=8000)
    assert "libtorch_cpu.so" in session.validity[1] and not session.validity[0]
