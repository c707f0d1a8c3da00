"""Two experiment specs side by side, one row per setting, named as the pages name it
("Layer 3 (Dropout): p", "Optimizer: lr", "Batch size"), differences highlighted.

What a person compares is settings, not the file: a parameter a spec leaves out is its catalog
default (so "lr 0.001" left out and "lr 0.001" written are the same), a schedule or early
stopping that is off is "off" (not "null" against "—"), internal fields (a layer's empty
"layers", the schema version) are not shown, and rows keep the spec's order.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.core import catalog
from workbench.core.spec import MISSING, diff_specs, spec_to_dict, values_equal
from workbench.gui.wording import field_label

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
DIFFERS_ROLE = Qt.ItemDataRole.UserRole
HIDDEN = {"schema_version"}
OPTIONAL_SECTIONS = ("schedule", "schedule.warmup", "train.early_stopping", "data.augment")
NONE_WORDS = {"data.target": "the last column", "data.noise": "the sample's", "data.n_samples": "the sample's",
              "train.grad_clip": "off", "train.num_threads": "automatic", "data.x_key": "automatic",
              "data.y_key": "automatic"}


def _text(path: str, value: Any) -> str:
    if value is MISSING:
        return "—"
    if path == "name" and not str(value).strip():
        return "none (runs named after data and model)"
    if value is None:
        return NONE_WORDS.get(path, "none")
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value)


def _with_defaults(kind: str, node: dict) -> dict:
    """A catalog item (layer, loss, optimizer, schedule) with every parameter it leaves out at
    its default, in the catalog's order."""
    entry = catalog.REGISTRY[kind].get(str(node.get("type")))
    if entry is None:
        return dict(node)
    out = {"type": node["type"]}
    out.update({p.name: node.get(p.name, p.default) for p in entry.params})
    out.update({k: v for k, v in node.items() if k not in out})
    return out


def _layers(layers: list[dict]) -> list[dict]:
    out = []
    for layer in layers:
        full = _with_defaults("layer", {k: v for k, v in layer.items() if k != "layers"})
        if layer.get("layers"):
            full["layers"] = _layers(layer["layers"])
        out.append(full)
    return out


def comparable(spec: Any) -> dict[str, Any]:
    """The spec as a person compares it (see the module doc), still nested."""
    raw = spec_to_dict(spec) if hasattr(spec, "model_dump") else json.loads(json.dumps(spec))
    for key in HIDDEN:
        raw.pop(key, None)
    model = raw.get("model")
    if isinstance(model, dict) and isinstance(model.get("layers"), list):
        model["layers"] = _layers(model["layers"])
    for kind in ("loss", "optimizer", "schedule"):
        if isinstance(raw.get(kind), dict):
            warmup = raw[kind].pop("warmup", None) if kind == "schedule" else None
            raw[kind] = _with_defaults(kind, raw[kind])
            if isinstance(warmup, dict):  # no warmup: no row (the section row says "off" when the other has one)
                raw[kind]["warmup"] = warmup
    return raw


def _flat_rows(left: Any, right: Any) -> list[tuple[str, Any, Any]]:
    """(path, left, right) for every setting, off sections as one row ("off" / "on")."""
    a, b = comparable(left), comparable(right)
    for section in OPTIONAL_SECTIONS:
        _mark_section(a, b, section)
    return diff_specs(a, b, all_rows=True)


def _mark_section(a: dict, b: dict, dotted: str) -> None:
    """A section off on one side and on on the other: an explicit "off" / "on" row first."""
    def node(raw: dict) -> tuple[dict | None, str]:
        *head, last = dotted.split(".")
        for part in head:
            raw = raw.get(part) if isinstance(raw, dict) else None
            if raw is None:
                return None, last
        return raw, last

    (pa, key), (pb, _) = node(a), node(b)
    if pa is None or pb is None:
        return
    va, vb = pa.get(key, MISSING), pb.get(key, MISSING)
    if isinstance(va, dict) == isinstance(vb, dict):
        return
    for parent, value in ((pa, va), (pb, vb)):
        if isinstance(value, dict):
            parent[key] = {"enabled": True, **value} if "type" not in value else value
        else:
            parent[key] = {"enabled": False} if key != "schedule" else {"type": "none (constant)"}


