"""Typed table columns -> Dataset: which columns are features, missing values, one-hot encoding,
the target. The same for both readers (tabular.py says which one reads a file).

* Text feature columns are one-hot encoded ("color=red", ...); text columns with very many
  distinct values (identifiers, free text) are left out, and the notes say so. So are numeric
  identifier columns ("customer_id": a different whole number on every row; identifiers.py).
* data.missing: "error" (default) names the columns and lines; "drop" drops those rows;
  "impute" fills numbers with the column median and text with the most frequent value
  (rows whose *target* is missing are always dropped, never imputed).
* The target is data.target, by default the last column; see targets.py for how the task
  (classification / regression) is inferred.

The fast reader does not know the file line of each row; where a message must name lines (an
error about missing or infinite values), `NeedsLines` is raised and the careful reader takes over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .identifiers import identifier_reason, name_may_be_identifier
from .table_columns import Column, NumericColumn, TextColumn, lines_text
from .targets import class_counts, encode_target
from .types import ColumnInfo, DataError, Dataset, DatasetMeta

MISSING_HELP = "set data.missing to 'drop' or 'impute' (the Missing values choice in the data panel)"
ID_MAX_LEVELS = 100  # a text column with more distinct values than this is left out ...
ID_UNIQUE_FRACTION = 0.5  # ... as is one with > 20 values where most rows are unique
ONEHOT_LIST = 5
PREVIEW_ROWS = 50
BLOCK_ROWS = 1 << 15


class NeedsLines(Exception):
    """A message must name file lines, which only the careful reader knows."""


@dataclass
class ParsedTable:
    """What a reader made of a file: column names and typed columns, in file order."""

    names: list[str]
    columns: list[Column]
    notes: list[str]  # the reader's notes (encoding, comments, delimiter, header, names)
    column_notes: list[str]  # notes about column types (commas, stray cells)
    lines: np.ndarray | None  # file line of each row (careful reader); None (fast reader)
    preview_rows: list[list[str]] = field(default_factory=list)
    table_format: dict = field(default_factory=dict)  # {"delimiter": ",", "header": True}

    @property
    def n_rows(self) -> int:
        return len(self.columns[0].present)


def _lines_of(parsed: ParsedTable, mask: np.ndarray) -> str:
    if parsed.lines is None:
        raise NeedsLines
    return lines_text(list(parsed.lines[mask]))


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


def _choose_features(path: Path, parsed: ParsedTable, t_idx: int, notes: list[str],
                     why: dict[int, str]) -> list[int]:
    names, n = parsed.names, parsed.n_rows
    used: list[int] = []
    for j, col in enumerate(parsed.columns):
        if j == t_idx:
            continue
        if not col.present.any():
            why[j] = "it has no values"
            notes.append(f"left out column '{names[j]}': it has no values")
            continue
        if isinstance(col, TextColumn):
            levels = len(col.levels)
            if levels > ID_MAX_LEVELS or (levels > 20 and levels > ID_UNIQUE_FRACTION * n):
                why[j] = f"{levels} different values (an identifier or free text?)"
                notes.append(
                    f"left out text column '{names[j]}': {levels} different values (an identifier or free text?); "
                    "replace it with numbers or categories if it matters"
                )
                continue
        else:
            reason = identifier_reason(names[j], col.values) if name_may_be_identifier(names[j]) else None
            if reason:
                why[j] = f"it looks like an identifier ({reason})"
                notes.append(f"left out column '{names[j]}': it looks like an identifier ({reason}); "
                             "if it is a real measurement, rename the column and load the file again")
                continue
        used.append(j)
    target_name = names[t_idx]
    if not used:
        left_out = "".join(f" The loader {n}." for n in notes if n.startswith("left out "))
        raise DataError(
            f"{path}: no usable feature columns besides the target '{target_name}'. "
            f"Columns: {', '.join(names)}.{left_out} Choose another target with data.target / --target."
        )
    if not parsed.columns[t_idx].present.any():
        raise DataError(f"{path}: the target column '{target_name}' has no values; choose another with data.target / --target")
    for j in [*used, t_idx]:  # non-finite numbers (inf) cannot be standardised or trained on
        col = parsed.columns[j]
        infinite = col.infinite() if isinstance(col, NumericColumn) else None
        if infinite is not None:
            raise DataError(
                f"{path}: column '{names[j]}' has infinite values on {_lines_of(parsed, infinite)}; "
                "replace them with numbers or leave the cells empty"
            )
    return used


def _missing_error(path: Path, parsed: ParsedTable, missing_cols: list[int]) -> DataError:
    names, columns = parsed.names, parsed.columns
    parts, strays = [], []
    for j in missing_cols:
        col = columns[j]
        empty = ~col.present
        if isinstance(col, NumericColumn) and col.stray is not None:
            empty &= ~col.stray
            strays.append(col.stray_text)
        if empty.any():
            parts.append(f"column '{names[j]}' ({_lines_of(parsed, empty)})")
    msg = str(path)
    if parts:
        msg += " has missing values in " + "; ".join(parts) + ". Empty cells and NA, NaN, null, ? count as missing."
    if strays:
        msg += (" Also, " if parts else ": ") + "; ".join(strays)
        msg += ". Cells that are not numbers in a column of numbers count as missing values."
    fix = "fix those cells in the file, or " if strays else ""
    return DataError(f"{msg} To go on, {fix}{MISSING_HELP}.")


def _apply_missing(path: Path, parsed: ParsedTable, used: list[int], t_idx: int, policy: str,
                   notes: list[str], fills: dict[int, float | str]) -> np.ndarray:
    """Rows to keep; imputes in place (policy "impute"), noting each column's fill in `fills`."""
    names, columns, n = parsed.names, parsed.columns, parsed.n_rows
    keep = np.ones(n, dtype=bool)
    present = {j: columns[j].present for j in [*used, t_idx]}
    missing_cols = [j for j in [*used, t_idx] if not present[j].all()]
    if not missing_cols:
        return keep
    if policy == "error":
        raise _missing_error(path, parsed, missing_cols)
    if policy == "drop":
        for j in missing_cols:
            keep &= present[j]
        notes.append(
            f"dropped {int((~keep).sum())} of {n} rows with missing values "
            f"(in {', '.join(repr(names[j]) for j in missing_cols)})"
        )
    else:  # impute
        keep &= present[t_idx]
        if not keep.all():
            notes.append(f"dropped {int((~keep).sum())} rows whose target '{names[t_idx]}' is missing (targets are never imputed)")
        for j in missing_cols:
            if j == t_idx:
                continue
            holes = int((~present[j] & keep).sum())
            if not holes:
                continue
            col = columns[j]
            s = "s" if holes > 1 else ""
            if isinstance(col, NumericColumn):
                fill = float(np.median(col.values[present[j]]))
                fills[j] = fill
                col.fill_missing(fill)
                notes.append(f"imputed {holes} missing value{s} in '{names[j]}' with the median {fill:g}")
            else:
                counts = np.bincount(col.codes[present[j]], minlength=len(col.levels))
                code = int(np.argmax(counts))  # ties: the first in sorted order
                fills[j] = str(col.levels[code])
                col.fill_missing(code)
                notes.append(f"imputed {holes} missing value{s} in '{names[j]}' with the most frequent value "
                             f"'{col.levels[code]}'")
    if not keep.any():
        raise DataError(f"{path}: every row has a missing value, so nothing is left after dropping them")
    return keep


