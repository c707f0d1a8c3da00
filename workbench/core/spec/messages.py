"""pydantic's validation errors rewritten for people: each problem as (dotted_path, message),
e.g. ("train.epochs", "must be a whole number in [1, 100000] (got 'ten')") or
("optimizer.epochs", "... ; epochs belongs in train.epochs").

The functions walk the spec's models, which they are handed as a SpecSchema (model.py builds
it), so this module does not import the models that use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from workbench.core import catalog
from workbench.core.spec.errors import CatalogProblems

__all__ = ["SpecSchema", "problems_from_validation", "field_home_hint"]


@dataclass(frozen=True)
class SpecSchema:
    """The spec's model classes, as the messages need them: the root, the base of catalog items
    (whose `type` is the catalog entry, not a field to hint at) and models not to descend into."""

    root: type[BaseModel]
    typed_base: type[BaseModel]
    leaf_models: tuple[type[BaseModel], ...] = ()


_UNION_TAGS = {"int", "float", "str", "bool", "none", "list", "dict"}


def _loc_to_path(loc: tuple) -> str:
    # pydantic puts union member tags ("int", "literal['full']", ...) into locations
    parts = [
        str(p) for p in loc
        if not (isinstance(p, str) and (p in _UNION_TAGS or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p)))
    ]
    return ".".join(parts)


def problems_from_validation(err: ValidationError, schema: SpecSchema) -> list[tuple[str, str]]:
    """(dotted_path, message) pairs for a person from an ExperimentSpec validation error."""
    problems: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for e in err.errors():
        path = _loc_to_path(e["loc"])
        msg = e["msg"]
        if e["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
            cause = (e.get("ctx") or {}).get("error")
            if isinstance(cause, CatalogProblems):  # catalog problems keep their own dotted paths
                for p, m in cause.problems:
                    if (p, m) not in seen:
                        seen.add((p, m))
                        problems.append((p, m))
                continue
        elif e["type"] == "extra_forbidden":
            msg = _unknown_field_message(e["loc"], path, schema)
        else:
            msg = _plain_message(e, path, schema) or msg
        if (path, msg) not in seen:
            seen.add((path, msg))
            problems.append((path, msg))
    return problems


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside an annotation (X, X | None, list[X]), or None."""
    stack = [annotation]
    while stack:
        a = stack.pop(0)
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
        stack.extend(getattr(a, "__args__", ()))
    return None


def _model_at(loc: tuple, schema: SpecSchema) -> Any:
    """The model class that holds the last element of a pydantic error location."""
    model: Any = schema.root
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        if not isinstance(part, str) or part not in getattr(model, "model_fields", {}):
            if isinstance(part, str) and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
                continue  # union member tags
            return None
        model = _model_of(model.model_fields[part].annotation)
    return model


def _allowed_fields(loc: tuple, schema: SpecSchema) -> list[str]:
    model = _model_at(loc, schema)
    return sorted(getattr(model, "model_fields", {}).keys()) if model else []


def _field_info(loc: tuple, schema: SpecSchema) -> Any:
    model = _model_at(loc, schema)
    name = next((p for p in reversed(loc) if isinstance(p, str) and p in getattr(model, "model_fields", {})), None)
    return model.model_fields[name] if model is not None and name is not None else None


def _bounds(field: Any) -> str:
    """' in [1, 100000]', ' in [0, 1)', ' ≥ 1', '' from a field's ge/gt/le/lt constraints."""
    lo = hi = None
    lo_open = hi_open = False
    for m in getattr(field, "metadata", ()):
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi, hi_open = m.lt, True
    if lo is not None and hi is not None:
        return f" in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f" {'>' if lo_open else '≥'} {lo:g}"
    if hi is not None:
        return f" {'<' if hi_open else '≤'} {hi:g}"
    return ""


