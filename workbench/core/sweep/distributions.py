"""One swept field's distribution: its JSON forms (uniform, log_uniform, int, log_int, choices),
their validation, the points the grid strategy takes and how an Optuna trial is asked for a value.
SpaceError, the error of a search space, lives here so every sweep-space module can raise it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_GRID_POINTS = 4

ALLOWED_FORMS = (
    'allowed forms: {"uniform": [low, high]}, {"log_uniform": [low, high]}, '
    '{"int": [low, high]} (optional "step": N, "log": true), {"log_int": [low, high]}, '
    '{"choices": [a, b, ...]}; a range may add "grid": N (points for the grid strategy)'
)

_RANGE_KINDS = ("uniform", "log_uniform", "int", "log_int")
_OPTION_KEYS = ("step", "log", "grid")


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
            return [tidy(lo + i * self.step) for i in range(count)]
        return [tidy(v) for v in _spaced(lo, hi, n, self.kind == "log_uniform")]

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


def tidy(v: float) -> float:
    """Round away float noise (0.30000000000000004 -> 0.3) so grid values read well."""
    return float(f"{v:.12g}")


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _bare_list_message(values: list) -> str:
    """[0.001, 0.1] could mean these two values or the range between them: ask which."""
    text = json.dumps(values)
    choices = f'{{"choices": {text}}}'
    if len(values) == 2 and all(is_number(v) for v in values) and values[0] < values[1]:
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
        bad = [c for c in value if not (c is None or isinstance(c, (bool, str)) or is_number(c))]
        if bad:
            return None, [(path, f"choices must be numbers, text, true/false or null (got {json.dumps(bad[0])})")]
        if len({json.dumps(c) for c in value}) != len(value):
            return None, [(path, f"choices repeat a value: {json.dumps(value)}")]
        extra = [k for k in ("step", "log", "grid") if k in raw]
        if extra:
            return None, [(path, f'"{extra[0]}" applies to ranges, not choices; {ALLOWED_FORMS}')]
        return Distribution("choices", choices=tuple(value)), problems

    if not (isinstance(value, list) and len(value) == 2 and all(is_number(v) for v in value)):
        return None, [(path, f'"{kind}" takes [low, high] with two numbers (got {json.dumps(value)}); {ALLOWED_FORMS}')]
    lo, hi = value
    log = kind in ("log_uniform", "log_int") or bool(raw.get("log", False))
    if "log" in raw and not isinstance(raw["log"], bool):
        problems.append((path, f'"log" must be true or false (got {json.dumps(raw["log"])})'))
    if "log" in raw and kind in ("uniform", "log_uniform"):
        problems.append((path, '"log" applies to int ranges; use "log_uniform" for a log-scaled float range'))
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
        if step is not None and (kind == "log_uniform" or not is_number(step) or step <= 0):
            problems.append((path, f'"step" applies to "uniform" and "int" ranges and must be > 0 (got {json.dumps(step)})'))
    if problems:
        return None, problems
    dist = Distribution(
        "int" if is_int else kind, low=lo, high=hi, step=step, log=log if is_int else kind == "log_uniform", grid=grid,
    )
    return dist, []
