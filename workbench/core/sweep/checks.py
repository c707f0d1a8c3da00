"""Checks of one swept field against the spec and the catalog (parse_space runs them): the path
exists, a type is swept with known entries, a range stays inside what the parameter allows."""

from __future__ import annotations

import json
import math
from typing import Any

from workbench.core.catalog import range_words
from workbench.core.spec import SpecError, parse_spec
from workbench.core.sweep.distributions import Distribution
from workbench.core.sweep.paths import catalog_entry, resolve_container, field_ref


def _types_at(container_path: str, current: str, dists: dict[str, Distribution]) -> list[str]:
    d = dists.get(f"{container_path}.type")
    if d is not None and d.kind == "choices":
        return [str(c) for c in d.choices]
    return [current]


def check_field(raw_spec: dict, path: str, dist: Distribution, dists: dict[str, Distribution]) -> list[tuple[str, str]]:
    ref = field_ref(path)
    if ref.entry_kind is None:
        return check_plain_field(raw_spec, path, dist)
    container, why = resolve_container(raw_spec, ref)
    if container is None:
        return [(path, why or "does not exist")]
    from workbench.core import catalog

    if ref.name == "type":
        if dist.kind != "choices":
            return [(path, f'a type is swept with choices, e.g. {{"choices": ["{container.get("type")}", ...]}}')]
        known = catalog.REGISTRY.get(ref.entry_kind, {})
        bad = [c for c in dist.choices if c not in known]
        if bad:
            return [(path, catalog.unknown_entry_message(ref.entry_kind, bad[0]))]
        if ref.entry_kind == "layer" and any(c == "Residual" for c in dist.choices) != (container.get("type") == "Residual"):
            return [(path, "a Residual block cannot be swapped with an ordinary layer")]
        return []

    types = _types_at(ref.container, str(container.get("type")), dists)
    owners = [(t, catalog_entry(ref.entry_kind, t)) for t in types]
    having = [(t, e) for t, e in owners if e is not None and any(p.name == ref.name for p in e.params)]
    if not having:
        t, e = owners[0]
        if e is None:
            return [(path, f"unknown {ref.entry_kind} {t!r} at {ref.container}")]
        its = ", ".join(p.name for p in e.params) or "none"
        which = " / ".join(types)
        dym = catalog.did_you_mean(ref.name, [p.name for p in e.params]) if e is not None else ""
        return [(path, f"{which} has no parameter {ref.name!r}; {dym}its parameters: {its}")]
    problems = []
    for t, e in having:
        problems.extend(_check_param(path, t, e.param(ref.name), dist))
        if problems:
            break
    return problems


def _check_param(path: str, owner: str, param: Any, dist: Distribution) -> list[tuple[str, str]]:
    label = f"{owner}.{param.name}"
    if dist.kind == "choices":
        for c in dist.choices:
            msg = param.problem(c)
            if msg:
                return [(path, f"choice {json.dumps(c)} is not allowed: {label} {msg}")]
        return []
    kind = param.kind
    if kind in ("bool", "str", "choice"):
        allowed = param.allowed().removeprefix("must be ")
        return [(path, f'{label} is {allowed}; sweep it with {{"choices": [...]}}')]
    if kind in ("int", "int_or_auto", "ints") and not dist.is_int:
        return [(path, f'{label} is an integer; use {{"int": [{math.ceil(dist.low)}, {math.floor(dist.high)}]}} or choices')]
    lo_ok = param.low is None or dist.low >= param.low
    hi_ok = param.high is None or dist.high <= param.high
    if not (lo_ok and hi_ok):
        return [(path, f"{label} must be{range_words(param.low, param.high)}; "
                       f"the range [{dist.low:g}, {dist.high:g}] goes past it")]
    return []


def check_plain_field(raw_spec: dict, path: str, dist: Distribution) -> list[tuple[str, str]]:
    """A non-catalog field (train.*, data.*): it must exist, and the range ends must validate."""
    parts = path.split(".")
    node: Any = raw_spec
    for i, part in enumerate(parts):
        here = ".".join(parts[:i])
        if isinstance(node, dict):
            if part not in node:
                fields = ", ".join(k for k in node if k != "schema_version")
                from workbench.core.spec import field_home_hint

                hint = field_home_hint(part, path) if i == len(parts) - 1 else ""
                return [(path, f"{'the spec' if not here else repr(here)} has no field {part!r}; "
                               + (f"{hint}" if hint else f"it has: {fields}"))]
            node = node[part]
        elif isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return [(path, f"{here!r} has no item {part!r} (it has {len(node)})")]
            node = node[int(part)]
        else:
            return [(path, f"{here!r} is a value ({json.dumps(node)}), not a group of fields")]
    if isinstance(node, (dict, list)):
        return [(path, "is a group of fields; sweep one of its fields: " + ", ".join(
            f"{path}.{k}" for k in (node if isinstance(node, dict) else range(len(node)))))]
    spec = parse_spec(raw_spec)
    values = list(dist.choices) if dist.kind == "choices" else [dist.low, dist.high]
    if dist.is_int:
        values = [int(v) for v in values]
    for v in values:
        try:
            spec.with_values({path: v})
        except SpecError as err:
            msgs = "; ".join(m for p, m in err.problems)
            if dist.kind == "choices":
                return [(path, f"choice {json.dumps(v)} is not allowed: {msgs}")]
            return [(path, f"the range [{dist.low:g}, {dist.high:g}] goes past what this field allows: {msgs}")]
    return []