def _is_int_field(field: Any) -> bool:
    ann = getattr(field, "annotation", None)
    return ann is int or int in getattr(ann, "__args__", ())


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain_message(e: dict, path: str, schema: SpecSchema) -> str | None:
    """pydantic's generic messages in words for people: what the field takes, with its bounds."""
    kind = e["type"]
    loc = e["loc"]
    field = _field_info(loc, schema)
    got = f" (got {_got(e.get('input'))})" if "input" in e else ""
    rng = _bounds(field)
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number{rng}{got}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"must be a number{rng}{got}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        what = "a whole number" if _is_int_field(field) else "a number"
        if not rng:  # constraint not found: use pydantic's own
            ctx = e.get("ctx") or {}
            sign = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}[kind]
            rng = f" {sign} {next(iter(ctx.values()), '?')}"
        return f"must be {what}{rng}{got}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false{got}"
    if kind in ("string_type",):
        return f"must be text{got}"
    if kind == "list_type":
        return f"must be a list [...]{got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        fields = _allowed_fields(tuple(loc) + ("_",), schema)
        return "must be an object {...}" + (f" with fields: {', '.join(fields)}" if fields else "") + got
    if kind == "literal_error":
        return e["msg"].replace("Input should be", "must be", 1) + got
    if kind == "missing":
        last = loc[-1] if loc else ""
        if last == "type":
            owner = path.rsplit(".", 1)[0] if "." in path else path
            example = {"loss": "CrossEntropyLoss", "optimizer": "Adam", "schedule": "StepLR"}.get(owner, "ReLU")
            what = "every layer" if owner.startswith("model.layers") else owner
            return f'missing; {what} needs a "type", e.g. {{"type": "{example}"}}'
        return "missing; this field is required"
    return None


_FIELD_HOMES: dict[type, dict[str, list[str]]] = {}


def _field_homes(schema: SpecSchema) -> dict[str, list[str]]:
    """Field name -> every dotted place it belongs (spec sections and catalog parameters of the
    loss, optimizer and schedule), for 'lr belongs in optimizer.lr' hints."""
    if schema.root in _FIELD_HOMES:
        return _FIELD_HOMES[schema.root]
    homes: dict[str, list[str]] = {}

    def add(name: str, where: str) -> None:
        if where not in homes.setdefault(name, []):
            homes[name].append(where)

    def walk(model: Any, prefix: str) -> None:
        for name, field in model.model_fields.items():
            if name == "schema_version" or (name == "type" and issubclass(model, schema.typed_base)):
                continue
            dotted = f"{prefix}.{name}" if prefix else name
            add(name, dotted)
            inner = _model_of(field.annotation)
            if inner is not None and inner not in schema.leaf_models:
                walk(inner, dotted)

    walk(schema.root, "")
    for kind in ("optimizer", "loss", "schedule"):
        for entry in catalog.entries(kind):
            for p in entry.params:
                add(p.name, f"{kind}.{p.name}")
    _FIELD_HOMES[schema.root] = homes
    return homes


def field_home_hint(name: str, path: str, schema: SpecSchema, exclude: str = "") -> str:
    """'lr belongs in optimizer.lr' when `name` is a field somewhere else than `path` (and not
    under `exclude`, e.g. "optimizer."), else ''."""
    places = [w for w in _field_homes(schema).get(name, []) if w != path and not (exclude and w.startswith(exclude))]
    places.sort(key=lambda w: w.count("."))  # train.epochs before schedule.warmup.epochs
    if not places:
        return ""
    return f"{name} belongs in {' or '.join(places[:3])}"


def _unknown_field_message(loc: tuple, path: str, schema: SpecSchema) -> str:
    allowed = _allowed_fields(loc, schema)
    name = str(loc[-1]) if loc else ""
    hint = field_home_hint(name, path, schema)
    if hint:
        return f"unknown field; {hint}"
    import difflib

    lower = {a.lower(): a for a in allowed}
    close = difflib.get_close_matches(name.lower(), list(lower), n=1)
    dym = f"did you mean {lower[close[0]]!r}? " if close else ""
    return f"unknown field; {dym}allowed here: {', '.join(allowed)}"
