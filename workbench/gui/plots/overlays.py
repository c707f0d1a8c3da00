"""Curves of past or selected runs, drawn under the live run (one colour per run)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

X_KEYS = {"step": ("step",), "epoch": ("epoch",), "time": ("elapsed", "time")}


@dataclass
class Overlay:
    label: str
    color: QColor
    columns: dict[str, np.ndarray]  # step/epoch/time + loss/val_loss/metric/val_metric/lr
    items: list[tuple[pg.PlotItem, pg.PlotDataItem, str]] = field(default_factory=list)  # y column

    def legend_item(self) -> pg.PlotDataItem | None:
        """The curve that stands for the run in a legend: its train loss, else its first."""
        for _, item, column in self.items:
            if column == "loss":
                return item
        return self.items[0][1] if self.items else None

    def x(self, mode: str) -> np.ndarray:
        return self.columns[mode]

    def x_range(self, mode: str) -> tuple[float, float] | None:
        x = self.columns[mode]
        x = x[np.isfinite(x)]
        return (float(x.min()), float(x.max())) if x.size else None


def _column(rows: Sequence[dict], keys: Sequence[str]) -> np.ndarray:
    out = np.full(len(rows), np.nan)
    for i, row in enumerate(rows):
        for key in keys:
            value = row.get(key)
            if value is not None:
                try:
                    out[i] = float(value)
                except (TypeError, ValueError):
                    pass
                break
    return out


def metric_key_for(rows: Sequence[dict], task: str | None) -> str:
    if task == "regression":
        return "r2"
    if task == "classification":
        return "accuracy"
    keys = set().union(*(r.keys() for r in rows)) if rows else set()
    return "r2" if "r2" in keys or "val_r2" in keys else "accuracy"


def build_overlay(label: str, rows: Sequence[dict], color: QColor, metric_key: str) -> Overlay:
    rows = sorted(rows, key=lambda r: float(r.get("epoch", 0) or 0))
    cols = {mode: _column(rows, keys) for mode, keys in X_KEYS.items()}
    cols.update(
        loss=_column(rows, ("loss",)),
        val_loss=_column(rows, ("val_loss",)),
        metric=_column(rows, (metric_key,)),
        val_metric=_column(rows, ("val_" + metric_key,)),
        lr=_column(rows, ("lr",)),
    )
    return Overlay(label, QColor(color), cols)


def add_items(overlay: Overlay, loss_plot: pg.PlotItem, metric_plot: pg.PlotItem,
              lr_plot: pg.PlotItem) -> None:
    """Train solid, validation dashed. The items are unnamed: the owner's legend lists runs
    itself (see `Overlay.legend_item`)."""
    solid = pg.mkPen(overlay.color, width=1.5)
    dashed = pg.mkPen(overlay.color, width=1.5, style=Qt.PenStyle.DashLine)
    specs = [
        (loss_plot, "loss", solid),
        (loss_plot, "val_loss", dashed),
        (metric_plot, "metric", solid),
        (metric_plot, "val_metric", dashed),
        (lr_plot, "lr", solid),
    ]
    for plot, column, pen in specs:
        if not np.isfinite(overlay.columns[column]).any():
            continue
        item = pg.PlotDataItem(pen=pen, connect="finite")
        item.setZValue(0)  # under the live run
        plot.addItem(item)
        overlay.items.append((plot, item, column))


def refresh(overlay: Overlay, mode: str) -> None:
    x = overlay.x(mode)
    for _, item, column in overlay.items:
        item.setData(x, overlay.columns[column], connect="finite")


def remove_items(overlay: Overlay) -> None:
    for plot, item, _ in overlay.items:
        plot.removeItem(item)
    overlay.items.clear()
