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
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from workbench.core.spec import ExperimentSpec, SpecError, get_dotted, json_error_text, parse_spec, spec_to_dict

DEFAULT_GRID_POINTS = 4

ALLOWED_FORMS = (
    'allowed forms: {"uniform": [low, high]}, {"log_uniform": [low, high]}, '
    '{"int": [low, high]} (optional "step": N, "log": true), {"log_int": [low, high]}, '
    '{"choices": [a, b, ...]}; a range may add "grid": N (points for the grid strategy)'
)

_RANGE_KINDS = ("uniform", "log_uniform", "int", "log_int")
_OPTION_KEYS = ("step", "log", "grid")
_CONTAINERS = {"loss": "loss", "optimizer": "optimizer", "schedule": "schedule"}
_KEEP_ON_TYPE_CHANGE = {"type", "layers", "warmup"}


class SpaceError(ValueError):
    """A search space that cannot be used. `problems` holds (dotted_path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None):
        self.problems = problems
        self.source = source
        head = f"Invalid search space{f' in {source}' if source else ''}:"
        whole = Path(source).name if source else "(top level)"  # a problem with the file as a whole
        lines = [f"  {path or whole}: {msg}" for path, msg in problems]
        super().__init__("\n".join([head, *lines]))


# ---- distributions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    """One swept field. kind: uniform | log_uniform | int | choices (log ints are int + log)."""

    kind: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    grid: int | None = None

    @property
    def is_int(self) -> bool:
        return self.kind == "int"

    def to_json(self) -> dict[str, Any]:
        if self.kind == "choices":
            return {"choices": list(self.choices)}
        name = "log_uniform" if self.kind == "log_uniform" else self.kind
        out: dict[str, Any] = {name: [self.low, self.high]}
        if self.kind == "int" and self.step not in (None, 1):
            out["step"] = self.step
        if self.kind == "uniform" and self.step is not None:
            out["step"] = self.step
        if self.kind == "int" and self.log:
            out["log"] = True
        if self.grid is not None:
            out["grid"] = self.grid
        return out

    def grid_values(self) -> list[Any]:
        """The points the grid strategy visits (see module doc)."""
        if self.kind == "choices":
            return list(self.choices)
        lo, hi = self.low, self.high
        assert lo is not None and hi is not None
        if self.kind == "int":
            step = int(self.step or 1)
            if self.grid is None:
                return list(range(int(lo), int(hi) + 1, step))
            n = max(1, self.grid)
            raw = _spaced(lo, hi, n, self.log)
            vals = sorted({int(lo) + step * round((v - lo) / step) for v in raw})
            return [min(max(v, int(lo)), int(hi)) for v in vals]
        n = self.grid or DEFAULT_GRID_POINTS
        if self.kind == "uniform" and self.step is not None and self.grid is None:
            count = int(math.floor((hi - lo) / self.step + 1e-9)) + 1
            return [_tidy(lo + i * self.step) for i in range(count)]
        return [_tidy(v) for v in _spaced(lo, hi, n, self.kind == "log_uniform")]

    def suggest(self, trial: Any, name: str) -> Any:
        """Ask an Optuna trial for a value of this distribution."""
        if self.kind == "choices":
            return trial.suggest_categorical(name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log)
        return trial.suggest_float(
            name, float(self.low), float(self.high), log=self.kind == "log_uniform",
            step=self.step if self.kind == "uniform" else None,
        )

    def describe(self) -> str:
        if self.kind == "choices":
            return "one of " + ", ".join(json.dumps(c) for c in self.choices)
        extra = " (log)" if self.log or self.kind == "log_uniform" else ""
        return f"{self.kind} [{self.low:g}, {self.high:g}]{extra}"


def _spaced(lo: float, hi: float, n: int, log: bool) -> list[float]:
    if n == 1:
        return [math.sqrt(lo * hi) if log else (lo + hi) / 2]
    if log:
        a, b = math.log(lo), math.log(hi)
        return [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def _tidy(v: float) -> float:
    """Round away float noise (0.30000000000000004 -> 0.3) so grid values read well."""
    return float(f"{v:.12g}")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _bare_list_message(values: list) -> str:
    """[0.001, 0.1] could mean these two values or the range between them: ask which."""
    text = json.dumps(values)
    choices = f'{{"choices": {text}}}'
    if len(values) == 2 and all(_is_number(v) for v in values) and values[0] < values[1]:
        lo, hi = values
        if all(isinstance(v, int) for v in values):
            form = "int"
        elif lo > 0 and hi / lo >= 10:
            form = "log_uniform"
        else:
            form = "uniform"
        return (f"a bare list is ambiguous; write {choices} for exactly these values "
                f'or {{"{form}": {text}}} for a range')
    return f"a bare list is ambiguous; write {choices} to try exactly these values"


def parse_distribution(path: str, raw: Any) -> tuple[Distribution | None, list[tuple[str, str]]]:
    """One distribution from its JSON form; (None, problems) when malformed."""
    if isinstance(raw, list):
        return None, [(path, _bare_list_message(raw))]
    if not isinstance(raw, dict):
        return None, [(path, f"{json.dumps(raw)} is not a distribution; {ALLOWED_FORMS}")]
    kinds = [k for k in raw if k in (*_RANGE_KINDS, "choices")]
    unknown = [k for k in raw if k not in (*_RANGE_KINDS, "choices", *_OPTION_KEYS)]
    if len(kinds) != 1 or unknown:
        what = f"unknown key(s) {', '.join(map(repr, unknown))}" if unknown else (
            "no distribution given" if not kinds else f"more than one distribution ({', '.join(kinds)})")
        return None, [(path, f"{what}; {ALLOWED_FORMS}")]
    kind = kinds[0]
    value = raw[kind]
    problems: list[tuple[str, str]] = []
    grid = raw.get("grid")
    if grid is not None and (not isinstance(grid, int) or isinstance(grid, bool) or grid < 1):
        problems.append((path, f'"grid" must be a whole number of points ≥ 1 (got {json.dumps(grid)})'))
        grid = None

    if kind == "choices":
        if not isinstance(value, list):
            return None, [(path, f'"choices" takes a list, e.g. {{"choices": [16, 64]}} (got {json.dumps(value)})')]
        if not value:
            return None, [(path, "choices is empty; give at least one value")]
        bad = [c for c in value if not (c is None or isinstance(c, (bool, str)) or _is_number(c))]
        if bad:
            return None, [(path, f"choices must be numbers, text, true/false or null (got {json.dumps(bad[0])})")]
        if len({json.dumps(c) for c in value}) != len(value):
            return None, [(path, f"choices repeat a value: {json.dumps(value)}")]
        extra = [k for k in ("step", "log", "grid") if k in raw]
        if extra:
            return None, [(path, f'"{extra[0]}" applies to ranges, not choices; {ALLOWED_FORMS}')]
        return Distribution("choices", choices=tuple(value)), problems

    if not (isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)):
        return None, [(path, f'"{kind}" takes [low, high] with two numbers (got {json.dumps(value)}); {ALLOWED_FORMS}')]
    lo, hi = value
    log = kind in ("log_uniform", "log_int") or bool(raw.get("log", False))
    if "log" in raw and not isinstance(raw["log"], bool):
        problems.append((path, f'"log" must be true or false (got {json.dumps(raw["log"])})'))
    if "log" in raw and kind in ("uniform", "log_uniform"):
        problems.append((path, f'"log" applies to int ranges; use "log_uniform" for a log-scaled float range'))
    if lo >= hi:
        problems.append((path, f"low must be below high (got [{lo:g}, {hi:g}])"))
    if log and lo <= 0:
        problems.append((path, f"a log range needs low > 0 (got [{lo:g}, {hi:g}]); use \"uniform\"/\"int\" to include 0"))
    step = raw.get("step")
    is_int = kind in ("int", "log_int")
    if is_int:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            problems.append((path, f"an int range takes whole numbers (got [{lo}, {hi}])"))
        if step is not None and (not isinstance(step, int) or isinstance(step, bool) or step < 1):
            problems.append((path, f'"step" of an int range must be a whole number ≥ 1 (got {json.dumps(step)})'))
        if step not in (None, 1) and log:
            problems.append((path, 'an int range cannot have both "step" and "log"'))
    else:
        if step is not None and (kind == "log_uniform" or not _is_number(step) or step <= 0):
            problems.append((path, f'"step" applies to "uniform" and "int" ranges and must be > 0 (got {json.dumps(step)})'))
    if problems:
        return None, problems
    dist = Distribution(
        "int" if is_int else kind, low=lo, high=hi, step=step, log=log if is_int else kind == "log_uniform", grid=grid,
    )
    return dist, []


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


def _order(paths: Iterable[str]) -> list[str]:
    """Type fields first (shallowest first): they decide which parameters apply."""
    return sorted(paths, key=lambda p: (0, p.count(".")) if p.endswith(".type") else (1, 0))


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
    for path in _order(dists):
        problems.extend(_check_field(raw_spec, path, dists[path], dists))
    if problems:
        raise SpaceError(problems, source)
    return SearchSpace({p: dists[p] for p in _order(dists)})


# ---- paths in a spec ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRef:
    """Where a dotted path points. For catalog parameters: the entry kind and the container's
    dotted path (e.g. "model.layers.2" / "optimizer"), and the parameter name."""

    path: str
    entry_kind: str | None  # "layer" | "loss" | "optimizer" | "schedule" | None (plain spec field)
    container: str | None
    name: str


def field_ref(path: str) -> FieldRef:
    parts = path.split(".")
    if parts[0] in _CONTAINERS and len(parts) == 2:
        return FieldRef(path, _CONTAINERS[parts[0]], parts[0], parts[1])
    if parts[0] == "model" and len(parts) >= 4 and parts[1] == "layers":
        # model.layers.I(.layers.J)*.name
        body = parts[2:-1]
        ok = len(body) % 2 == 1 and body[0].isdigit() and all(
            body[i] == "layers" and body[i + 1].isdigit() for i in range(1, len(body) - 1, 2)
        )
        if ok:
            return FieldRef(path, "layer", ".".join(parts[:-1]), parts[-1])
    return FieldRef(path, None, None, parts[-1])


def _entry(kind: str, name: str):
    from workbench.core import catalog

    return catalog.REGISTRY.get(kind, {}).get(name)


def _layer_words(layers: list[dict]) -> str:
    if not layers:
        return "the model has no layers yet"
    names = ", ".join(f"{i}: {layer.get('type')}" for i, layer in enumerate(layers))
    return f"the model has {len(layers)} layer{'s' if len(layers) != 1 else ''} ({names})"


def _resolve_container(raw_spec: dict, ref: FieldRef) -> tuple[dict | None, str | None]:
    """The container dict (layer/optimizer/...) of a catalog path, or a message why not."""
    assert ref.container is not None
    parts = ref.container.split(".")
    if ref.entry_kind != "layer":
        node = raw_spec.get(parts[0])
        if node is None:
            return None, f"the spec has no {parts[0]}; set one first (a sweep varies fields that exist)"
        return node, None
    node: Any = raw_spec["model"]
    where = "model"
    for i in range(1, len(parts), 2):
        layers = node.get("layers") if isinstance(node, dict) else None
        idx = int(parts[i + 1])
        if not layers:
            return None, f"{where} has no inner layers" if where != "model" else "the model has no layers yet"
        if idx >= len(layers):
            if where == "model":
                return None, f"there is no layer {idx}; {_layer_words(layers)}"
            return None, f"{where} has no inner layer {idx}; it has {len(layers)} ({', '.join(str(l.get('type')) for l in layers)})"
        node = layers[idx]
        where = ".".join(parts[: i + 2])
    return node, None


def _types_at(container_path: str, current: str, dists: dict[str, Distribution]) -> list[str]:
    d = dists.get(f"{container_path}.type")
    if d is not None and d.kind == "choices":
        return [str(c) for c in d.choices]
    return [current]


def _range_words(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" in [{low:g}, {high:g}]"
    if low is not None:
        return f" ≥ {low:g}"
    if high is not None:
        return f" ≤ {high:g}"
    return ""


def _check_field(raw_spec: dict, path: str, dist: Distribution, dists: dict[str, Distribution]) -> list[tuple[str, str]]:
    ref = field_ref(path)
    if ref.entry_kind is None:
        return _check_plain_field(raw_spec, path, dist)
    container, why = _resolve_container(raw_spec, ref)
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
    owners = [(t, _entry(ref.entry_kind, t)) for t in types]
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
        return [(path, f"{label} must be{_range_words(param.low, param.high)}; "
                       f"the range [{dist.low:g}, {dist.high:g}] goes past it")]
    return []


def _check_plain_field(raw_spec: dict, path: str, dist: Distribution) -> list[tuple[str, str]]:
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


# ---- applying sampled values ------------------------------------------------------------------


def is_applicable(raw_spec: dict, path: str) -> bool:
    """Does this parameter exist for the (possibly just changed) type at its container?"""
    ref = field_ref(path)
    if ref.entry_kind is None or ref.name == "type":
        return True
    container, _ = _resolve_container(raw_spec, ref)
    if container is None:
        return False
    entry = _entry(ref.entry_kind, str(container.get("type")))
    return entry is not None and any(p.name == ref.name for p in entry.params)


def _set_type(raw_spec: dict, path: str, new_type: str) -> None:
    ref = field_ref(path)
    container, why = _resolve_container(raw_spec, ref)
    if container is None:
        raise SpecError([(path, why or "does not exist")])
    if container.get("type") == new_type:
        return
    entry = _entry(ref.entry_kind, new_type)
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
    for path in _order(params):
        value = params[path]
        if path.endswith(".type") and field_ref(path).entry_kind is not None:
            _set_type(raw, path, value)
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
            _set_type(raw, path, value)
            params[path] = value
        elif is_applicable(raw, path):
            params[path] = dist.suggest(trial, path)
    return params


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
                _set_type(raw, path, pt[path])
                kept[path] = pt[path]
            elif is_applicable(raw, path):
                kept[path] = pt[path]
        key = json.dumps(kept, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(kept)
    return out


# ---- suggestions for the GUI ------------------------------------------------------------------

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
        problems = _check_plain_field(raw, path, Distribution("choices", choices=()))
        if problems:
            raise SpaceError(problems)
        raise SpaceError([(path, "no default range for this field; write one by hand")])
    container, why = _resolve_container(raw, ref)
    if container is None:
        raise SpaceError([(path, why or "does not exist")])
    current_type = str(container.get("type"))
    entry = _entry(ref.entry_kind, current_type)
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
    value = current if _is_number(current) else param.default
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
    v = float(value) if _is_number(value) else None
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
        return {"log_uniform": [_tidy(a), _tidy(b)]}
    if lo is not None and hi is not None and hi - lo <= 10:
        if v is not None and v <= lo:
            # off by default (weight_decay, label_smoothing = 0): the first tenth of the range
            return {"uniform": [_tidy(lo), _tidy(lo + (hi - lo) / 10)]}
        if v is not None and v >= 0.8 * hi and v - 0.1 > lo:
            # near the top by default (Adam's betas): just below it
            return {"uniform": [_tidy(v - 0.1), _tidy(hi)]}
        # a bounded parameter (Dropout.p, momentum): its range, short of a degenerate 1.0
        top = 0.9 if hi == 1.0 and (v is None or v <= 0.9) else 0.99 if hi == 1.0 else hi
        return {"uniform": [_tidy(lo), _tidy(top)]}
    if v is None or v == 0:
        a, b = (lo if lo is not None else 0.0), (hi if hi is not None else 1.0)
        return {"uniform": [_tidy(a), _tidy(min(b, a + 1.0))]}
    a, b = v / 2, v * 2
    if lo is not None:
        a = max(a, lo)
    if hi is not None:
        b = min(b, hi)
    return {"uniform": [_tidy(min(a, b)), _tidy(max(a, b))]}


def sweepable_paths(spec: ExperimentSpec) -> list[tuple[str, str]]:
    """(dotted path, label) of every field the sweep dialog can offer, in spec order."""
    raw = spec_to_dict(spec)
    out: list[tuple[str, str]] = []

    def add_container(prefix: str, kind: str, node: dict, label: str) -> None:
        entry = _entry(kind, str(node.get("type")))
        out.append((f"{prefix}.type", f"{label} type"))
        if entry is not None:
            for p in entry.params:
                if p.kind != "str":
                    out.append((f"{prefix}.{p.name}", f"{label}: {entry.name}.{p.name}"))

    def layers(prefix: str, items: list[dict], label: str) -> None:
        for i, layer in enumerate(items):
            add_container(f"{prefix}.{i}", "layer", layer, f"{label} {i} ({layer.get('type')})")
            if layer.get("layers"):
                layers(f"{prefix}.{i}.layers", layer["layers"], f"{label} {i} inner layer")

    layers("model.layers", raw["model"]["layers"], "Layer")
    for key in ("loss", "optimizer", "schedule"):
        if raw.get(key):
            add_container(key, key, raw[key], key.capitalize())
    out.extend((p, p) for p in _PLAIN_SUGGESTIONS if p.split(".")[0] in raw)
    return out
