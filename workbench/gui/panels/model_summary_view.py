"""The live model summary: a table of output shape, parameters and FLOPs per layer, and the
totals (parameters, FLOPs, memory estimate). The layer that cannot accept its input is red and
its message is shown under the table."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from workbench.gui.panels.layer_stack import ERROR_COLOR, shape_text

COLUMNS = ["#", "Layer", "Output", "Params", "FLOPs"]


def human(n: float, unit: str = "") -> str:
    """1234 -> '1.2 k', 3_400_000 -> '3.4 M'."""
    n = float(n)
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= factor:
            return f"{n / factor:.3g} {suffix}{unit}"
    return f"{n:.0f} {unit}".rstrip() if unit else f"{n:.0f}"


def human_bytes(n: int) -> str:
    n = float(n)
    for factor, suffix in ((1024**3, "GB"), (1024**2, "MB"), (1024, "KB")):
        if n >= factor:
            return f"{n / factor:.3g} {suffix}"
    return f"{n:.0f} B"


def flatten_infos(infos: list[Any], prefix: tuple[int, ...] = ()) -> list[tuple[tuple[int, ...], Any]]:
    rows = []
    for i, info in enumerate(infos):
        path = (*prefix, i)
        rows.append((path, info))
        rows.extend(flatten_infos(getattr(info, "inner", None) or [], path))
    return rows


class ModelSummaryView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.totals_label = QLabel()
        self.totals_label.setObjectName("summaryTotals")
        self.totals_label.setWordWrap(True)
        self.totals_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.totals_label)
        self.error_label = QLabel()
        self.error_label.setObjectName("summaryError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(f"QLabel {{ color: {ERROR_COLOR.name()}; }}")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.show_summary(None)

    def show_summary(self, summary: Any, batch_size: int | None = None) -> None:
        rows = flatten_infos(summary.layers) if summary is not None else []
        self.table.setRowCount(len(rows))
        error_text = None
        for r, (path, info) in enumerate(rows):
            number = ".".join(str(p + 1) for p in path)
            indent = "    " * (len(path) - 1)
            error = getattr(info, "error", None)
            reached = bool(info.out_shape)  # layers after a failing one were never reached
            cells = [
                number,
                f"{indent}{info.type}",
                shape_text(info.out_shape),
                f"{info.params:,}" if reached else "—",
                human(info.flops) if reached else "—",
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (0, 3, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if error:
                    item.setForeground(QBrush(ERROR_COLOR))
                    bg = QColor(ERROR_COLOR)
                    bg.setAlpha(40)
                    item.setBackground(QBrush(bg))
                    item.setToolTip(error)
                self.table.setItem(r, c, item)
            if error and error_text is None:
                error_text = error
        if summary is None:
            self.totals_label.setText("No summary yet: load data and add layers.")
        elif error_text:
            self.totals_label.setText(f"input {shape_text(summary.input_shape)} · the totals appear once every layer fits")
            self.totals_label.setToolTip("")
        else:
            batch = f" (batch of {batch_size})" if batch_size else " per batch"
            out = shape_text(summary.output_shape)
            self.totals_label.setText(
                f"<b>{summary.total_params:,}</b> parameters"
                + (f" ({summary.trainable_params:,} trainable)" if summary.trainable_params != summary.total_params else "")
                + f" · <b>{human(summary.total_flops)}</b> FLOPs per sample"
                + f" · memory ≈ <b>{human_bytes(summary.memory_bytes)}</b>{batch}"
                + f" · input {shape_text(summary.input_shape)} → output {out}"
            )
            notes = getattr(summary, "notes", None) or []
            self.totals_label.setToolTip("\n".join(notes) if notes else self._memory_tip(summary))
        self.error_label.setText(error_text or "")
        self.error_label.setVisible(bool(error_text))

    @staticmethod
    def _memory_tip(summary: Any) -> str:
        memory = getattr(summary, "memory", None) or {}
        if not memory:
            return ""
        return "Memory estimate:\n" + "\n".join(f"  {k}: {human_bytes(v)}" for k, v in memory.items())

    def row_texts(self, row: int) -> list[str]:
        return [self.table.item(row, c).text() for c in range(self.table.columnCount())]

    def is_row_red(self, row: int) -> bool:
        return self.table.item(row, 0).foreground().color() == ERROR_COLOR
