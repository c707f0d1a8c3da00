"""Suggestions for the GUI's sweep dialog: the fields a spec can sweep (sweepable_paths) and a
sensible default distribution for one of them from the catalog's Param metadata."""

from __future__ import annotations

import math
from typing import Any

from workbench.core.spec import ExperimentSpec, spec_to_dict
from workbench.core.sweep.checks import check_plain_field
from workbench.core.sweep.distributions import Distribution, SpaceError, is_number, tidy
from workbench.core.sweep.paths import catalog_entry, resolve_container, field_ref

_PLAIN_SUGGESTIONS: dict[str, dict[str, Any]] = {
    "train.batch_size": {"choices": [16, 32, 64, 128]},
    "train.epochs": {"int": [10, 100], "step": 10},
    "train.grad_clip": {"log_uniform": [0.1, 10.0]},
    "train.l1": {"log_uniform": [1e-6, 1e-2]},
    "train.seed": {"int": [0, 4]},
    "data.noise": {"uniform": [0.0, 0.5]},
    "data.seed": {"int": [0, 4]},
    "data.standardize": {"choices": [True, False]},
    "data.split.val": {"uniform": [0.1, 0.3]},
}


def space_from_catalog(spec: ExperimentSpec, path: str) -> dict[str, Any]:
    """A sensible default distribution (JSON form) for one spec field, from the catalog's
    Param metadata: log_uniform for log parameters, int ranges, choices for bools/choices and
    for types (the entries of the same group, e.g. the activations). Raises SpaceError when
    the path does not exist or cannot be swept."""
    from workbench.core import catalog

    raw = spec_to_dict(spec)
    ref = field_ref(path)
    if ref.entry_kind is None:
        if path in _PLAIN_SUGGESTIONS:
            return dict(_PLAIN_SUGGESTIONS[path])
        problems = check_plain_field(raw, path, Distribution("choices", choices=()))
        if problems:
            raise SpaceError(problems)
        raise SpaceError([(path, "no default range for this field; write one by hand")])
    container, why = resolve_container(raw, ref)
    if container is None:
        raise SpaceError([(path, why or "does not exist")])
    current_type = str(container.get("type"))
    entry = catalog_entry(ref.entry_kind, current_type)
    if ref.name == "type":
        if entry is None:
            return {"choices": [current_type]}
        if ref.entry_kind == "layer" and entry.group != "Activation":
            return {"choices": [current_type]}  # only activations swap freely; add others by hand
        group = [e.name for e in catalog.entries(ref.entry_kind)
                 if e.group == entry.group and e.name not in ("Residual", "Softmax", "LBFGS")]
        return {"choices": group or [current_type]}
    if entry is None or not any(p.name == ref.name for p in entry.params):
        its = ", ".join(p.name for p in entry.params) if entry else "unknown type"
        raise SpaceError([(path, f"{current_type} has no parameter {ref.name!r}; its parameters: {its}")])
    return suggest_for_param(entry.param(ref.name), container.get(ref.name, None))


def suggest_for_param(param: Any, current: Any = None) -> dict[str, Any]:
    """Default distribution for a catalog Param (see space_from_catalog)."""
    kind = param.kind
    lo, hi = param.low, param.high
    value = current if is_number(current) else param.default
    if kind == "bool":
        return {"choices": [True, False]}
    if kind == "choice":
        return {"choices": list(param.choices)}
    if kind in ("str",):
        return {"choices": [value]}
    if kind in ("int", "int_or_auto", "ints"):
        v = value if isinstance(value, int) and not isinstance(value, bool) else 64
        a = max(int(lo) if lo is not None else 1, max(1, v // 4))
        b = v * 4 if v > 0 else 16
        if hi is not None:
            b = min(int(hi), b)
        if lo is not None and a < lo:
            a = int(math.ceil(lo))
        if a >= b:
            a, b = (int(lo) if lo is not None else 0), (int(hi) if hi is not None else a + 4)
        if param.log or (a > 0 and b / a >= 16):
            return {"int": [a, b], "log": True} if a > 0 else {"int": [a, b]}
        return {"int": [a, b]}
    # float-like
    v = float(value) if is_number(value) else None
    if param.log:
        if v is None or v <= 0:
            a, b = 1e-5, 1e-1
        else:
            a, b = v / 10, v * 10
        if lo is not None:
            a = max(a, lo if lo > 0 else a)
        if hi is not None:
            b = min(b, hi)
        if a >= b:
            a, b = (lo if lo and lo > 0 else b / 100), b
        return {"log_uniform": [tidy(a), tidy(b)]}
    if lo is not None and hi is not None and hi - lo <= 10:
        if v is not None and v <= lo:
            # off by default (weight_decay, label_smoothing = 0): the first tenth of the range
            return {"uniform": [tidy(lo), tidy(lo + (hi - lo) / 10)]}
        if v is not None and v >= 0.8 * hi and v - 0.1 > lo:
            # near the top by default (Adam's betas): just below it
            return {"uniform": [tidy(v - 0.1), tidy(hi)]}
        # a bounded parameter (Dropout.p, momentum): its range, short of a degenerate 1.0
        top = 0.9 if hi == 1.0 and (v is None or v <= 0.9) else 0.99 if hi == 1.0 else hi
        return {"uniform": [tidy(lo), tidy(top)]}
    if v is None or v == 0:
        a, b = (lo if lo is not None else 0.0), (hi if hi is not None else 1.0)
        return {"uniform": [tidy(a), tidy(min(b, a + 1.0))]}
    a, b = v / 2, v * 2
    if lo is not None:
        a = max(a, lo)
    if hi is not None:
        b = min(b, hi)
    return {"uniform": [tidy(min(a, b)), tidy(max(a, b))]}


def sweepable_paths(spec: ExperimentSpec) -> list[tuple[str, str]]:
    """(dotted path, label) of every field the sweep dialog can offer, in spec order."""
    raw = spec_to_dict(spec)
    out: list[tuple[str, str]] = []

    def add_container(prefix: str, kind: str, node: dict, label: str) -> None:
        entry = catalog_entry(kind, str(node.get("type")))
        out.append((f"{prefix}.type", f"{label} type"))
        if entry is not None:
            for p in entry.params:
                if p.kind != "str":
                    out.append((f"{prefix}.{p.name}", f"{label}: {entry.name}.{p.name}"))

    def layers(prefix: str, items: list[dict], number: str) -> None:
        # numbered from 1 as the Model page numbers them: "Layer 3 (Linear)", "Layer 4.1 (ReLU)"
        for i, layer in enumerate(items, start=1):
            here = f"{number}.{i}" if number else str(i)
            add_container(f"{prefix}.{i - 1}", "layer", layer, f"Layer {here} ({layer.get('type')})")
            if layer.get("layers"):
                layers(f"{prefix}.{i - 1}.layers", layer["layers"], here)

    layers("model.layers", raw["model"]["layers"], "")
    for key in ("loss", "optimizer", "schedule"):
        if raw.get(key):
            add_container(key, key, raw[key], key.capitalize())
    out.extend((p, p) for p in _PLAIN_SUGGESTIONS if p.split(".")[0] in raw)
    return out
