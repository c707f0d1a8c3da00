"""A form generated from a catalog entry's parameters.

One editor per `catalog.Param`, chosen by its kind:

    int             QSpinBox with the param's range
    float           QDoubleSpinBox with the range; shows compact numbers (0.001, 1e-05); a `log`
                    param (learning rate) steps along 1-2-5 (0.001 -> 0.002 -> 0.005 -> 0.01)
    bool            QCheckBox
    choice          QComboBox
    str             QLineEdit
    int_or_auto     QSpinBox whose lowest position reads "auto"
    ints            QLineEdit taking "3" or "3, 5"
    float_or_choice QComboBox of the choices plus "number", and a number box beside it
    nullable        any of the above behind a checkbox; unchecked means None ("off")

What the form emits: `values_changed(dict)` carries the values given to the constructor (or to
`set_values`) merged with every value the person has touched since, so a spec keeps only the
parameters someone chose and defaults stay implicit. The form never emits when values are set
from code (constructor or `set_values`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import math
import re
from typing import Any, Callable

from PySide6.QtCore import QEvent, QObject, QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from workbench.core.catalog import Entry, Param

_INT_LIMIT = 2**31 - 1
_FLOAT_LIMIT = 1e12
_NUMBER_PARTIAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d*)?([eE][+-]?\d*)?")


def describe(param: Param) -> str:
    """Tooltip text: the help, what is allowed and the default."""
    parts = [param.help.strip()] if param.help.strip() else []
    parts.append(param.allowed()[0].upper() + param.allowed()[1:] + ".")
    parts.append(f"Default: {format_value(param.default)}.")
    return "\n".join(parts)


def format_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def format_number(value: float) -> str:
    """Compact, exact enough for hyper-parameters: 0.001, 1e-05, 0.9, 128."""
    if value == 0:
        return "0"
    text = f"{value:.6g}"
    return text


class _NoWheelUnlessFocused(QObject):
    """Spin boxes and combos in a scrolling form should not change when the page scrolls."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Wheel and isinstance(obj, QWidget) and not obj.hasFocus():
            event.ignore()
            return True
        return False


class NumberSpinBox(QDoubleSpinBox):
    """A QDoubleSpinBox that shows 1e-05 rather than 0.000010 and can step on a log ladder."""

    _LADDER = (1.0, 2.0, 5.0)

    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(parent)
        self._log = param.log
        self.setDecimals(12)  # storage precision; the text is formatted by textFromValue
        low = param.low if param.low is not None else -_FLOAT_LIMIT
        high = param.high if param.high is not None else _FLOAT_LIMIT
        self.setRange(low, high)
        if not self._log:
            self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            self.setSingleStep(0.1 if (param.high is not None and param.high <= 10) else 1.0)
        self.setKeyboardTracking(False)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)

    # ---- text ----------------------------------------------------------------------------
    def textFromValue(self, value: float) -> str:  # noqa: N802
        return format_number(value)

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D102
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            state = QValidator.State.Intermediate if _NUMBER_PARTIAL.fullmatch(stripped) else QValidator.State.Invalid
            return state, text, pos
        if not math.isfinite(value):
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:  # noqa: D102
        try:
            value = float(text.strip())
        except ValueError:
            return format_number(self.value())
        return format_number(min(max(value, self.minimum()), self.maximum()))

    # ---- stepping ------------------------------------------------------------------------
    def stepBy(self, steps: int) -> None:  # noqa: N802
        if not self._log or self.value() <= 0:
            super().stepBy(steps)
            return
        value = self.value()
        for _ in range(abs(steps)):
            value = self._ladder_step(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))

    @classmethod
    def _ladder_step(cls, value: float, up: bool) -> float:
        """Next value on the 1-2-5 ladder above (or below) `value`."""
        exponent = math.floor(math.log10(value))
        candidates = [m * 10.0 ** e for e in (exponent - 1, exponent, exponent + 1) for m in cls._LADDER]
        candidates = [float(f"{c:.12g}") for c in candidates]
        if up:
            return min((c for c in candidates if c > value * (1 + 1e-9)), default=value)
        return max((c for c in candidates if c < value * (1 - 1e-9)), default=value)


# ---- editors -------------------------------------------------------------------------------
class _Editor(ABC):
    """Binds one Param to its widget(s): get(), set() and a callback when the person edits."""

    widget: QWidget

    def __init__(self, param: Param, on_edit: Callable[[], None]):
        self.param = param
        self._on_edit = on_edit

    @abstractmethod
    def get(self) -> Any: ...

    @abstractmethod
    def set(self, value: Any) -> None: ...

    def valid(self) -> bool:
        return True


class _IntEditor(_Editor):
    def __init__(self, param, on_edit, auto: bool = False):
        super().__init__(param, on_edit)
        self.auto = auto
        box = QSpinBox()
        low = int(param.low) if param.low is not None else -_INT_LIMIT + 1
        high = int(param.high) if param.high is not None else _INT_LIMIT
        if auto:
            low -= 1  # the lowest position reads "auto"
            box.setSpecialValueText("auto")
        box.setRange(low, high)
        box.setKeyboardTracking(False)
        box.setAccelerated(True)
        box.valueChanged.connect(lambda _v: on_edit())
        self.widget = self.box = box

    def get(self):
        value = self.box.value()
        if self.auto and value == self.box.minimum():
            return "auto"
        return value

    def set(self, value):
        if self.auto and value == "auto":
            self.box.setValue(self.box.minimum())
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self.box.setValue(int(value))