def _features(parsed: ParsedTable, used: list[int], keep: np.ndarray, notes: list[str],
              infos: dict[int, ColumnInfo]) -> tuple[np.ndarray, list[str]]:
    """X (float32, one block written column by column) and the feature names."""
    names, columns = parsed.names, parsed.columns
    all_rows = bool(keep.all())
    codes_kept: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    width = 0
    for j in used:
        col = columns[j]
        if isinstance(col, TextColumn):
            codes = col.codes if all_rows else col.codes[keep]
            seen = np.bincount(codes, minlength=len(col.levels)) > 0  # levels left after dropping rows
            codes_kept[j] = ((np.cumsum(seen) - 1)[codes], col.levels[seen])
            width += int(seen.sum())
        else:
            width += 1
    n = int(keep.sum())
    X = np.zeros((n, width), dtype=np.float32)
    feature_names: list[str] = []
    numeric: list[tuple[int, list[np.ndarray]]] = []  # (position in X, pieces of the kept rows' values)
    at = 0
    for j in used:
        col = columns[j]
        if isinstance(col, NumericColumn):
            numeric.append((at, col.chunks if all_rows else [col.values[keep]]))
            feature_names.append(names[j])
            infos[j].features = (at, at + 1)
            at += 1
            continue
        codes, levels = codes_kept[j]
        X[np.arange(n), at + codes] = 1.0
        feature_names.extend(f"{names[j]}={v}" for v in levels)
        infos[j].features = (at, at + len(levels))
        infos[j].levels = [str(v) for v in levels]
        at += len(levels)
        shown = ", ".join(f"'{v}'" for v in levels[:ONEHOT_LIST]) + (", ..." if len(levels) > ONEHOT_LIST else "")
        notes.append(f"one-hot encoded column '{names[j]}' ({len(levels)} values: {shown})")
    _fill_numeric(X, numeric)
    return X, feature_names


