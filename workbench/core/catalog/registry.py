"""The catalog registry: Param, Entry, register and lookups.

The single source of truth: the spec validates against it, the GUI builds its forms from it,
sweeps read parameter ranges from it and export generates code from it. Adding a layer is one
`Entry`.

This module is the registry itself (Param, Entry, register, lookups); the entries live in
layers.py, losses.py, optimizers.py, schedules.py and metrics.py, which the package imports,
so `from workbench.core import catalog` registers everything. None of them imports torch at
module level (it takes seconds; the app shows its window first): factories import it when they
build something, and the torch modules live in layer_modules.py and loss_modules.py. Entry-level checks that involve
several parameters (e.g. SGD's nesterov needs momentum) are `info["check"](params_with_defaults)
-> [(param, message)]` and run from param_problems.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

ParamKind = Literal["int", "float", "bool", "choice", "str", "int_or_auto", "ints", "float_or_choice"]
EntryKind = Literal["layer", "loss", "optimizer", "schedule", "metric"]


@dataclass(frozen=True)
class Param:
    """One parameter of a catalog entry, with what the GUI and validation need to know.

    kind:
      int / float / bool / str  — plain values; low/high bound them (inclusive)
      choice                    — one of `choices`
      int_or_auto               — an int in [low, high] or the string "auto"
      ints                      — an int or a list of ints (kernel_size=3 or [3, 5]); `choices`
                                  may add named values (Conv padding='same')
      float_or_choice           — a float in [low, high] or one of `choices` (e.g. weight="balanced")
    `log` marks parameters best varied on a log scale (learning rates); `nullable` allows None.
    """

    name: str
    kind: ParamKind
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    log: bool = False
    nullable: bool = False

    def problem(self, value: Any) -> str | None:
        """None if `value` is acceptable, else a message saying what is allowed."""
        if value is None:
            return None if self.nullable else f"must not be empty; {self.allowed()}"
        k = self.kind
        if k == "bool":
            return None if isinstance(value, bool) else f"must be true or false (got {value!r})"
        if k == "str":
            return None if isinstance(value, str) else f"must be text (got {value!r})"
        if k == "choice":
            return None if value in self.choices else f"{self.allowed()} (got {value!r})"
        if k == "int_or_auto" and value == "auto":
            return None
        if k in ("float_or_choice", "ints") and isinstance(value, str) and value in self.choices:
            return None
        if k == "ints" and isinstance(value, (list, tuple)):
            bad = [v for v in value if self._number_problem(v, integer=True)]
            return None if value and not bad else f"{self.allowed()} (got {value!r})"
        integer = k in ("int", "int_or_auto", "ints")
        return self._number_problem(value, integer=integer)

    def _number_problem(self, value: Any, integer: bool) -> str | None:
        ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type:
            return f"{self.allowed()} (got {value!r})"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{self.allowed()} (got {value!r})"
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            return f"{self.allowed()} (got {value!r})"
        return None

    def allowed(self) -> str:
        """Words for the allowed values, used in error messages and tooltips."""
        rng = range_words(self.low, self.high)
        k = self.kind
        if k == "bool":
            text = "true or false"
        elif k == "str":
            text = "text"
        elif k == "choice":
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif k == "int_or_auto":
            text = f"an integer{rng} or 'auto'"
        elif k == "ints":
            text = f"an integer{rng} or a list of them"
            if self.choices:
                text += ", or one of " + ", ".join(repr(c) for c in self.choices)
        elif k == "float_or_choice":
            text = f"a number{rng} or one of " + ", ".join(repr(c) for c in self.choices)
        elif k == "int":
            text = f"an integer{rng}"
        else:
            text = f"a number{rng}"
        return ("must be " + text) + (" or null" if self.nullable else "")


def range_words(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" in [{low:g}, {high:g}]"
    if low is not None:
        return f" ≥ {low:g}"
    if high is not None:
        return f" ≤ {high:g}"
    return ""


@dataclass(frozen=True)
class Entry:
    """A palette item: a layer, loss, optimizer, schedule or metric.

    `factory` builds the PyTorch object; its signature depends on `kind` (see model.py and
    the make_* helpers below). `info` carries kind-specific facts, for example a loss's
    accepted tasks or whether a schedule steps per batch.
    """

    name: str
    kind: EntryKind
    group: str
    help: str
    params: tuple[Param, ...] = ()
    factory: Callable[..., Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        # deep copy: list defaults (milestones) must not be shared with callers that edit them
        return {p.name: copy.deepcopy(p.default) for p in self.params}

    def with_defaults(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self.defaults(), **params}


REGISTRY: dict[str, dict[str, Entry]] = {"layer": {}, "loss": {}, "optimizer": {}, "schedule": {}, "metric": {}}


def register(entry: Entry) -> Entry:
    REGISTRY[entry.kind][entry.name] = entry
    return entry


def entries(kind: EntryKind) -> list[Entry]:
    """All entries of one kind, in palette order."""
    return list(REGISTRY[kind].values())


def close_match(word: Any, options: Any) -> str | None:
    """The option closest to `word` (case-insensitive: 'relu' -> 'ReLU', 'Linaer' -> 'Linear'), or None."""
    import difflib

    if not isinstance(word, str):
        return None
    lower = {str(o).lower(): str(o) for o in options}
    if word.lower() in lower:
        return lower[word.lower()]
    hits = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.6)
    return lower[hits[0]] if hits else None


def did_you_mean(word: Any, options: Any) -> str:
    """"did you mean 'ReLU'? " (with the trailing space) or ''."""
    match = close_match(word, options)
    return f"did you mean {match!r}? " if match is not None and match != word else ""


def unknown_entry_message(kind: str, name: Any) -> str:
    return f"unknown {kind} {name!r}; {did_you_mean(name, REGISTRY[kind])}allowed: {', '.join(REGISTRY[kind])}"


def get_entry(kind: EntryKind, name: str) -> Entry:
    try:
        return REGISTRY[kind][name]
    except KeyError:
        raise KeyError(unknown_entry_message(kind, name)) from None


def param_problems(kind: EntryKind, name: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(param_name, message) for each problem; param_name '' means the type itself."""
    entry = REGISTRY[kind].get(name)
    if entry is None:
        return [("type", unknown_entry_message(kind, name))]
    known = {p.name: p for p in entry.params}
    problems = []
    for key, value in params.items():
        p = known.get(key)
        if p is None:
            allowed = ", ".join(known) or "none"
            problems.append((key, f"{name} has no parameter {key!r}; {did_you_mean(key, known)}its parameters: {allowed}"))
            continue
        msg = p.problem(value)
        if msg:
            problems.append((key, msg))
    check = entry.info.get("check")
    if check is not None and not problems:
        problems.extend(check(entry.with_defaults(params)))
    return problems
