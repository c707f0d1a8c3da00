"""CSV/TSV files -> Dataset: column types, missing values, one-hot encoding, the target.

* The delimiter is sniffed (, ; tab |) and a header row detected (text.py).
* Numeric columns stay numbers (a decimal comma is accepted when the delimiter is not a comma;
  thousands separators as in "50,000" or "1,234.5" are removed, and the notes say so).
* A column whose cells are numbers except a few (>= 90% numbers, and the others at most 5% of
  the cells or at most 20 cells) is numeric: those few cells ('unknown', '-', ...) count as
  missing values, so data.missing applies and the message names their lines and values.
* Text feature columns are one-hot encoded ("color=red", ...); text columns with very many
  distinct values (identifiers, free text) are left out, and the notes say so. So are numeric
  identifier columns ("customer_id": a different whole number on every row; identifiers.py).
* Missing values are empty cells and NA, N/A, NaN, null, None, ?, #N/A (any case).
  data.missing: "error" (default) names the columns and lines; "drop" drops those rows;
  "impute" fills numbers with the column median and text with the most frequent value
  (rows whose *target* is missing are always dropped, never imputed).
* The target is data.target, by default the last column; see targets.py for how the task
  (classification / regression) is inferred.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .identifiers import identifier_reason
from .targets import class_counts, encode_target
from .text import THOUSANDS, read_table
from .types import DataError, Dataset, DatasetMeta

MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "#n/a", "<na>", "-nan"}
MISSING_HELP = "set data.missing to 'drop' or 'impute' (the Missing values choice in the data panel)"
PREVIEW_ROWS = 50
ID_MAX_LEVELS = 100  # a text column with more distinct values than this is left out ...
ID_UNIQUE_FRACTION = 0.5  # ... as is one with > 20 values where most rows are unique
ONEHOT_LIST = 5
NUMERIC_MIN_FRACTION = 0.9  # a column is numeric when this share of its cells are numbers ...
STRAY_MAX_FRACTION = 0.05  # ... and the other cells are at most this share ...
STRAY_MAX_CELLS = 20  # ... or at most this many; they then count as missing values


def _lines_text(lines: list[int], limit: int = 5) -> str:
    shown = ", ".join(str(n) for n in lines[:limit])
    word = "line" if len(lines) == 1 else "lines"
    more = f" and {len(lines) - limit} more ({len(lines)} in all)" if len(lines) > limit else ""
    return f"{word} {shown}{more}"


def _column_names(header: list[str] | None, n: int, notes: list[str]) -> list[str]:
    if header is None:
        notes.append(f"no header row found; columns are named col1 ... col{n}")
        return [f"col{i + 1}" for i in range(n)]
    names: list[str] = []
    seen: Counter[str] = Counter()
    renamed = []
    for i, raw in enumerate(header):
        name = raw or f"col{i + 1}"
        seen[name] += 1
        if seen[name] > 1:
            new = f"{name}_{seen[name]}"
            renamed.append(f"'{name}' -> '{new}'")
            name = new
        names.append(name)
    if renamed:
        notes.append(f"renamed duplicate column names: {', '.join(renamed)}")
    return names


def _check_ragged(path: Path, table, n_cols: int) -> list[list[str]]:
    rows = table.rows
    # "1,2,3," exports: every data row has one extra, empty, last cell
    if all(len(r) == n_cols + 1 and not r[-1].strip() for r in rows):
        rows = [r[:-1] for r in rows]
    bad = [i for i, r in enumerate(rows) if len(r) != n_cols]
    if bad:
        i = bad[0]
        what = "the header" if table.header is not None else "the first row"
        others = ""
        if len(bad) > 1:
            others = f" ({len(bad) - 1} more row{'s' if len(bad) > 2 else ''} differ: {_lines_text([table.lines[j] for j in bad[1:]])})"
        sep = {",": "','", "\t": "tab", ";": "';'", "|": "'|'"}.get(table.delimiter, repr(table.delimiter))
        raise DataError(
            f"{path}, line {table.lines[i]}: expected {n_cols} columns (as in {what} on line {table.header_line}), "
            f"found {len(rows[i])}{others}. Check that line for a missing or extra separator ({sep}), "
            "or quote values that contain one."
        )
    return rows


def _stray_limit(n_present: int) -> int:
    """How many non-number cells a numeric column may have (they then count as missing)."""
    by_share = int(n_present * (1 - NUMERIC_MIN_FRACTION) + 1e-9)
    return min(by_share, max(STRAY_MAX_CELLS, int(n_present * STRAY_MAX_FRACTION)))


def _comma_float(v: str, how: str) -> float | None:
    """A cell with a comma read as a decimal comma ("1,5") or with thousands separators ("1,234.5")."""
    if how == "thousands":
        return float(v.replace(",", "")) if THOUSANDS.match(v) else None
    if v.count(",") == 1 and "." not in v:
        try:
            return float(v.replace(",", "."))
        except ValueError:
            return None
    return None


def _parse_numeric(
    values: list[str], present: np.ndarray, decimal_comma: bool
) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(float64 column with NaN where missing or not a number, mask of the present cells that are
    not numbers, how commas were read: "" | "decimal" | "thousands"), or None for a text column.

    Commas are read one way for the whole column: as decimal commas (only when the delimiter is
    not a comma) or as thousands separators (groups of exactly 3 digits), whichever reads more
    cells; on a tie, thousands when other cells use a decimal point.
    """
    out = np.full(len(values), np.nan)
    stray = np.zeros(len(values), dtype=bool)
    kept = np.flatnonzero(present)
    limit = _stray_limit(len(kept))
    bad: list[int] = []
    commas: list[int] = []
    for i in kept:
        v = values[i]
        if "," in v:
            commas.append(i)
            continue
        try:
            out[i] = float(v)
        except ValueError:
            bad.append(i)
            if len(bad) > limit:
                return None
    how = ""
    if commas:
        has_dot = any("." in values[i] for i in kept if not np.isnan(out[i]))
        prefer = "thousands" if has_dot else "decimal"
        options = []
        for conv in ("decimal", "thousands") if decimal_comma else ("thousands",):
            parsed = [_comma_float(values[i], conv) for i in commas]
            options.append((sum(x is None for x in parsed), conv != prefer, conv, parsed))
        n_bad, _, how, parsed = min(options, key=lambda o: (o[0], o[1]))
        if n_bad == len(commas):
            how = ""
        for i, x in zip(commas, parsed):
            if x is None:
                bad.append(i)
            else:
                out[i] = x
        if len(bad) > limit:
            return None
    stray[bad] = True
    return out, stray, how


