"""Applying sampled values to a spec: types first (dropping the parameters the new type lacks),
then the values whose parameter exists for the sampled type; define-by-run sampling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.core.spec import ExperimentSpec, SpecError, get_dotted, parse_spec, spec_to_dict
from workbench.core.sweep.paths import catalog_entry, types_first, resolve_container, field_ref

if TYPE_CHECKING:
    from workbench.core.sweep.space import SearchSpace

_KEEP_ON_TYPE_CHANGE = {"type", "layers", "warmup"}


def is_applicable(raw_spec: dict, path: str) -> bool:
    """Does this parameter exist for the (possibly just changed) type at its container?"""
    ref = field_ref(path)
    if ref.entry_kind is None or ref.name == "type":
        return True
    container, _ = resolve_container(raw_spec, ref)
    if container is None:
        return False
    entry = catalog_entry(ref.entry_kind, str(container.get("type")))
    return entry is not None and any(p.name == ref.name for p in entry.params)


def set_type(raw_spec: dict, path: str, new_type: str) -> None:
    ref = field_ref(path)
    container, why = resolve_container(raw_spec, ref)
    if container is None:
        raise SpecError([(path, why or "does not exist")])
    if container.get("type") == new_type:
        return
    entry = catalog_entry(ref.entry_kind, new_type)
    names = {p.name for p in entry.params} if entry else set()
    for key in list(container):
        if key not in _KEEP_ON_TYPE_CHANGE and key not in names:
            del container[key]
    container["type"] = new_type


def _set_value(raw_spec: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    parent = get_dotted(raw_spec, ".".join(parts[:-1])) if len(parts) > 1 else raw_spec
    if isinstance(parent, list):
        parent[int(parts[-1])] = value
    else:
        parent[parts[-1]] = value


def apply_params(spec: ExperimentSpec, params: dict[str, Any]) -> tuple[ExperimentSpec, dict[str, Any]]:
    """The spec with sampled values applied: types first (dropping parameters the new type lacks),
    then values whose parameter exists for the sampled type. Returns (spec, params applied).
    Raises SpecError when the result is not a valid spec."""
    raw = spec_to_dict(spec)
    applied: dict[str, Any] = {}
    for path in types_first(params):
        value = params[path]
        if path.endswith(".type") and field_ref(path).entry_kind is not None:
            set_type(raw, path, value)
            applied[path] = value
        elif is_applicable(raw, path):
            try:
                _set_value(raw, path, value)
            except (KeyError, IndexError, TypeError, ValueError):
                raise SpecError([(path, "does not exist in this spec")]) from None
            applied[path] = value
    return parse_spec(raw), applied


def sample_params(space: SearchSpace, spec: ExperimentSpec, trial: Any) -> dict[str, Any]:
    """Ask an Optuna trial for values, define-by-run: a parameter the sampled type does not
    have is not asked for (so TPE never learns from values that were not used)."""
    raw = spec_to_dict(spec)
    params: dict[str, Any] = {}
    for path, dist in space.dists.items():
        if path.endswith(".type") and field_ref(path).entry_kind is not None:
            value = dist.suggest(trial, path)
            set_type(raw, path, value)
            params[path] = value
        elif is_applicable(raw, path):
            params[path] = dist.suggest(trial, path)
    return params
