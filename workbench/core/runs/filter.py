"""The runs table's filter language, and reading spec values out of run records.

Space-separated terms, all must hold:
    lr<0.01  optimizer=Adam  status=finished  batch>=64  tag=baseline  train.seed=2  spiral
A term `key OP value` (OP one of = != < <= > >= ~) compares a column (name, status, dataset,
model, optimizer, lr, batch, epochs, best, test, duration, device, parent, group, tag, id, seed)
or any dotted spec path (`model.layers.0.out_features`, `data.noise`, `schedule.type`); `=` on
text ignores case, `~` means "contains". A bare word searches name, tags, notes, dataset, model,
optimizer and status.
"""

from __future__ import annotations

import json
import math
import operator
import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

from workbench.core.runs.groups import group_of
from workbench.core.spec import flatten_spec

if TYPE_CHECKING:
    from workbench.core.runs.record import RunRecord
    from workbench.core.runs.store import RunStore

__all__ = ["FILTER_KEYS", "COLUMN_GETTERS", "RunFilter", "parse_filter", "load_runs", "spec_value",
           "differing_fields", "field_value"]


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, ">=": operator.ge, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
    "=": operator.eq, "~": lambda a, b: str(b).lower() in str(a).lower(),
}
_TERM = re.compile(r"^([A-Za-z_][\w.]*)\s*(<=|>=|!=|==|=|<|>|~|:)\s*(.*)$")


def _spec_raw(record: "RunRecord") -> dict[str, Any]:
    """The run's spec as parsed JSON (cached on the record; no pydantic, ~20 µs a run)."""
    cached = record.__dict__.get("_spec_raw")
    if cached is None:
        try:
            cached = json.loads(record.spec_json)
        except (ValueError, TypeError):
            cached = {}
        record.__dict__["_spec_raw"] = cached
    return cached


_TABLE_PATHS = ("train.batch_size", "train.epochs", "train.seed")


def load_runs(store: "RunStore", limit: int | None = None) -> list["RunRecord"]:
    """store.list_runs() plus the hyperparameters the runs table shows, read by SQLite's
    json_extract (10 000 runs: ~20 ms, where parsing each spec in Python takes a second)."""
    records = store.list_runs(limit=limit)
    cols = ", ".join(f"json_extract(spec_json, '$.{p}')" for p in _TABLE_PATHS)
    sql = f"SELECT id, {cols} FROM runs"
    if limit is not None:
        sql += f" ORDER BY created DESC, id DESC LIMIT {int(limit)}"
    extracted = {row[0]: dict(zip(_TABLE_PATHS, row[1:])) for row in store.query(sql)}
    for r in records:
        r.__dict__["_hp"] = extracted.get(r.id, {})
    return records


def spec_value(record: "RunRecord", path: str) -> Any:
    """The value at a dotted spec path (`train.batch_size`, `model.layers.0.out_features`), or None."""
    hp = record.__dict__.get("_hp")
    if hp is not None and path in hp:
        return hp[path]
    node: Any = _spec_raw(record)
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _spec_dict(record: "RunRecord") -> dict[str, Any]:
    cached = record.__dict__.get("_flat_spec")
    if cached is None:
        cached = flatten_spec(_spec_raw(record))
        record.__dict__["_flat_spec"] = cached
    return cached


def _metric_value(record: "RunRecord", which: str) -> float | None:
    if which == "best":
        return record.best_val
    tm = record.test_metric
    return tm[1] if tm else None


COLUMN_GETTERS: dict[str, Callable[["RunRecord"], Any]] = {
    "id": lambda r: r.id,
    "name": lambda r: r.name,
    "status": lambda r: r.status,
    "dataset": lambda r: r.dataset.removeprefix("sample:"),
    "model": lambda r: r.model_summary,
    "optimizer": lambda r: r.optimizer,
    "lr": lambda r: r.lr,
    "batch": lambda r: spec_value(r, "train.batch_size"),
    "epochs": lambda r: r.epochs,
    "seed": lambda r: spec_value(r, "train.seed"),
    "best": lambda r: _metric_value(r, "best"),
    "test": lambda r: _metric_value(r, "test"),
    "duration": lambda r: r.duration,
    "device": lambda r: r.device,
    "parent": lambda r: r.parent_id,
    "group": lambda r: group_of(r) or "",
    "tag": lambda r: r.tags,
    "notes": lambda r: r.notes,
}
_ALIASES = {"opt": "optimizer", "batch_size": "batch", "bs": "batch", "tags": "tag", "val": "best",
            "learning_rate": "lr", "state": "status", "data": "dataset", "best_val": "best"}
