"""New rows through a trained run's encoding: the columns it was trained on (found by name),
numbers read as the loader reads them, categories one-hot encoded with the training levels, and
(when the file has it) the target encoded with the training classes. Used to predict on and to
evaluate against files the run never saw.

Every problem is a DataError naming the file, the column, the lines and what to do: a column
the run needs is missing, a category was never seen in training, a cell is not a number, a
value is missing (filled with the training median / most frequent value only when the run was
trained with data.missing = "impute"; rows dropped only when asked and the run dropped them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .table_columns import MISSING, parse_numeric
from .targets import number_class_name
from .text import read_table
from .types import DataError

__all__ = ["EncodedRows", "default_input_columns", "encode_labels", "encode_table"]

LIST_LIMIT = 5


@dataclass
class EncodedRows:
    X: np.ndarray  # float32 (N, F): features before standardisation, in the run's feature order
    y: np.ndarray | None  # int64 class indices or float32 (N, 1) values; None without a target column
    lines: list[int]  # the file line of each row
    notes: list[str] = field(default_factory=list)


def default_input_columns(feature_names: list[str], fills: list[float] | None = None) -> list[dict]:
    """Input columns of a dataset whose features are its columns (samples, arrays)."""
    fills = fills or [0.0] * len(feature_names)
    return [{"name": n, "kind": "numeric", "fill": float(f)} for n, f in zip(feature_names, fills)]


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:LIST_LIMIT])
    more = f" and {len(lines) - LIST_LIMIT} more" if len(lines) > LIST_LIMIT else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def _find(names: list[str], wanted: str) -> int | None:
    if wanted in names:
        return names.index(wanted)
    folded = [n.strip().lower() for n in names]
    key = wanted.strip().lower()
    return folded.index(key) if key in folded else None


def encode_table(path: str | Path, columns: list[dict], *, target_name: str | None = None, task: str = "classification",
                 class_names: list[str] | None = None, missing: str = "error", allow_drop: bool = False,
                 require_target: bool = False) -> EncodedRows:
    """Encode the rows of the table at `path` as a run with these input `columns` was trained.

    target_name: read this column as the label when present (required with require_target).
    missing: the run's data.missing; "impute" fills holes with each column's training value,
    "drop" drops rows with holes when allow_drop (evaluation), otherwise holes are an error.
    """
    path = Path(path)
    table = read_table(path, MISSING)
    notes = list(table.notes)
    width = len(table.header) if table.header is not None else len(table.rows[0])
    names = [c.strip() for c in table.header] if table.header is not None else []
    needed = [c["name"] for c in columns]
    if table.header is None:
        # no header: the columns are taken in training order (features, then the target)
        if width in (len(needed), len(needed) + 1):
            names = needed + ([target_name or "target"] if width > len(needed) else [])
            notes.append("no header row: columns taken in the order the run was trained on ("
                         + ", ".join(names) + ")")
        else:
            raise DataError(
                f"{path} has no header row and {width} columns; the run needs the columns "
                f"{', '.join(needed)}{f' (and optionally {target_name})' if target_name else ''}. "
                "Add a header row with these names.")
    rows = table.rows
    if all(len(r) == width + 1 and not r[-1].strip() for r in rows):  # "1,2,3," exports
        rows = [r[:-1] for r in rows]
    bad = [i for i, r in enumerate(rows) if len(r) != width]
    if bad:
        raise DataError(f"{path}, {_lines([table.lines[i] for i in bad])}: expected {width} columns as in the "
                        "header; check for a missing or extra separator, or quote values that contain one")
    index = {}
    absent = []
    for name in needed:
        j = _find(names, name)
        if j is None:
            absent.append(name)
        index[name] = j
    if absent:
        raise DataError(
            f"{path} has no column{'s' if len(absent) > 1 else ''} {', '.join(repr(a) for a in absent)}, which the "
            f"run was trained on. It needs: {', '.join(needed)}; the file has: {', '.join(names)}. Add the "
            "missing column(s) (or rename the columns that hold them)."
        )
    t_idx = _find(names, target_name) if target_name else None
    if require_target and t_idx is None:
        raise DataError(f"{path} has no target column '{target_name}', so there is nothing to evaluate against. "
                        f"Add the true labels as a column named '{target_name}', or use `workbench predict`.")
    used = set(index.values()) | ({t_idx} if t_idx is not None else set())
    extra = [names[j] for j in range(width) if j not in used]
    if extra:
        notes.append(f"ignored column{'s' if len(extra) > 1 else ''} the run does not use: {', '.join(extra)}")

    lines = np.array(table.lines)
    n = len(lines)

    def cells(j: int) -> list[str]:
        return [r[j].strip() for r in rows]

    holes: dict[str, np.ndarray] = {}
    blocks: list[np.ndarray] = []
    decimal_comma = table.delimiter != ","
    for col in columns:
        j = index[col["name"]]
        values = cells(j)
        present = np.array([v.lower() not in MISSING for v in values], dtype=bool)
        if col["kind"] == "numeric":
            parsed = parse_numeric(values, present, decimal_comma)
            if parsed is None or parsed[1].any():
                stray = (parsed[1] if parsed is not None else
                         np.array([p and not _is_number(v) for v, p in zip(values, present)]))
                where = np.flatnonzero(stray)
                shown = ", ".join(f"{lines[i]} ({values[i]!r})" for i in where[:LIST_LIMIT])
                raise DataError(f"{path}: column '{col['name']}' must hold numbers, as in training, but "
                                f"line{'s' if len(where) > 1 else ''} {shown} do{'es' if len(where) == 1 else ''} "
                                "not. Fix those cells.")
            block = parsed[0].reshape(-1, 1)
            if not present.all():
                holes[col["name"]] = ~present
                block[~present, 0] = float(col.get("fill", 0.0))
            blocks.append(block)
        else:
            levels = [str(v) for v in col.get("levels", [])]
            lookup = {v: i for i, v in enumerate(levels)}
            if not present.all():
                holes[col["name"]] = ~present
                values = [v if p else str(col.get("fill", levels[0] if levels else "")) for v, p in zip(values, present)]
            unseen = sorted({v for v in values if v not in lookup})
            if unseen:
                at = [int(lines[i]) for i, v in enumerate(values) if v not in lookup]
                raise DataError(
                    f"{path}: column '{col['name']}' has {'values' if len(unseen) > 1 else 'a value'} the run never saw "
                    f"in training: {', '.join(repr(u) for u in unseen[:LIST_LIMIT])} ({_lines(at)}). Known values: "
                    f"{', '.join(repr(v) for v in levels[:20])}{', ...' if len(levels) > 20 else ''}. Change those cells "
                    "to a known value, or train again on data that includes them.")
            onehot = np.zeros((n, len(levels)))
            onehot[np.arange(n), [lookup[v] for v in values]] = 1.0
            blocks.append(onehot)
    keep = np.ones(n, dtype=bool)
    if holes:
        if missing == "impute":
            notes.append("filled missing values with the training median / most frequent value in "
                         + ", ".join(f"'{k}' ({int(v.sum())})" for k, v in holes.items()))
        elif missing == "drop" and allow_drop:
            for mask in holes.values():
                keep &= ~mask
            notes.append(f"dropped {int((~keep).sum())} rows with missing values (as in training)")
        else:
            parts = "; ".join(f"column '{k}' ({_lines([int(x) for x in lines[v]])})" for k, v in holes.items())
            raise DataError(f"{path} has missing values in {parts}. Fill them in; the run was trained with "
                            f"data.missing = '{missing}', so they are not filled automatically.")
    X = np.ascontiguousarray(np.hstack(blocks)[keep], dtype=np.float32) if blocks else np.zeros((int(keep.sum()), 0), np.float32)
    y = None
    if t_idx is not None:
        y = encode_labels(path, cells(t_idx), lines, task, class_names or [], target_name or "", keep)
        if y is None:
            notes.append(f"the target column '{target_name}' is empty; ignored")
    return EncodedRows(X, y, [int(x) for x in lines[keep]], notes)


def _is_number(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def encode_labels(path: Path | str, values: list[str], lines: np.ndarray, task: str, class_names: list[str],
                  target_name: str, keep: np.ndarray | None = None) -> np.ndarray | None:
    """True labels as text -> class indices of `class_names` (numbers match their class names, so
    3.0 is class "3"), or float32 (N, 1) values for a regression; None when every value is
    missing. `lines` says where each value is (file lines, or positions) for messages."""
    keep = np.ones(len(values), dtype=bool) if keep is None else keep
    values = [v.strip() for v, k in zip(values, keep) if k]
    at = np.asarray(lines)[keep]
    present = [v.lower() not in MISSING for v in values]
    if not any(present):
        return None
    if not all(present):
        gaps = [int(at[i]) for i, p in enumerate(present) if not p]
        raise DataError(f"{path}: the target column '{target_name}' is empty on {_lines(gaps)}; fill in the true "
                        "labels there or remove those rows")
    if task == "regression":
        try:
            return np.array([float(v) for v in values], dtype=np.float32).reshape(-1, 1)
        except ValueError:
            bad = [int(at[i]) for i, v in enumerate(values) if not _is_number(v)]
            raise DataError(f"{path}: the target column '{target_name}' must hold numbers; {_lines(bad)} do not") from None
    lookup = {name: i for i, name in enumerate(class_names)}
    out = []
    unseen: dict[str, list[int]] = {}
    for i, v in enumerate(values):
        key = v
        if key not in lookup and _is_number(v):
            key = number_class_name(float(v))
        if key not in lookup:
            unseen.setdefault(v, []).append(int(at[i]))
            continue
        out.append(lookup[key])
    if unseen:
        first = next(iter(unseen.values()))
        raise DataError(
            f"{path}: the target column '{target_name}' has label{'s' if len(unseen) > 1 else ''} the run was not "
            f"trained on: {', '.join(repr(u) for u in list(unseen)[:LIST_LIMIT])} (e.g. {_lines(first)}). The run's "
            f"classes: {', '.join(class_names[:20])}. Correct those labels or remove those rows.")
    return np.array(out, dtype=np.int64)
