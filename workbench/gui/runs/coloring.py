"""Colour overlaid runs by one run each, or by a hyperparameter: numbers on a colormap (log scale
when the values span a factor of 10 or more, as learning rates do), other values one palette
colour each; plus a small legend in rich text."""

from __future__ import annotations

import math
from typing import Any, Sequence

import pyqtgraph as pg
from PySide6.QtGui import QColor

from workbench.core.runs import field_value

# Numbers map onto plasma's deep blue-purple -> magenta -> rose: clear of the live curves' blue (train),
# orange (validation) and green (learning rate), which viridis passes through.
MAP_LO, MAP_SPAN = 0.05, 0.5

# combo label -> field key (core.runs.field_value); differing spec paths are added as-is
FIXED_CHOICES = {"Run": None, "Learning rate": "lr", "Batch size": "batch", "Optimizer": "optimizer",
                 "Seed": "seed", "Group": "group"}


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def colors_by(records: Sequence, key: str, categorical: Sequence[QColor]) -> tuple[list[QColor], str]:
    """(one colour per record, legend as rich text) for colouring by the field `key`."""
    values = [field_value(r, key) for r in records]
    numbers = [_number(v) for v in values]
    swatch = '<span style="color:{}">■</span> {}'
    if values and all(n is not None for n in numbers) and len(set(numbers)) > 1:
        lo, hi = min(numbers), max(numbers)
        log = lo > 0 and hi / lo >= 10
        f = (lambda x: math.log10(x)) if log else (lambda x: x)
        cmap = pg.colormap.get("plasma")
        span = (f(hi) - f(lo)) or 1.0
        colors = [cmap.map(MAP_LO + MAP_SPAN * (f(n) - f(lo)) / span, mode="qcolor") for n in numbers]
        shown = sorted(set(numbers))
        if len(shown) > 5:
            shown = [shown[0], shown[len(shown) // 2], shown[-1]]
        legend = " ".join(swatch.format(cmap.map(MAP_LO + MAP_SPAN * (f(v) - f(lo)) / span, mode="qcolor").name(),
                                        _fmt(v)) for v in shown)
        return colors, f"{key}{' (log)' if log else ''}: {legend}"
    distinct = list(dict.fromkeys(_fmt(v) for v in values))
    by_value = {v: categorical[i % len(categorical)] for i, v in enumerate(distinct)}
    colors = [QColor(by_value[_fmt(v)]) for v in values]
    legend = " ".join(swatch.format(by_value[v].name(), v) for v in distinct[:6])
    return colors, f"{key}: {legend}"