class _FloatEditor(_Editor):
    def __init__(self, param, on_edit):
        super().__init__(param, on_edit)
        self.widget = self.box = NumberSpinBox(param)
        self.box.valueChanged.connect(lambda _v: on_edit())

    def get(self):
        return float(self.box.value())

    def set(self, value):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.box.setValue(float(value))


class _BoolEditor(_Editor):
    def __init__(self, param, on_edit):
        super().__init__(param, on_edit)
        self.widget = self.box = QCheckBox()
        self.box.toggled.connect(lambda _v: on_edit())

    def get(self):
        return self.box.isChecked()

    def set(self, value):
        self.box.setChecked(bool(value))


class _ChoiceEditor(_Editor):
    def __init__(self, param, on_edit):
        super().__init__(param, on_edit)
        self.widget = self.box = QComboBox()
        for choice in param.choices:
            self.box.addItem(format_value(choice), choice)
        self.box.currentIndexChanged.connect(lambda _i: on_edit())

    def get(self):
        return self.box.currentData()

    def set(self, value):
        for i in range(self.box.count()):
            if self.box.itemData(i) == value:
                self.box.setCurrentIndex(i)
                return


class _StrEditor(_Editor):
    def __init__(self, param, on_edit):
        super().__init__(param, on_edit)
        self.widget = self.box = QLineEdit()
        self._last = ""
        self.box.editingFinished.connect(self._finished)

    def _finished(self):
        if self.box.text() != self._last:
            self._last = self.box.text()
            self._on_edit()

    def get(self):
        return self.box.text()

    def set(self, value):
        self._last = "" if value is None else str(value)
        self.box.setText(self._last)


class _IntsEditor(_Editor):
    """ "3" -> 3, "3, 5" -> [3, 5], or a named choice ('same'). Out-of-range or malformed text
    turns the box red and is not sent. With choices the box is an editable combo listing them."""

    def __init__(self, param, on_edit):
        super().__init__(param, on_edit)
        self._choices = [c for c in param.choices if isinstance(c, str)]
        if self._choices:
            combo = QComboBox()
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            for choice in self._choices:
                combo.addItem(choice)
            combo.activated.connect(lambda _i: self._finished())
            self.widget, self.line = combo, combo.lineEdit()
        else:
            self.widget = self.line = QLineEdit()
        pattern = r"\s*(\d*(\s*,\s*\d*)*|[A-Za-z_]*)\s*"
        self.line.setValidator(QRegularExpressionValidator(QRegularExpression(pattern), self.line))
        self.line.setPlaceholderText("3  or  3, 5" + (f"  or  {self._choices[0]}" if self._choices else ""))
        self._last = ""
        self.line.editingFinished.connect(self._finished)
        self.line.textEdited.connect(lambda _t: self._mark(self.valid()))

    def _parse(self) -> Any:
        text = self.line.text().strip()
        if text in self._choices:
            return text
        parts = [p.strip() for p in text.split(",")]
        if not parts or any(not p.isdigit() for p in parts):
            return None
        numbers = [int(p) for p in parts]
        return numbers[0] if len(numbers) == 1 else numbers

    def valid(self) -> bool:
        value = self._parse()
        return value is not None and self.param.problem(value) is None

    def _mark(self, ok: bool) -> None:
        self.line.setStyleSheet("" if ok else "QLineEdit { border: 1px solid #d93025; }")
        self.line.setToolTip(describe(self.param) if ok else self.param.allowed())

    def _finished(self):
        ok = self.valid()
        self._mark(ok)
        if ok and self.line.text() != self._last:
            self._last = self.line.text()
            self._on_edit()

    def get(self):
        return self._parse()

    def set(self, value):
        self._last = format_value(value) if value is not None else ""
        self.line.setText(self._last)
        self._mark(True)


class _FloatOrChoiceEditor(_Editor):
    _NUMBER = "number"

    def __init__(self, param, on_edit):
        super().__init__(param, on_edit)
        self.widget = QWidget()
        row = QHBoxLayout(self.widget)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.combo = QComboBox()
        for choice in param.choices:
            self.combo.addItem(format_value(choice), choice)
        self.combo.addItem(self._NUMBER, self._NUMBER)
        self.spin = NumberSpinBox(param)
        row.addWidget(self.combo, 1)
        row.addWidget(self.spin, 1)
        self.combo.currentIndexChanged.connect(self._combo_changed)
        self.spin.valueChanged.connect(lambda _v: on_edit())
        self._sync_enabled()

    def _sync_enabled(self):
        self.spin.setEnabled(self.combo.currentData() == self._NUMBER)

    def _combo_changed(self, _i):
        self._sync_enabled()
        self._on_edit()

    def get(self):
        data = self.combo.currentData()
        return float(self.spin.value()) if data == self._NUMBER else data

    def set(self, value):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.combo.setCurrentIndex(self.combo.count() - 1)
            self.spin.setValue(float(value))
        else:
            for i in range(self.combo.count() - 1):
                if self.combo.itemData(i) == value:
                    self.combo.setCurrentIndex(i)
        self._sync_enabled()


