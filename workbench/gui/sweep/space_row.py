"""One row of the sweep dialog's search space: the distribution editor of one spec field."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
)

from workbench.gui.wording import for_the_app

KINDS = [("log-uniform", "log_uniform"), ("uniform", "uniform"), ("int", "int"), ("int (log)", "log_int"),
         ("choices", "choices")]
_PARTIAL_NUMBER = re.compile(r"^[+-]?(\d*\.?\d*)?([eE][+-]?\d*)?$")


class NumberBox(QDoubleSpinBox):
    """A spin box for range ends from 1e-9 to 1e6: shows '%g' text (0.001, 1e-08, 64), takes
    typed scientific notation, and on a log range steps by ×2 / ÷2. The two ends are not
    clamped to each other: a reversed range is reported by validation, next to the row."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._integer = False
        self._log = False
        self.setDecimals(12)
        self.setRange(-1e12, 1e12)
        self.setAccelerated(True)
        self.setMinimumWidth(90)
        self.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.UpDownArrows)

    def set_mode(self, *, integer: bool, log: bool) -> None:
        self._integer, self._log = integer, log
        self.setSingleStep(1.0)
        if integer:
            self.setValue(round(self.value()))
        self.lineEdit().setText(self.textFromValue(self.value()))

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt name)
        if self._integer:
            return str(int(round(value)))
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt name)
        try:
            v = float(text.strip())
        except ValueError:
            return self.value()
        return float(round(v)) if self._integer else v

    def validate(self, text: str, pos: int):  # noqa: D401 - Qt override
        t = text.strip()
        try:
            v = float(t)
            if math.isfinite(v) and (not self._integer or v == int(v)):
                return QValidator.State.Acceptable, text, pos
        except ValueError:
            pass
        if t == "" or _PARTIAL_NUMBER.match(t):
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Invalid, text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt name)
        if self._log and self.value() > 0:
            v = self.value() * (2.0 ** steps)
            self.setValue(round(v) if self._integer else float(f"{v:.6g}"))
        else:
            super().stepBy(steps)


def parse_choice_text(text: str) -> list[Any]:
    """'16, 32, 64' -> [16, 32, 64]; 'true, false' -> [True, False]; other words stay text."""
    out: list[Any] = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        try:
            value = json.loads(token.lower() if token.lower() in ("true", "false", "null") else token)
            out.append(value if not isinstance(value, (list, dict)) else token)
        except json.JSONDecodeError:
            out.append(token.strip("\"'"))
    return out


def choice_text(values: list[Any]) -> str:
    return ", ".join(v if isinstance(v, str) else json.dumps(v) for v in values)


