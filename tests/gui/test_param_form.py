"""ParamForm: a form generated from catalog entries, driven with the keyboard and mouse."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from workbench.core import catalog
from workbench.core.catalog import Entry, Param
from workbench.gui.widgets.param_form import NumberSpinBox, ParamForm


def _form(qtbot, entry, values=None):
    form = ParamForm(entry, values or {})
    qtbot.addWidget(form)
    form.show()
    return form


def _click_check(qtbot, check):
    """Click the box itself (a person aims at the square, not the middle of the row)."""
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(7, check.height() // 2))


def _type_into(qtbot, box, text):
    box.setFocus()
    box.lineEdit().selectAll() if hasattr(box, "lineEdit") and box.lineEdit() else box.selectAll()
    qtbot.keyClicks(box.lineEdit() if hasattr(box, "lineEdit") and box.lineEdit() else box, text)
    qtbot.keyClick(box.lineEdit() if hasattr(box, "lineEdit") and box.lineEdit() else box, Qt.Key.Key_Return)


def test_linear_form_has_auto_spin_and_checkbox_with_tooltips(qtbot):
    entry = catalog.get_entry("layer", "Linear")
    form = _form(qtbot, entry, {"out_features": 64})
    spin = form.editor("out_features")
    assert isinstance(spin, QSpinBox)
    assert spin.value() == 64 and spin.maximum() == 65536
    assert "output size" in spin.toolTip() and "65536" in spin.toolTip()
    assert "output size" in form.label("out_features").toolTip()
    assert isinstance(form.editor("bias"), QCheckBox) and form.editor("bias").isChecked()
    # the lowest position of the spin box reads "auto"
    form.set_values({"out_features": "auto"})
    assert spin.text() == "auto" and form.values() == {"out_features": "auto"}


def test_typing_a_value_emits_explicit_values_and_clamps_to_the_range(qtbot):
    form = _form(qtbot, catalog.get_entry("layer", "Linear"), {"out_features": 64})
    spin = form.editor("out_features")
    with qtbot.waitSignal(form.values_changed) as signal:
        _type_into(qtbot, spin, "128")
    assert signal.args[0] == {"out_features": 128}  # untouched bias stays implicit
    with qtbot.waitSignal(form.values_changed) as signal:
        _click_check(qtbot, form.editor("bias"))
    assert signal.args[0] == {"out_features": 128, "bias": False}
    _type_into(qtbot, spin, "999999")  # above the maximum: the box keeps the value in range
    assert spin.value() <= 65536
    assert form.full_values()["out_features"] <= 65536


def test_set_values_never_emits(qtbot):
    form = _form(qtbot, catalog.get_entry("optimizer", "Adam"), {"lr": 0.01})
    with qtbot.assertNotEmitted(form.values_changed, wait=50):
        form.set_values({"lr": 0.5, "amsgrad": True, "beta1": 0.8})
    assert form.editor("lr").value() == pytest.approx(0.5)
    assert form.editor("amsgrad").isChecked()


def test_learning_rate_is_log_friendly(qtbot):
    form = _form(qtbot, catalog.get_entry("optimizer", "Adam"), {"lr": 0.001})
    lr = form.editor("lr")
    assert isinstance(lr, NumberSpinBox)
    assert lr.text() == "0.001" and lr.minimum() == pytest.approx(1e-6) and lr.maximum() == 10
    with qtbot.waitSignal(form.values_changed) as signal:
        lr.setFocus()
        qtbot.keyClick(lr, Qt.Key.Key_Up)  # 1-2-5 ladder
    assert signal.args[0]["lr"] == pytest.approx(0.002)
    qtbot.keyClick(lr, Qt.Key.Key_Up)
    assert lr.value() == pytest.approx(0.005)
    qtbot.keyClick(lr, Qt.Key.Key_Down)
    qtbot.keyClick(lr, Qt.Key.Key_Down)
    qtbot.keyClick(lr, Qt.Key.Key_Down)
    assert lr.value() == pytest.approx(0.0005)
    with qtbot.waitSignal(form.values_changed) as signal:
        _type_into(qtbot, lr, "3e-4")
    assert signal.args[0]["lr"] == pytest.approx(3e-4)
    assert form.editor("eps").text() == "1e-08"  # tiny defaults stay readable


def test_float_range_and_choice_combo(qtbot):
    form = _form(qtbot, catalog.get_entry("loss", "CrossEntropyLoss"))
    smoothing = form.editor("label_smoothing")
    assert isinstance(smoothing, QDoubleSpinBox) and (smoothing.minimum(), smoothing.maximum()) == (0.0, 1.0)
    weight = form.editor("weight")
    assert isinstance(weight, QComboBox)
    assert [weight.itemData(i) for i in range(weight.count())] == ["none", "balanced"]
    with qtbot.waitSignal(form.values_changed) as signal:
        weight.setFocus()
        qtbot.keyClick(weight, Qt.Key.Key_Down)
    assert signal.args[0] == {"weight": "balanced"}


def test_ints_with_named_choice_and_nullable(qtbot):
    form = _form(qtbot, catalog.get_entry("layer", "Conv2d"))
    padding = form.editor("padding")
    assert isinstance(padding, QComboBox) and padding.isEditable()
    with qtbot.waitSignal(form.values_changed) as signal:
        _type_into(qtbot, padding, "2, 1")
    assert signal.args[0] == {"padding": [2, 1]}
    with qtbot.waitSignal(form.values_changed) as signal:
        _type_into(qtbot, padding, "same")
    assert signal.args[0]["padding"] == "same"
    # out of range: shown red, not sent
    with qtbot.assertNotEmitted(form.values_changed, wait=50):
        _type_into(qtbot, form.editor("kernel_size"), "99")
    assert "d93025" in form.editor("kernel_size").styleSheet()

    pool = _form(qtbot, catalog.get_entry("layer", "MaxPool2d"))
    stride = pool.editor("stride")
    check = stride.findChild(QCheckBox)
    line = stride.findChild(QLineEdit)
    assert not check.isChecked() and not line.isEnabled()  # default None: off
    with qtbot.waitSignal(pool.values_changed) as signal:
        _click_check(qtbot, check)
    assert signal.args[0] == {"stride": 1} and line.isEnabled()
    with qtbot.waitSignal(pool.values_changed) as signal:
        _click_check(qtbot, check)
    assert signal.args[0] == {"stride": None} and not line.isEnabled()


def test_float_or_choice_and_int_or_auto_schedule(qtbot):
    entry = Entry("Demo", "loss", "Test", "demo", params=(
        Param("weight", "float_or_choice", "balanced", "class weights", 0.0, 10.0, choices=("balanced", "none")),
        Param("T_max", "int_or_auto", "auto", "period", 1, 1000),
    ))
    form = _form(qtbot, entry)
    combo = form.editor("weight").findChild(QComboBox)
    spin = form.editor("weight").findChild(QDoubleSpinBox)
    assert combo.currentData() == "balanced" and not spin.isEnabled()
    with qtbot.waitSignal(form.values_changed) as signal:
        combo.setFocus()
        qtbot.keyClick(combo, Qt.Key.Key_End)  # "number"
    assert spin.isEnabled() and isinstance(signal.args[0]["weight"], float)
    t_max = form.editor("T_max")
    assert t_max.text() == "auto"
    with qtbot.waitSignal(form.values_changed) as signal:
        t_max.setFocus()
        qtbot.keyClick(t_max, Qt.Key.Key_Up)
    assert signal.args[0]["T_max"] == 1


def test_every_catalog_entry_builds_a_form(qtbot):
    for kind in ("layer", "loss", "optimizer", "schedule"):
        for entry in catalog.entries(kind):
            form = _form(qtbot, entry)
            full = form.full_values()
            assert set(full) == {p.name for p in entry.params}
            for p in entry.params:  # the editors show the defaults, which the catalog accepts
                assert p.problem(full[p.name]) is None, (entry.name, p.name, full[p.name])
            form.close()