def _stray_text(name: str, lines: np.ndarray, values: list[str], mask: np.ndarray, limit: int = 5) -> str:
    """"column 'a' is numeric except line 82 ('unknown')" for the cells in mask."""
    idx = np.flatnonzero(mask)
    word = "line" if len(idx) == 1 else "lines"
    shown = ", ".join(f"{lines[i]} ({values[i]!r})" for i in idx[:limit])
    more = f" and {len(idx) - limit} more ({len(idx)} in all)" if len(idx) > limit else ""
    return f"column '{name}' is numeric except {word} {shown}{more}"


def _find_target(path: Path, names: list[str], target: str | None, notes: list[str]) -> int:
    if target is None:
        notes.append(f"target: the last column, '{names[-1]}' (set data.target / --target to choose another)")
        return len(names) - 1
    if target in names:
        return names.index(target)
    folded = [n.strip().lower() for n in names]
    if target.strip().lower() in folded:
        return folded.index(target.strip().lower())
    raise DataError(
        f"{path} has no column '{target}'. Columns: {', '.join(names)}. "
        "Set data.target / --target to one of them."
    )


def load_table(path: Path, data, *, source: str | None = None, class_names: list[str] | None = None) -> Dataset:
    table = read_table(path, MISSING)
    notes = list(table.notes)
    n_cols = len(table.header) if table.header is not None else len(table.rows[0])
    names = _column_names(table.header, n_cols, notes)
    rows = _check_ragged(path, table, n_cols) if table.block is None else table.rows
    lines = np.array(table.lines)
    n = len(lines)
    if n_cols < 2:
        raise DataError(
            f"{path}: found a single column ('{names[0]}'), so there is nothing to predict it from. "
            "A table needs feature columns and a target column separated by , ; tab or |."
        )
    t_idx = _find_target(path, names, data.target, notes)
    target_name = names[t_idx]

    decimal_comma = table.delimiter != ","
    if table.block is not None:
        columns: list[list[str]] = [[] for _ in range(n_cols)]  # never needed: every column is numeric
    else:
        columns = [list(c) for c in zip(*rows)]

    # column types: a fast path parses a whole clean numeric column at once ("nan" -> missing);
    # other columns are stripped and checked cell by cell
    numeric: dict[int, np.ndarray] = {}
    present: list[np.ndarray] = []
    stray: dict[int, np.ndarray] = {}  # present cells of a numeric column that are not numbers
    for j, col in enumerate(columns):
        if table.block is not None:
            numeric[j] = np.ascontiguousarray(table.block[:, j])
            present.append(~np.isnan(numeric[j]))
            continue
        try:
            parsed = np.array(col, dtype=np.float64)
        except ValueError:
            parsed = None
        if parsed is not None:
            numeric[j] = parsed
            present.append(~np.isnan(parsed))
            continue
        col = columns[j] = [v.strip() for v in col]
        present.append(np.array([v.lower() not in MISSING for v in col], dtype=bool))
        result = _parse_numeric(col, present[j], decimal_comma)
        if result is None:
            continue
        numeric[j], bad, how = result
        if how == "decimal":
            notes.append(f"read decimal commas in column '{names[j]}'")
        elif how == "thousands":
            i = next(i for i, v in enumerate(col) if present[j][i] and not bad[i] and "," in v)
            notes.append(f"column '{names[j]}': read '{col[i]}' as {numeric[j][i]:.15g} (thousands separators)")
        if bad.any():
            stray[j] = bad
            present[j] = present[j] & ~bad
            notes.append(f"{_stray_text(names[j], lines, col, bad)}; such cells count as missing values")
    used: list[int] = []
    for j in range(n_cols):
        if j == t_idx:
            continue
        if not present[j].any():
            notes.append(f"left out column '{names[j]}': it has no values")
            continue
        if j not in numeric:
            levels = len(set(v for v, p in zip(columns[j], present[j]) if p))
            if levels > ID_MAX_LEVELS or (levels > 20 and levels > ID_UNIQUE_FRACTION * n):
                notes.append(
                    f"left out text column '{names[j]}': {levels} different values (an identifier or free text?); "
                    "replace it with numbers or categories if it matters"
                )
                continue
        else:
            reason = identifier_reason(names[j], numeric[j])
            if reason:
                notes.append(f"left out column '{names[j]}': it looks like an identifier ({reason}); "
                             "if it is a real measurement, rename the column and load the file again")
                continue
        used.append(j)
    if not used:
        left_out = "".join(f" The loader {n}." for n in notes if n.startswith("left out "))
        raise DataError(
            f"{path}: no usable feature columns besides the target '{target_name}'. "
            f"Columns: {', '.join(names)}.{left_out} Choose another target with data.target / --target."
        )
    if not present[t_idx].any():
        raise DataError(f"{path}: the target column '{target_name}' has no values; choose another with data.target / --target")

    # non-finite numbers (inf) cannot be standardised or trained on
    for j in [*used, t_idx]:
        if j in numeric and np.isinf(numeric[j]).any():
            bad = list(lines[np.isinf(numeric[j])])
            raise DataError(
                f"{path}: column '{names[j]}' has infinite values on {_lines_text(bad)}; "
                "replace them with numbers or leave the cells empty"
            )

    # missing values
    policy = data.missing
    keep = np.ones(n, dtype=bool)
    fills: dict[int, float | str] = {}
    missing_cols = [j for j in [*used, t_idx] if not present[j].all()]
    if missing_cols and policy == "error":
        no_stray = np.zeros(n, dtype=bool)
        empty = {j: ~present[j] & ~stray.get(j, no_stray) for j in missing_cols}
        parts = [f"column '{names[j]}' ({_lines_text(list(lines[empty[j]]))})" for j in missing_cols if empty[j].any()]
        strays = [_stray_text(names[j], lines, columns[j], stray[j]) for j in missing_cols if j in stray]
        msg = str(path)
        if parts:
            msg += " has missing values in " + "; ".join(parts) + ". Empty cells and NA, NaN, null, ? count as missing."
        if strays:
            msg += (" Also, " if parts else ": ") + "; ".join(strays)
            msg += ". Cells that are not numbers in a column of numbers count as missing values."
        fix = "fix those cells in the file, or " if strays else ""
        raise DataError(f"{msg} To go on, {fix}{MISSING_HELP}.")
    if missing_cols and policy == "drop":
        for j in missing_cols:
            keep &= present[j]
        notes.append(
            f"dropped {int((~keep).sum())} of {n} rows with missing values "
            f"(in {', '.join(repr(names[j]) for j in missing_cols)})"
        )
    elif missing_cols and policy == "impute":
        keep &= present[t_idx]
        if not keep.all():
            notes.append(f"dropped {int((~keep).sum())} rows whose target '{target_name}' is missing (targets are never imputed)")
        for j in missing_cols:
            if j == t_idx:
                continue
            holes = int((~present[j] & keep).sum())
            if not holes:
                continue
            if j in numeric:
                fill = float(np.median(numeric[j][present[j]]))
                fills[j] = fill
                numeric[j][~present[j]] = fill
                notes.append(f"imputed {holes} missing value{'s' if holes > 1 else ''} in '{names[j]}' with the median {fill:g}")
            else:
                counts = Counter(v for v, p in zip(columns[j], present[j]) if p)
                fill = min(counts, key=lambda v: (-counts[v], v))
                fills[j] = fill
                columns[j] = [v if p else fill for v, p in zip(columns[j], present[j])]
                notes.append(f"imputed {holes} missing value{'s' if holes > 1 else ''} in '{names[j]}' with the most frequent value '{fill}'")
            present[j] = np.ones(n, dtype=bool)
    if not keep.any():
        raise DataError(f"{path}: every row has a missing value, so nothing is left after dropping them")

    # features
    blocks: list[np.ndarray] = []
    feature_names: list[str] = []
    input_columns: list[dict] = []
    for j in used:
        column: dict = {"name": names[j], "kind": "numeric" if j in numeric else "categorical"}
        if j in fills:
            column["fill"] = fills[j]
        input_columns.append(column)
        if j in numeric:
            blocks.append(numeric[j][keep].reshape(-1, 1))
            feature_names.append(names[j])
            continue
        values = np.array(columns[j], dtype=object)[keep].astype(str)
        levels, idx = np.unique(values, return_inverse=True)
        onehot = np.zeros((len(values), len(levels)))
        onehot[np.arange(len(values)), idx] = 1.0
        blocks.append(onehot)
        column["levels"] = [str(v) for v in levels]
        feature_names.extend(f"{names[j]}={v}" for v in levels)
        shown = ", ".join(f"'{v}'" for v in levels[:ONEHOT_LIST]) + (", ..." if len(levels) > ONEHOT_LIST else "")
        notes.append(f"one-hot encoded column '{names[j]}' ({len(levels)} values: {shown})")
    X = np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)

    # target
    if t_idx in numeric:
        t_values = numeric[t_idx][keep]
    else:
        t_values = np.array(columns[t_idx], dtype=object)[keep].astype(str)
    y, task, cls = encode_target(
        t_values, task=data.task, target_name=target_name, where=str(path), notes=notes, class_names=class_names
    )
    meta = DatasetMeta(
        source=source or str(path),
        kind="tabular",
        task=task,
        class_names=cls,
        feature_names=feature_names,
        input_shape=(X.shape[1],),
        target_name=target_name,
        target_width=len(cls) if task == "classification" else 1,
        n_samples=int(X.shape[0]),
        notes=notes,
        class_counts=class_counts(y, len(cls)) if task == "classification" else [],
        input_columns=input_columns,
        table_format={"delimiter": table.delimiter, "header": table.header is not None},
    )
    return Dataset(X=X, y=y, meta=meta, preview_columns=names, preview_rows=[[c.strip() for c in r] for r in rows[:PREVIEW_ROWS]])