def _fill_numeric(X: np.ndarray, numeric: list[tuple[int, list[np.ndarray]]]) -> None:
    """Write numeric columns into the row-major X a block of rows at a time (every column of a
    block, then the next block), so the rows being written stay in the CPU cache."""
    if not numeric:
        return
    lengths = [len(c) for c in numeric[0][1]]
    if any([len(c) for c in pieces] != lengths for _, pieces in numeric):  # pieces of other sizes: join
        numeric = [(pos, [np.concatenate(pieces)]) for pos, pieces in numeric]
        lengths = [len(X)]
    start = 0
    for k, length in enumerate(lengths):
        for a in range(0, length, BLOCK_ROWS):
            block = X[start + a:start + min(length, a + BLOCK_ROWS)]
            for pos, pieces in numeric:
                block[:, pos] = pieces[k][a:a + BLOCK_ROWS]
        start += length


def _input_column(j: int, info: ColumnInfo, fills: dict[int, float | str]) -> dict:
    """A feature's raw column as DatasetMeta.input_columns describes it (export encodes new rows
    with it): name, kind numeric/categorical, the one-hot levels, the imputed fill."""
    column: dict = {"name": info.name, "kind": "numeric" if info.kind == "numeric" else "categorical"}
    if j in fills:
        column["fill"] = fills[j]
    if info.kind == "text":
        column["levels"] = list(info.levels)
    return column


def build_dataset(path: Path, parsed: ParsedTable, data, *, source: str | None = None,
                  class_names: list[str] | None = None) -> Dataset:
    """The Dataset of a parsed table (see the module doc); DataError for data that cannot be
    used, NeedsLines when a message needs file lines the reader did not keep."""
    names, columns = parsed.names, parsed.columns
    if len(names) < 2:
        raise DataError(
            f"{path}: found a single column ('{names[0]}'), so there is nothing to predict it from. "
            "A table needs feature columns and a target column separated by , ; tab or |."
        )
    notes = list(parsed.notes)
    t_idx = _find_target(path, names, data.target, notes)
    target_name = names[t_idx]
    notes += parsed.column_notes
    missing_in_file = [int((~c.present).sum()) for c in columns]
    why: dict[int, str] = {}
    used = _choose_features(path, parsed, t_idx, notes, why)
    infos = {
        j: ColumnInfo(
            name=names[j], kind="numeric" if isinstance(c, NumericColumn) else "text",
            role="target" if j == t_idx else ("feature" if j in used else "left out"),
            missing=missing_in_file[j], distinct=len(c.levels) if isinstance(c, TextColumn) else 0,
            why=why.get(j, ""),
        )
        for j, c in enumerate(columns)
    }
    fills: dict[int, float | str] = {}
    keep = _apply_missing(path, parsed, used, t_idx, data.missing, notes, fills)
    X, feature_names = _features(parsed, used, keep, notes, infos)

    target = columns[t_idx]
    all_rows = bool(keep.all())
    if isinstance(target, NumericColumn):
        t_values, levels = (target.values if all_rows else target.values[keep]), None
    else:
        t_values, levels = (target.codes if all_rows else target.codes[keep]), target.levels
    y, task, cls = encode_target(t_values, task=data.task, target_name=target_name, where=str(path), notes=notes,
                                 class_names=class_names, levels=levels)
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
        columns=[infos[j] for j in range(len(columns))],
        input_columns=[_input_column(j, infos[j], fills) for j in used],
        table_format=dict(parsed.table_format),
    )
    return Dataset(X=X, y=y, meta=meta, preview_columns=names, preview_rows=parsed.preview_rows[:PREVIEW_ROWS])
