"""Search spaces for sweeps: which spec fields vary, and over what.

A space is a JSON object mapping dotted spec paths to a distribution (the GUI's sweep dialog
writes the same file the CLI reads):

    {"optimizer.lr":                {"log_uniform": [0.001, 0.1]},
     "train.batch_size":            {"choices": [16, 64]},
     "model.layers.0.out_features": {"int": [8, 64]},
     "model.layers.2.p":            {"uniform": [0.0, 0.5], "grid": 3},
     "optimizer.type":              {"choices": ["Adam", "SGD"]}}

Forms (see ALLOWED_FORMS): uniform, log_uniform, int (optional "step", "log"), log_int, choices.
A bare list is refused as ambiguous (exactly these values, or a range?). Any range may carry "grid": N, the number of points the grid
strategy takes from it; without it a continuous range gives DEFAULT_GRID_POINTS points and an
integer range enumerates every value (with its step).

Changing a `type` (optimizer, loss, schedule, a layer) drops the parameters the new type does
not have, and a swept parameter that the sampled type lacks is simply not applied, so every
sampled spec stays valid against the catalog. Validation errors name the path, what is wrong
and what is allowed there.

This module holds the space itself (SearchSpace, load_space, parse_space); the pieces live in
sweep_distributions (one field's distribution), sweep_paths (what a path points at),
sweep_checks (validation against the spec and catalog), sweep_apply (applying sampled values),
sweep_grid (grid points) and sweep_suggest (defaults for the GUI). Their public names are
re-exported here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.spec import ExperimentSpec, json_error_text, spec_to_dict
from workbench.core.sweep.checks import check_field
from workbench.core.sweep.distributions import (
    Distribution,
    SpaceError,
    parse_distribution,
)
from workbench.core.sweep.paths import types_first


# ---- the space -------------------------------------------------------------------------------


@dataclass
class SearchSpace:
    """Validated distributions by dotted path, in a stable order (type fields first)."""

    dists: dict[str, Distribution] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.dists)

    def paths(self) -> list[str]:
        return list(self.dists)

    def to_json(self) -> dict[str, Any]:
        return {p: d.to_json() for p, d in self.dists.items()}

    def grid_size(self) -> int:
        """Points of the full grid (conditional parameters counted as if always present)."""
        n = 1
        for d in self.dists.values():
            n *= len(d.grid_values())
        return n

    def grid(self) -> dict[str, list[Any]]:
        return {p: d.grid_values() for p, d in self.dists.items()}


def load_space(path: str | os.PathLike) -> dict[str, Any]:
    """Read SPACE.json (raw; validate with parse_space)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpaceError([("", f"file not found: {path}")], str(path)) from None
    except OSError as exc:
        raise SpaceError([("", f"cannot read {path}: {exc.strerror}")], str(path)) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpaceError([("", json_error_text(exc))], str(path)) from None
    return raw


def parse_space(raw: dict[str, Any] | str, spec: ExperimentSpec, source: str | None = None) -> SearchSpace:
    """Validate a space against a spec and the catalog; raise SpaceError naming every problem."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SpaceError([("", json_error_text(exc))], source) from None
    if not isinstance(raw, dict):
        raise SpaceError([("", 'a space is a JSON object mapping spec paths to distributions, e.g. {"optimizer.lr": {"log_uniform": [0.001, 0.1]}}')], source)
    if not raw:
        raise SpaceError([("", 'the space is empty; add at least one field, e.g. {"optimizer.lr": {"log_uniform": [0.001, 0.1]}}')], source)
    problems: list[tuple[str, str]] = []
    dists: dict[str, Distribution] = {}
    for path, form in raw.items():
        if not isinstance(path, str) or not path.strip():
            problems.append(("", f"{path!r} is not a dotted spec path"))
            continue
        dist, probs = parse_distribution(path, form)
        problems.extend(probs)
        if dist is not None:
            dists[path] = dist
    # Fields are checked once their distributions parsed; type choices first (they decide
    # which parameters exist).
    raw_spec = spec_to_dict(spec)
    for path in types_first(dists):
        problems.extend(check_field(raw_spec, path, dists[path], dists))
    if problems:
        raise SpaceError(problems, source)
    return SearchSpace({p: dists[p] for p in types_first(dists)})