class SpecDiffView(QWidget):
    """A table (path, left, right) of two specs; differing rows tinted and counted.

    `set_specs(left, right, left_title, right_title)` takes dicts or ExperimentSpecs; the
    "Only differences" checkbox hides equal rows.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._rows: list[tuple[str, Any, Any, bool]] = []
        self._names: dict = {}
        self._names_left: dict = {}
        self.summary = QLabel("No specs to compare")
        self.summary.setObjectName("specDiffSummary")
        self.only_differences = QCheckBox("Only differences")
        self.only_differences.setObjectName("specDiffOnlyDifferences")
        self.only_differences.toggled.connect(self._apply_filter)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("specDiffTable")
        self.table.setHorizontalHeaderLabels(["Field", "Left", "Right"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        top = QHBoxLayout()
        top.setContentsMargins(4, 4, 4, 0)
        top.addWidget(self.summary, 1)
        top.addWidget(self.only_differences)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def set_specs(self, left: Any, right: Any, left_title: str = "Left", right_title: str = "Right") -> None:
        self._names = comparable(right)  # layer types for the labels (the newer run's)
        self._names_left = comparable(left)
        self._rows = [(p, a, b, not values_equal(a, b)) for p, a, b in _flat_rows(left, right)]
        self.table.setHorizontalHeaderLabels(["Field", left_title, right_title])
        n = sum(d for *_, d in self._rows)
        self.summary.setText("The specs are identical" if n == 0 else
                             f"{n} field{'s' if n != 1 else ''} differ{'s' if n == 1 else ''}")
        self._fill()

    def differing_paths(self) -> list[str]:
        return [p for p, *_, d in self._rows if d]

    def visible_paths(self) -> list[str]:
        return [self.table.item(r, 0).data(PATH_ROLE) for r in range(self.table.rowCount())
                if not self.table.isRowHidden(r)]

    def visible_labels(self) -> list[str]:
        """The Field column as a person reads it."""
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())
                if not self.table.isRowHidden(r)]

    def highlighted_paths(self) -> list[str]:
        """Rows drawn with the difference tint (what a person sees as changed)."""
        return [self.table.item(r, 0).data(PATH_ROLE) for r in range(self.table.rowCount())
                if self.table.item(r, 0).data(DIFFERS_ROLE)]

    def label(self, path: str) -> str:
        """What the Field column says for `path`."""
        if path.endswith(".enabled"):
            return field_label(path.removesuffix(".enabled"))
        names = self._names_left if _has_path(self._names_left, path) else self._names
        return field_label(path, names)

    def _tint(self) -> QColor:
        dark = self.palette().color(QPalette.ColorRole.Base).lightnessF() < 0.5
        return QColor(120, 95, 20, 150) if dark else QColor(255, 214, 90, 110)

    def _fill(self) -> None:
        self.table.setRowCount(len(self._rows))
        tint = QBrush(self._tint())
        missing = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        bold = QFont(self.font())
        bold.setBold(True)
        for r, (path, a, b, differs) in enumerate(self._rows):
            for c, value in enumerate((self.label(path), _text(path, a), _text(path, b))):
                item = QTableWidgetItem(value)
                item.setToolTip(path if c == 0 else value)
                item.setData(PATH_ROLE, path)
                if differs:
                    item.setBackground(tint)
                    item.setData(DIFFERS_ROLE, True)
                    if c == 0:
                        item.setFont(bold)
                if c > 0 and (a, b)[c - 1] is MISSING:
                    item.setForeground(missing)
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        self._apply_filter()

    def _apply_filter(self) -> None:
        only = self.only_differences.isChecked()
        for r, (*_, differs) in enumerate(self._rows):
            self.table.setRowHidden(r, only and not differs)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._rows:
            self._fill()


def _has_path(raw: Any, path: str) -> bool:
    node = raw
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True