FILTER_KEYS = tuple(COLUMN_GETTERS)


def _number(text: Any) -> float | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text)
    try:
        return float(str(text))
    except ValueError:
        return None


def _compare(value: Any, op: str, wanted: str) -> bool:
    if value is None:
        return op == "!="
    if isinstance(value, (list, tuple)):  # tags: any of them
        hit = any(_compare(v, "~" if op == "~" else "=", wanted) for v in value)
        return not hit if op == "!=" else hit
    if op == "~":
        return _OPS["~"](value, wanted)
    a, b = _number(value), _number(wanted)
    if a is not None and b is not None:
        if math.isnan(a):
            return op == "!="
        return _OPS[op](a, b)
    if op in ("=", "!="):
        return _OPS[op](str(value).lower(), wanted.lower())
    return _OPS[op](str(value).lower(), wanted.lower())


@dataclass
class RunFilter:
    """A parsed filter: `matches(record)`; `error` says what could not be understood."""

    text: str = ""
    terms: list[tuple[str, str, str]] = field(default_factory=list)  # key, op, value
    words: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def empty(self) -> bool:
        return not self.terms and not self.words

    def matches(self, record: "RunRecord") -> bool:
        for word in self.words:
            hay = " ".join((record.name, " ".join(record.tags), record.notes, record.dataset,
                            record.model_summary, record.optimizer, record.status, f"#{record.id}")).lower()
            if word not in hay:
                return False
        for key, op, wanted in self.terms:
            getter = COLUMN_GETTERS.get(key)
            value = getter(record) if getter is not None else spec_value(record, key)
            if not _compare(value, op, wanted):
                return False
        return True


def parse_filter(text: str) -> RunFilter:
    """Parse the filter field (see the module doc). Never raises: problems go in `.error`, and
    the terms understood still apply."""
    flt = RunFilter(text=text)
    try:
        parts = shlex.split(text)
    except ValueError:
        parts = text.split()
    problems = []
    for part in parts:
        m = _TERM.match(part)
        if not m:
            if any(c in part for c in "<>=~"):
                problems.append(f"'{part}' is not KEY OP VALUE (e.g. lr<0.01)")
            else:
                flt.words.append(part.lower())
            continue
        key, op, value = m.group(1).lower(), m.group(2), m.group(3)
        op = {"==": "=", ":": "="}.get(op, op)
        key = _ALIASES.get(key, key)
        if value == "":
            problems.append(f"'{part}' has no value")
            continue
        if key not in COLUMN_GETTERS and "." not in key:
            problems.append(f"unknown field '{key}': use {', '.join(FILTER_KEYS[:9])}…, or a spec path such "
                            "as train.seed")
            continue
        flt.terms.append((key, op, value))
    flt.error = "; ".join(problems)
    return flt


def differing_fields(records: Sequence["RunRecord"]) -> list[str]:
    """Spec paths whose values differ between the given runs (name and seeds of the split left out)."""
    if len(records) < 2:
        return []
    flats = [_spec_dict(r) for r in records]
    keys: dict[str, None] = {}
    for flat in flats:
        keys.update(dict.fromkeys(flat))
    out = []
    for key in keys:
        if key == "name":
            continue
        values = {json.dumps(f.get(key), sort_keys=True) for f in flats}
        if len(values) > 1:
            out.append(key)
    return out


def field_value(record: "RunRecord", key: str) -> Any:
    """A column (see FILTER_KEYS) or spec path's value for one run."""
    getter = COLUMN_GETTERS.get(key)
    return getter(record) if getter is not None else spec_value(record, key)
