"""Compare two experiment specs field by field, as flattened dotted paths.

    flatten_spec({"optimizer": {"lr": 0.01}, "model": {"layers": [{"type": "Linear"}]}})
    -> {"optimizer.lr": 0.01, "model.layers.0.type": "Linear"}

Paths use the same dotted form as `ExperimentSpec.with_values` and sweep spaces.
"""

from __future__ import annotations

import math
from typing import Any


class _Missing:
    """A field one spec has and the other does not."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def _as_plain(spec: Any) -> Any:
    if hasattr(spec, "model_dump"):  # an ExperimentSpec (or any pydantic model)
        return spec.model_dump(mode="json")
    return spec


def flatten_spec(spec: Any, prefix: str = "") -> dict[str, Any]:
    """A nested dict/list (or pydantic model) as {dotted_path: leaf value}, in spec order.

    List items are numbered (`model.layers.2.p`); an empty dict or list is kept as a leaf so
    "no layers" still shows up as a row.
    """
    spec = _as_plain(spec)
    out: dict[str, Any] = {}
    if isinstance(spec, dict):
        items = [(str(k), v) for k, v in spec.items()]
    elif isinstance(spec, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(spec)]
    else:
        out[prefix] = spec
        return out
    if not items and prefix:
        out[prefix] = spec
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, (dict, list, tuple)) or hasattr(value, "model_dump"):
            out.update(flatten_spec(value, path))
        else:
            out[path] = value
    return out


def values_equal(a: Any, b: Any) -> bool:
    """Equal as spec values: 1 == 1.0, but True != 1 and NaN == NaN."""
    if a is MISSING or b is MISSING:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _merged_order(first: list[str], second: list[str]) -> list[str]:
    order = list(first)
    known = set(first)
    anchor = -1  # index in `order` after which the next new path of `second` goes
    for path in second:
        if path in known:
            anchor = order.index(path)
        else:
            anchor += 1
            order.insert(anchor, path)
            known.add(path)
    return order


def diff_specs(a: Any, b: Any, *, all_rows: bool = False) -> list[tuple[str, Any, Any]]:
    """Rows (path, a_value, b_value) where the specs differ; MISSING marks an absent field.

    Order: `a`'s paths in spec order; a path only `b` has follows its predecessor in `b`. `all_rows=True` keeps the equal
    rows too (the diff view's "only differences" switch).
    """
    flat_a, flat_b = flatten_spec(a), flatten_spec(b)
    paths = _merged_order(list(flat_a), list(flat_b))
    rows = []
    for path in paths:
        va, vb = flat_a.get(path, MISSING), flat_b.get(path, MISSING)
        if all_rows or not values_equal(va, vb):
            rows.append((path, va, vb))
    return rows
