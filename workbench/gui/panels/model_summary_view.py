"""The model's totals under the layer stack: parameters, FLOPs, the memory estimate and the
input -> output shapes in one line, and the message of the layer that cannot take its input (its
row in the stack is red). The per-layer numbers are columns of the stack itself."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from workbench.gui.panels.layer_stack import ERROR_COLOR, shape_text


class WrapLabel(QLabel):
    """A word-wrapped label that takes the width it is given (no minimum from its longest line)
    and always is as tall as its wrapped text: layouts inside splitters and docks do not ask a
    label's height for its width, so it sets its own minimum height on every resize."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        policy = self.sizePolicy()  # keeps the height-for-width flag word wrap set
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        policy.setVerticalPolicy(QSizePolicy.Policy.Minimum)
        self.setSizePolicy(policy)

    def _fit(self) -> None:
        if self.width() > 0:
            height = self.heightForWidth(self.width())
            if height > 0 and height != self.minimumHeight():
                self.setMinimumHeight(height)

    def sizeHint(self):  # noqa: N802
        hint = super().sizeHint()
        if self.width() > 0:  # as tall as the text is at the width it has, not at Qt's guess
            hint.setHeight(max(self.heightForWidth(self.width()), 0) or hint.height())
        return hint

    def setText(self, text: str) -> None:  # noqa: N802
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()


def human(n: float, unit: str = "") -> str:
    """1234 -> '1.23 k', 3_400_000 -> '3.4 M'."""
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
    """`totals_label` (one line, wraps when narrow) and `error_label` (red, only when a layer
    does not fit)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.totals_label = WrapLabel()
        self.totals_label.setObjectName("summaryTotals")
        self.totals_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.totals_label)
        self.error_label = WrapLabel()
        self.error_label.setObjectName("summaryError")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(f"QLabel {{ color: {ERROR_COLOR.name()}; }}")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.show_summary(None)

    def show_summary(self, summary: Any, batch_size: int | None = None, pending: str = "") -> None:
        """`pending`: why there is no summary yet although one will come ("Loading PyTorch…")."""
        error_text = None
        if summary is not None:
            error_text = next((info.error for _, info in flatten_infos(summary.layers)
                               if getattr(info, "error", None)), None)
        if summary is None:
            self.totals_label.setText(f"{pending} the shapes and totals follow." if pending
                                      else "No summary yet: load data and add layers.")
            self.totals_label.setToolTip("")
        elif error_text:
            self.totals_label.setText(f"Input {shape_text(summary.input_shape)} · the totals appear "
                                      "once every layer fits")
            self.totals_label.setToolTip("")
        else:
            batch = f"batch of {batch_size}" if batch_size else "per batch"
            trainable = (f" ({summary.trainable_params:,} trainable)"
                         if summary.trainable_params != summary.total_params else "")
            self.totals_label.setText(
                f"<b>{summary.total_params:,}</b> parameters{trainable}"
                f" · <b>{human(summary.total_flops)}</b> FLOPs"
                f" · <b>{human_bytes(summary.memory_bytes)}</b> memory"
                f" · {shape_text(summary.input_shape)} → {shape_text(summary.output_shape)}")
            tips = [f"{summary.total_params:,} parameters in all",
                    f"{human(summary.total_flops)} floating-point operations per sample (forward pass)",
                    f"memory ≈ {human_bytes(summary.memory_bytes)} for a {batch} (weights, gradients, "
                    "optimizer state, activations)",
                    f"input per sample {shape_text(summary.input_shape)} → output "
                    f"{shape_text(summary.output_shape)}"]
            memory = getattr(summary, "memory", None) or {}
            tips += [f"  {k}: {human_bytes(v)}" for k, v in memory.items()]
            tips += list(getattr(summary, "notes", None) or [])
            self.totals_label.setToolTip("\n".join(tips))
        self.error_label.setText(error_text or "")
        self.error_label.setVisible(bool(error_text))