class _NullableEditor(_Editor):
    """A checkbox in front of another editor; unchecked means None."""

    def __init__(self, param, on_edit, inner: _Editor):
        super().__init__(param, on_edit)
        self.inner = inner
        self.widget = QWidget()
        row = QHBoxLayout(self.widget)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.check = QCheckBox()
        self.check.setToolTip("Unchecked: none (off)")
        row.addWidget(self.check)
        row.addWidget(inner.widget, 1)
        self.check.toggled.connect(self._toggled)

    def _toggled(self, on: bool):
        self.inner.widget.setEnabled(on)
        self._on_edit()

    def get(self):
        return self.inner.get() if self.check.isChecked() else None

    def set(self, value):
        self.check.setChecked(value is not None)
        self.inner.widget.setEnabled(value is not None)
        # when off, the inner box still shows what checking it would give
        self.inner.set(value if value is not None else self._fallback())

    def _fallback(self) -> Any:
        low = self.param.low if self.param.low is not None else 0
        return int(low) if self.param.kind in ("int", "ints", "int_or_auto") else float(low)

    def valid(self):
        return not self.check.isChecked() or self.inner.valid()


def _make_editor(param: Param, on_edit: Callable[[], None]) -> _Editor:
    kind = param.kind
    if kind == "int":
        editor: _Editor = _IntEditor(param, on_edit)
    elif kind == "int_or_auto":
        editor = _IntEditor(param, on_edit, auto=True)
    elif kind == "float":
        editor = _FloatEditor(param, on_edit)
    elif kind == "bool":
        editor = _BoolEditor(param, on_edit)
    elif kind == "choice":
        editor = _ChoiceEditor(param, on_edit)
    elif kind == "ints":
        editor = _IntsEditor(param, on_edit)
    elif kind == "float_or_choice":
        editor = _FloatOrChoiceEditor(param, on_edit)
    else:
        editor = _StrEditor(param, on_edit)
    already_has_none = kind == "choice" and None in param.choices
    if param.nullable and kind != "bool" and not already_has_none:
        editor = _NullableEditor(param, on_edit, editor)
    return editor


class ParamForm(QWidget):
    """Editors for the parameters of one catalog entry.

    values_changed(dict): after each edit by the person: the explicit values (those set from
    code, plus every parameter the person touched), never the untouched defaults.
    """

    values_changed = Signal(dict)

    def __init__(self, entry: Entry, values: dict | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.entry = entry
        self._explicit: dict[str, Any] = {}
        self._editors: dict[str, _Editor] = {}
        self._labels: dict[str, QLabel] = {}
        self._setting = False
        self._wheel_guard = _NoWheelUnlessFocused(self)

        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(8)
        layout.setVerticalSpacing(4)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setToolTip(entry.help)

        for param in entry.params:
            editor = _make_editor(param, lambda name=param.name: self._edited(name))
            tip = describe(param)
            label = QLabel(param.name)
            label.setToolTip(tip)
            editor.widget.setToolTip(tip)
            for child in [editor.widget, *editor.widget.findChildren(QWidget)]:
                if isinstance(child, (QAbstractSpinBox, QComboBox)):
                    child.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                    child.installEventFilter(self._wheel_guard)
                if not child.toolTip():
                    child.setToolTip(tip)
            editor.widget.setObjectName(f"param_{param.name}")
            layout.addRow(label, editor.widget)
            self._editors[param.name] = editor
            self._labels[param.name] = label

        if not entry.params:
            none = QLabel("No parameters.")
            none.setEnabled(False)
            layout.addRow(none)

        self.set_values(values or {})

    # ---- public --------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The explicit values: given from code or touched by the person."""
        return dict(self._explicit)

    def full_values(self) -> dict[str, Any]:
        """Every parameter, defaults filled in."""
        return {**self.entry.defaults(), **self._explicit}

    def set_values(self, values: dict[str, Any]) -> None:
        """Show `values` (missing parameters show their defaults). Does not emit."""
        self._explicit = dict(values)
        self._setting = True
        try:
            for name, editor in self._editors.items():
                editor.set(values.get(name, editor.param.default))
        finally:
            self._setting = False

    def editor(self, name: str) -> QWidget:
        """The widget editing parameter `name` (for tests and for focusing a field with a problem)."""
        return self._editors[name].widget

    def label(self, name: str) -> QLabel:
        return self._labels[name]

    # ---- internals -----------------------------------------------------------------------
    def _edited(self, name: str) -> None:
        if self._setting:
            return
        editor = self._editors[name]
        if not editor.valid():
            return
        self._explicit[name] = editor.get()
        self.values_changed.emit(dict(self._explicit))
