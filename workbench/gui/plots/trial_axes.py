"""Scales shared by the sweep plots: where a parameter value sits on an axis, its ticks, and
the metric colour of a trial (the same in parallel coordinates and scatters)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

FINISHED = ("complete", "finished")
KINDS = ("linear", "log", "categorical")


@dataclass(frozen=True)
class AxisSpec:
    """One axis: a parameter's dotted path, how to scale it, and what to call it.

    `low`/`high` widen a numeric axis to the search range; `categories` fixes the order of a
    categorical one (values not listed are appended in the order seen).
    """

    name: str
    kind: str = "linear"
    label: str = ""
    low: float | None = None
    high: float | None = None
    categories: tuple = field(default_factory=tuple)

    @property
    def title(self) -> str:
        return self.label or self.name


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def is_ok(trial: dict) -> bool:
    """A finished trial with a finite metric (coloured); everything else is drawn grey."""
    v = trial.get("value")
    return trial.get("status", "complete") in FINISHED and v is not None and math.isfinite(v)


def infer_axes(trials: Sequence[dict]) -> list[AxisSpec]:
    """Linear axes for numeric parameters, categorical for the rest, in the order first seen."""
    names: dict[str, list] = {}
    for t in trials:
        for name, value in t.get("params", {}).items():
            names.setdefault(name, []).append(value)
    return [AxisSpec(name, "linear" if all(is_number(v) for v in vals) else "categorical")
            for name, vals in names.items()]


def _category_key(v: Any) -> str:
    return repr(v)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9:
        ticks.append(0.0 if abs(v) < step * 1e-9 else v)
        v += step
    return ticks


def fmt_value(v: Any, digits: int = 4) -> str:
    """A parameter or metric value as a person reads it: `digits` significant digits, powers of
    ten only for very large or very small numbers."""
    if isinstance(v, bool) or not is_number(v):
        return str(v)
    v = float(v)
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.{max(digits - 4, 0)}e}".replace("e-0", "e-").replace("e+0", "e")
    return f"{v:.{digits}g}"


def distinct_labels(values: Sequence[float]) -> list[str]:
    """Tick labels with as many digits as it takes to tell them apart (four at least): ticks
    0.00005 apart near 1.386 read 1.3862, 1.38625, ..., not "1.386" several times."""
    labels = [fmt_value(v) for v in values]
    for digits in range(5, 10):
        if len(set(labels)) == len(labels):
            break
        labels = [fmt_value(v, digits) for v in values]
    return labels


def value_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """(value, label) ticks over [lo, hi] at round steps, every label different (a colour bar's)."""
    values = nice_ticks(lo, hi)
    return _unique(list(zip(values, distinct_labels(values))))


def _unique(ticks: list[tuple[float, str]]) -> list[tuple[float, str]]:
    seen: set[str] = set()
    return [(p, t) for p, t in ticks if not (t in seen or seen.add(t))]


class ScaledAxis:
    """Maps the values of one axis to [0, 1] (NaN where a trial has no value)."""

    def __init__(self, spec: AxisSpec, values: Sequence[Any]):
        self.spec = spec
        present = [v for v in values if v is not None]
        kind = spec.kind
        if kind != "categorical" and not all(is_number(v) for v in present):
            kind = "categorical"
        if kind == "log" and any(float(v) <= 0 for v in present):
            kind = "linear"  # a log axis cannot show 0 or negatives
        self.kind = kind
        if kind == "categorical":
            cats = list(spec.categories)
            seen = {_category_key(c) for c in cats}
            extra = []
            for v in present:
                if _category_key(v) not in seen:
                    seen.add(_category_key(v))
                    extra.append(v)
            if all(is_number(v) for v in extra) or all(isinstance(v, str) for v in extra):
                extra.sort()
            self.categories = cats + extra
            self._index = {_category_key(c): i for i, c in enumerate(self.categories)}
            self.lo, self.hi = 0.0, float(max(len(self.categories) - 1, 1))
            return
        nums = [float(v) for v in present] + [b for b in (spec.low, spec.high) if b is not None]
        if kind == "log":
            nums = [b for b in nums if b > 0]
        if nums:
            lo, hi = min(nums), max(nums)
        else:  # no values yet: any valid range
            lo, hi = (1.0, 10.0) if kind == "log" else (0.0, 1.0)
        self.lo, self.hi = lo, hi
        self.categories = []

    def _t(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "log":
            x = np.log10(np.where(x > 0, x, np.nan))
            lo, hi = math.log10(self.lo), math.log10(self.hi)
        else:
            lo, hi = self.lo, self.hi
        if hi == lo:
            return np.where(np.isnan(x), np.nan, 0.5)
        return (x - lo) / (hi - lo)

    def positions(self, values: Sequence[Any]) -> np.ndarray:
        if self.kind == "categorical":
            n = len(self.categories)
            out = np.array([np.nan if v is None else float(self._index.get(_category_key(v), np.nan))
                            for v in values], dtype=float)
            return out / (n - 1) if n > 1 else np.where(np.isnan(out), np.nan, 0.5)
        x = np.array([np.nan if v is None or not is_number(v) else float(v) for v in values])
        return self._t(x)

    def data_coords(self, values: Sequence[Any]) -> np.ndarray:
        """Values as plot x coordinates: log10 for log axes, category index for categorical."""
        if self.kind == "categorical":
            return np.array([np.nan if v is None else float(self._index.get(_category_key(v), np.nan))
                             for v in values])
        x = np.array([np.nan if v is None or not is_number(v) else float(v) for v in values])
        return np.log10(np.where(x > 0, x, np.nan)) if self.kind == "log" else x

    def ticks(self) -> list[tuple[float, str]]:
        """(position in [0, 1], label)."""
        if self.kind == "categorical":
            n = len(self.categories)
            return [(0.5 if n == 1 else i / (n - 1), fmt_value(c)) for i, c in enumerate(self.categories)]
        if self.lo == self.hi:
            return [(0.5, fmt_value(self.lo))]
        if self.kind == "log":
            lo, hi = math.log10(self.lo), math.log10(self.hi)
            decades = [10.0 ** e for e in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)]
            values = decades if len(decades) >= 2 else sorted(
                {v for e in range(math.floor(lo), math.ceil(hi) + 1) for v in (10.0 ** e, 2 * 10.0 ** e, 5 * 10.0 ** e)
                 if self.lo * (1 - 1e-9) <= v <= self.hi * (1 + 1e-9)})
            if len(values) < 2:
                values = [self.lo, self.hi]
        else:
            values = nice_ticks(self.lo, self.hi)
        pos = self._t(np.asarray(values, dtype=float))
        return _unique([(float(p), label) for p, label in zip(pos, distinct_labels(values))])


def metric_colormap(dark: bool) -> pg.ColorMap:
    """Viridis (perceptually uniform, colour-blind safe), trimmed so both ends stay visible:
    its darkest purple vanishes on a dark background, its palest yellow on white."""
    lo, hi = (0.2, 1.0) if dark else (0.0, 0.88)
    stops = np.linspace(lo, hi, 64)
    return pg.ColorMap(np.linspace(0, 1, 64), pg.colormap.get("viridis").map(stops, mode="byte"))


class MetricScale:
    """Metric value -> t in [0, 1] with best = 1 (bright), whichever the direction."""

    def __init__(self, values: Sequence[float | None], direction: str = "minimize"):
        finite = [float(v) for v in values if v is not None and math.isfinite(v)]
        self.lo, self.hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        self.maximize = direction == "maximize"

    def t(self, values: Sequence[float | None]) -> np.ndarray:
        x = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
        if self.hi == self.lo:
            t = np.where(np.isfinite(x), 1.0, np.nan)
        else:
            t = (x - self.lo) / (self.hi - self.lo)
        return t if self.maximize else 1.0 - t

    def colormap_for_bar(self, cmap: pg.ColorMap) -> pg.ColorMap:
        """The map along the metric axis (low to high): reversed when lower is better."""
        if self.maximize:
            return cmap
        stops = np.linspace(0, 1, 64)
        return pg.ColorMap(stops, cmap.map(1.0 - stops, mode="byte"))


def faint_color(foreground: QColor, alpha: int = 60) -> QColor:
    c = QColor(foreground)
    c.setAlpha(alpha)
    return c


def plain_numbers(axis: pg.AxisItem) -> None:
    """Tick values as they are: no "(x0.001)" SI scaling of unit-less metrics like a loss."""
    axis.enableAutoSIPrefix(False)
    # enableAutoSIPrefix(False) recomputes the scale anyway (pyqtgraph 0.14); no ranges = scale 1.
    axis.setSIPrefixEnableRanges(())
    axis.updateAutoSIPrefix()


class TrialDataView:
    """What the trial views (parallel coordinates, scatters) share: axes and trials in, a
    rebuild out. The widget provides `_rebuild()`."""

    _axis_specs: list[AxisSpec]
    _trials: list[dict]
    _metric: str
    _direction: str

    def set_axes(self, axes: Sequence[AxisSpec]) -> None:
        self._axis_specs = list(axes)
        self._rebuild()

    def set_data(self, trials: Sequence[dict], *, metric: str | None = None,
                 direction: str | None = None) -> None:
        self._trials = list(trials)
        if metric is not None:
            self._metric = metric
        if direction is not None:
            self._direction = direction
        self._rebuild()