class ChoicesEdit(QWidget):
    """Choices as a checkable list (when the catalog names the options: types, booleans,
    choice parameters) or as comma-separated text (numbers such as batch sizes)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setObjectName("choicesList")
        self.list.setFlow(QListWidget.Flow.LeftToRight)
        self.list.setWrapping(True)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setSpacing(1)
        self.list.setMaximumHeight(52)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemChanged.connect(lambda _item: self.changed.emit())
        self.text = QLineEdit()
        self.text.setObjectName("choicesText")
        self.text.setPlaceholderText("values separated by commas, e.g. 16, 32, 64")
        self.text.textChanged.connect(lambda _t: self.changed.emit())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addWidget(self.text)
        self._options: list[Any] = []
        self.set_values([], [])

    def set_values(self, values: list[Any], options: list[Any] | None = None) -> None:
        """Show `values` as chosen; `options` (a known option set) switches to the checkable list."""
        self._options = list(options or [])
        use_list = bool(self._options) and all(isinstance(o, (str, bool)) or o is None for o in self._options)
        self.list.setVisible(use_list)
        self.text.setVisible(not use_list)
        self.list.blockSignals(True)
        self.list.clear()
        if use_list:
            for option in self._options:
                item = QListWidgetItem(option if isinstance(option, str) else json.dumps(option))
                item.setData(Qt.ItemDataRole.UserRole, option)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if option in values else Qt.CheckState.Unchecked)
                self.list.addItem(item)
        self.list.blockSignals(False)
        self.text.blockSignals(True)
        self.text.setText(choice_text(values))
        self.text.blockSignals(False)
        self.changed.emit()

    def values(self) -> list[Any]:
        if self.list.isVisibleTo(self):
            return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                    if self.list.item(i).checkState() == Qt.CheckState.Checked]
        return parse_choice_text(self.text.text())

    def set_checked(self, option: Any, on: bool) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == option:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


class SpaceRow(QWidget):
    """kind · low · high · grid points (ranges) or the choices, a remove button, and the
    validation message of this field underneath (hidden when the field is fine)."""

    changed = Signal()
    remove_requested = Signal(str)

    def __init__(self, path: str, label: str, default: dict[str, Any] | None, parent: QWidget | None = None,
                 *, options: list[Any] | None = None):
        super().__init__(parent)
        self.path = path
        self.setObjectName(f"spaceRow:{path}")
        self._step: Any = None
        self._options: list[Any] = list(options or [])  # the catalog's option set (types, booleans)
        self._grid_shown = False
        self.title = QLabel(f"<b>{label}</b>")
        self.title.setToolTip(path)
        self.title.setMinimumWidth(150)
        self.kind = QComboBox()
        self.kind.setObjectName("kindCombo")
        for text, key in KINDS:
            self.kind.addItem(text, key)
        self.low = NumberBox()
        self.low.setObjectName("lowBox")
        self.high = NumberBox()
        self.high.setObjectName("highBox")
        self.low.setToolTip("lowest value tried")
        self.high.setToolTip("highest value tried")
        self.dash = QLabel("to")
        self.grid = QSpinBox()
        self.grid.setObjectName("gridPoints")
        self.grid.setRange(0, 100)
        self.grid.setSpecialValueText("auto")
        self.grid.setPrefix("grid ")
        self.grid.setToolTip("points the grid strategy takes from this range (auto: 4, or every integer)")
        self.choices = ChoicesEdit()
        self.remove = QToolButton()
        self.remove.setObjectName("removeRow")
        self.remove.setText("✕")
        self.remove.setToolTip("stop varying this field")
        self.remove.setAutoRaise(True)
        self.error = QLabel()
        self.error.setObjectName("rowError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()

        grid = QGridLayout(self)
        grid.setContentsMargins(4, 2, 4, 2)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(1)
        grid.addWidget(self.title, 0, 0, 1, 6)
        grid.addWidget(self.remove, 0, 6, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.kind, 1, 0)
        grid.addWidget(self.low, 1, 1)
        grid.addWidget(self.dash, 1, 2)
        grid.addWidget(self.high, 1, 3)
        grid.addWidget(self.grid, 1, 4)
        grid.addWidget(self.choices, 1, 1, 1, 5)
        grid.addWidget(self.error, 2, 0, 1, 7)
        grid.setColumnStretch(5, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        if default:
            self.set_json(default)
        else:
            self._show_kind()
        self.kind.currentIndexChanged.connect(self._kind_changed)
        for box in (self.low, self.high):
            box.valueChanged.connect(lambda _v: self.changed.emit())
        self.grid.valueChanged.connect(lambda _v: self.changed.emit())
        self.choices.changed.connect(self.changed.emit)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self.path))

    # -- JSON form -------------------------------------------------------------------------------
    def set_json(self, form: dict[str, Any] | list) -> None:
        """Show a distribution in SPACE.json form."""
        if isinstance(form, list):
            form = {"choices": form}
        kind = next((k for k in ("log_uniform", "uniform", "int", "log_int", "choices") if k in form), "uniform")
        value = form[kind] if kind in form else [0, 1]
        if kind == "int" and form.get("log"):
            kind = "log_int"
        self._step = form.get("step")
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(self.kind.findData(kind))
        self.kind.blockSignals(False)
        if kind == "choices":
            values = list(value) if isinstance(value, list) else []
            if not self._options or any(v not in self._options for v in values):
                if all(isinstance(v, (str, bool)) or v is None for v in values) and values:
                    self._options = list(dict.fromkeys([*self._options, *values]))
            self.choices.set_values(values, self._options)
        else:
            lo, hi = (value + [0, 1])[:2] if isinstance(value, list) else (0, 1)
            self._show_kind()
            for box, v in ((self.low, lo), (self.high, hi)):
                box.blockSignals(True)
                box.setValue(float(v) if isinstance(v, (int, float)) else 0.0)
                box.blockSignals(False)
            self.grid.blockSignals(True)
            self.grid.setValue(int(form.get("grid") or 0))
            self.grid.blockSignals(False)
        self._show_kind()
        self.changed.emit()

    def to_json(self) -> dict[str, Any]:
        kind = self.kind.currentData()
        if kind == "choices":
            return {"choices": self.choices.values()}
        lo, hi = self.low.value(), self.high.value()
        if kind in ("int", "log_int"):
            out: dict[str, Any] = {"int": [int(round(lo)), int(round(hi))]}
            if kind == "log_int":
                out["log"] = True
            elif isinstance(self._step, int) and self._step > 1:
                out["step"] = self._step
        else:
            out = {kind: [float(f"{lo:.12g}"), float(f"{hi:.12g}")]}
        if self.grid.value() > 0:
            out["grid"] = self.grid.value()
        return out

    # -- validation message ----------------------------------------------------------------------
    def set_error(self, message: str) -> None:
        message = for_the_app(message)  # layers numbered from 1, fields named as the pages do
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.setToolTip(message)

    @property
    def error_text(self) -> str:
        return self.error.text() if self.error.isVisibleTo(self) else ""

    def show_grid(self, on: bool) -> None:
        """The grid-points box matters only to the grid strategy."""
        self._grid_shown = on
        self.grid.setVisible(on and self.kind.currentData() != "choices")

    # -- internals -------------------------------------------------------------------------------
    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        if kind == "choices" and not self.choices.values():
            # start the choices from the range ends, so switching never leaves an empty row
            lo, hi = self.low.value(), self.high.value()
            seed = [int(round(lo)), int(round(hi))] if self._is_int_looking() else [lo, hi]
            self.choices.set_values(self._options or seed, self._options)
        if kind in ("log_uniform", "log_int") and self.low.value() <= 0:
            self.low.setValue(min(1e-3, self.high.value() / 100) if self.high.value() > 0 else 1e-3)
        self._step = None
        self._show_kind()
        self.changed.emit()

    def _is_int_looking(self) -> bool:
        return all(float(v).is_integer() for v in (self.low.value(), self.high.value()))

    def _show_kind(self) -> None:
        kind = self.kind.currentData()
        is_range = kind != "choices"
        for w in (self.low, self.dash, self.high):
            w.setVisible(is_range)
        self.grid.setVisible(is_range and self._grid_shown)
        self.choices.setVisible(not is_range)
        integer = kind in ("int", "log_int")
        log = kind in ("log_uniform", "log_int")
        self.low.set_mode(integer=integer, log=log)
        self.high.set_mode(integer=integer, log=log)
