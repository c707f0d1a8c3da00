"""SpecError and the words it uses: pydantic's validation errors rewritten for people, each
problem as (dotted_path, message), e.g. ("train.epochs", "must be a whole number ≥ 1 (got 'x')")
or ("optimizer.epochs", "... ; epochs belongs in train.epochs")."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = ["SpecError", "CatalogProblems", "json_error_text", "problems_from_validation", "field_home_hint"]


class SpecError(ValueError):
    """A spec that cannot be used. `problems` holds (dotted_path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None):
        self.problems = problems
        self.source = source
        head = f"Invalid experiment spec{f' in {source}' if source else ''}:"
        whole = Path(source).name if source else "(top level)"  # a problem with the file as a whole
        lines = [f"  {path or whole}: {msg}" for path, msg in problems]
        super().__init__("\n".join([head, *lines]))


def json_error_text(exc: json.JSONDecodeError) -> str:
    """'not valid JSON: ... at line L, column C' (json's own message for an unterminated string
    already ends in "starting at", which would read "starting at at line")."""
    msg = exc.msg.rstrip()
    where = f"line {exc.lineno}, column {exc.colno}"
    return f"not valid JSON: {msg} {where}" if msg.endswith(" at") else f"not valid JSON: {msg} at {where}"


class CatalogProblems(ValueError):
    """Carries (path, message) pairs through pydantic (it keeps the exception in the error's ctx)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{p}: {m}" for p, m in problems))


def _spec_models() -> Any:
    """The spec module, for walking its models; imported late because it imports this module."""
    from workbench.core import spec

    return spec


_UNION_TAGS = {"int", "float", "str", "bool", "none", "list", "dict"}


def _loc_to_path(loc: tuple) -> str:
    # pydantic puts union member tags ("int", "literal['full']", ...) into locations
    parts = [
        str(p) for p in loc
        if not (isinstance(p, str) and (p in _UNION_TAGS or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p)))
    ]
    return ".".join(parts)


def problems_from_validation(err: ValidationError) -> list[tuple[str, str]]:
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
            msg = _unknown_field_message(e["loc"], path)
        else:
            msg = _plain_message(e, path) or msg
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


def _model_at(loc: tuple) -> Any:
    """The model class that holds the last element of a pydantic error location."""
    model: Any = _spec_models().ExperimentSpec
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        if not isinstance(part, str) or part not in getattr(model, "model_fields", {}):
            if isinstance(part, str) and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
                continue  # union member tags
            return None
        model = _model_of(model.model_fields[part].annotation)
    return model


def _allowed_fields(loc: tuple) -> list[str]:
    model = _model_at(loc)
    return sorted(getattr(model, "model_fields", {}).keys()) if model else []


def _field_info(loc: tuple) -> Any:
    model = _model_at(loc)
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


def _plain_message(e: dict, path: str) -> str | None:
    """pydantic's generic messages in words for people: what the field takes, with its bounds."""
    kind = e["type"]
    loc = e["loc"]
    field = _field_info(loc)
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
        fields = _allowed_fields(tuple(loc) + ("_",))
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


_FIELD_HOMES: dict[str, list[str]] | None = None


def _field_homes() -> dict[str, list[str]]:
    """Field name -> every dotted place it belongs (spec sections and catalog parameters of the
    loss, optimizer and schedule), for 'lr belongs in optimizer.lr' hints."""
    global _FIELD_HOMES
    if _FIELD_HOMES is not None:
        return _FIELD_HOMES
    homes: dict[str, list[str]] = {}
    spec = _spec_models()

    def add(name: str, where: str) -> None:
        if where not in homes.setdefault(name, []):
            homes[name].append(where)

    def walk(model: Any, prefix: str) -> None:
        for name, field in model.model_fields.items():
            if name == "schema_version" or (name == "type" and issubclass(model, spec._Typed)):
                continue
            dotted = f"{prefix}.{name}" if prefix else name
            add(name, dotted)
            inner = _model_of(field.annotation)
            if inner is not None and inner not in (spec.LayerSpec,):
                walk(inner, dotted)

    walk(spec.ExperimentSpec, "")
    try:
        from workbench.core import catalog

        for kind in ("optimizer", "loss", "schedule"):
            for entry in catalog.entries(kind):
                for p in entry.params:
                    add(p.name, f"{kind}.{p.name}")
    except Exception:  # noqa: BLE001 - hints are a nicety
        pass
    _FIELD_HOMES = homes
    return homes


def field_home_hint(name: str, path: str, exclude: str = "") -> str:
    """'lr belongs in optimizer.lr' when `name` is a field somewhere else than `path` (and not
    under `exclude`, e.g. "optimizer."), else ''."""
    places = [w for w in _field_homes().get(name, []) if w != path and not (exclude and w.startswith(exclude))]
    places.sort(key=lambda w: w.count("."))  # train.epochs before schedule.warmup.epochs
    if not places:
        return ""
    return f"{name} belongs in {' or '.join(places[:3])}"


def _unknown_field_message(loc: tuple, path: str) -> str:
    allowed = _allowed_fields(loc)
    name = str(loc[-1]) if loc else ""
    hint = field_home_hint(name, path)
    if hint:
        return f"unknown field; {hint}"
    import difflib

    lower = {a.lower(): a for a in allowed}
    close = difflib.get_close_matches(name.lower(), list(lower), n=1)
    dym = f"did you mean {lower[close[0]]!r}? " if close else ""
    return f"unknown field; {dym}allowed here: {', '.join(allowed)}"
