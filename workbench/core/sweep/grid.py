"""The grid strategy's points: every combination of the space's grid values (types applied, so
parameters a point's type lacks drop out and duplicates go), and a spread-out subset of them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from workbench.core.spec import ExperimentSpec, spec_to_dict
from workbench.core.sweep.apply import set_type, is_applicable
from workbench.core.sweep.paths import field_ref

if TYPE_CHECKING:
    from workbench.core.sweep.space import SearchSpace


def expand_grid(space: SearchSpace, spec: ExperimentSpec | None = None) -> list[dict[str, Any]]:
    """Every point of the grid, in a fixed order (last path varies fastest). With a spec,
    parameters that the point's sampled type does not have are left out and the duplicates
    this makes are dropped (Adam × 3 momentum values is one point, not three)."""
    points: list[dict[str, Any]] = [{}]
    for path, dist in space.dists.items():
        points = [{**pt, path: v} for pt in points for v in dist.grid_values()]
    if spec is None:
        return points
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    base = spec_to_dict(spec)
    for pt in points:
        raw = json.loads(json.dumps(base))
        kept: dict[str, Any] = {}
        for path in space.dists:
            if path.endswith(".type") and field_ref(path).entry_kind is not None:
                set_type(raw, path, pt[path])
                kept[path] = pt[path]
            elif is_applicable(raw, path):
                kept[path] = pt[path]
        key = json.dumps(kept, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(kept)
    return out


def spread(points: list, n: int) -> list:
    """n of the points, evenly strided over their order (first and last included), so a grid
    cut short still covers its whole range instead of only its first corner."""
    k = len(points)
    if n >= k:
        return list(points)
    if n <= 1:
        return list(points[:n])
    return [points[int(i * (k - 1) / (n - 1) + 0.5)] for i in range(n)]
