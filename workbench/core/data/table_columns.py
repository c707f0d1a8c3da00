"""The typed columns of a table, whichever reader made them, and the careful reader's typing.

A column is either numeric (float64 values, NaN where missing) or text (categorical: sorted
distinct values and a code per row). The fast reader (table_fast.py) types columns with
pyarrow; the careful reader (text.py + `type_columns` here) types them cell by cell, which is
what gives the line-by-line diagnostics:

* a column whose cells are numbers except a few (>= 90% numbers, and the others at most 5% of
  the cells or at most 20 cells) is numeric: those few cells ('unknown', '-', ...) count as
  missing values, and the notes name their lines and values;
* a decimal comma is accepted when the delimiter is not a comma; thousands separators as in
  "50,000" or "1,234.5" are removed; the notes say which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .text import THOUSANDS, TextTable
from .types import DataError

MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "#n/a", "<na>", "-nan"}
NUMERIC_MIN_FRACTION = 0.9  # a column is numeric when this share of its cells are numbers ...
STRAY_MAX_FRACTION = 0.05  # ... and the other cells are at most this share ...
STRAY_MAX_CELLS = 20  # ... or at most this many; they then count as missing values


@dataclass
class NumericColumn:
    """float64 values, NaN where missing (or not a number), kept as the reader made them: one
    array (careful reader) or pieces in row order (fast reader: one per parsed block, so a big
    column is never copied into one piece unless a rare step needs that)."""

    chunks: list[np.ndarray]
    stray_text: str = ""  # careful reader: "column 'a' is numeric except line 82 ('unknown')"
    stray: np.ndarray | None = None  # careful reader: present cells that are not numbers
    _mask: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def values(self) -> np.ndarray:
        """All values in one writable array (joined on first use)."""
        if len(self.chunks) != 1 or not self.chunks[0].flags.writeable:
            self.chunks = [np.concatenate(self.chunks) if len(self.chunks) != 1 else self.chunks[0].copy()]
        return self.chunks[0]

    @property
    def present(self) -> np.ndarray:
        if self._mask is None:
            self._mask = ~np.isnan(np.concatenate(self.chunks) if len(self.chunks) > 1 else self.chunks[0])
        return self._mask

    def infinite(self) -> np.ndarray | None:
        """Mask of the infinite values, or None when there are none."""
        if not any(np.isinf(c).any() for c in self.chunks):
            return None
        return np.isinf(self.values)

    def fill_missing(self, value: float) -> None:
        self.values[~self.present] = value
        self._mask = None


@dataclass
class TextColumn:
    levels: np.ndarray  # sorted distinct values of the present cells (str)
    codes: np.ndarray  # int32 index into levels per row; -1 where missing
    _mask: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def present(self) -> np.ndarray:
        if self._mask is None:
            self._mask = self.codes >= 0
        return self._mask

    def fill_missing(self, code: int) -> None:
        self.codes[~self.present] = code
        self._mask = None


Column = NumericColumn | TextColumn


def text_column(values: list[str] | np.ndarray, present: np.ndarray) -> TextColumn:
    """A TextColumn from (stripped) cell strings and a mask of the present ones."""
    strings = np.asarray(values, dtype=str)
    codes = np.full(len(strings), -1, dtype=np.int32)
    if present.any():
        levels, inverse = np.unique(strings[present], return_inverse=True)
        codes[present] = inverse.astype(np.int32)
    else:
        levels = np.array([], dtype=str)
    return TextColumn(levels, codes)


def lines_text(lines: list[int], limit: int = 5) -> str:
    """"line 4" / "lines 4, 9 and 3 more (5 in all)"."""
    shown = ", ".join(str(n) for n in lines[:limit])
    word = "line" if len(lines) == 1 else "lines"
    more = f" and {len(lines) - limit} more ({len(lines)} in all)" if len(lines) > limit else ""
    return f"{word} {shown}{more}"


def check_ragged(path: Path, table: TextTable, n_cols: int) -> list[list[str]]:
    """The rows, each with n_cols cells ("1,2,3," exports lose their empty last cell); a
    DataError naming the first line with another number of cells."""
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
            others = f" ({len(bad) - 1} more row{'s' if len(bad) > 2 else ''} differ: {lines_text([table.lines[j] for j in bad[1:]])})"
        sep = {",": "','", "\t": "tab", ";": "';'", "|": "'|'"}.get(table.delimiter, repr(table.delimiter))
        raise DataError(
            f"{path}, line {table.lines[i]}: expected {n_cols} columns (as in {what} on line {table.header_line}), "
            f"found {len(rows[i])}{others}. Check that line for a missing or extra separator ({sep}), "
            "or quote values that contain one."
        )
    return rows


def stray_limit(n_present: int) -> int:
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


def parse_numeric(
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
    limit = stray_limit(len(kept))
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


def type_columns(rows: list[list[str]], names: list[str], lines: np.ndarray, delimiter: str,
                 notes: list[str]) -> list[Column]:
    """The careful reader's column typing, cell by cell (see the module doc); notes about commas
    and stray cells go to `notes`."""
    decimal_comma = delimiter != ","
    typed: list[Column] = []
    for j, col in enumerate(zip(*rows) if rows else [[] for _ in names]):
        col = list(col)
        # a whole clean numeric column parses at once ("nan" -> missing)
        try:
            typed.append(NumericColumn([np.array(col, dtype=np.float64)]))
            continue
        except ValueError:
            pass
        col = [v.strip() for v in col]
        present = np.array([v.lower() not in MISSING for v in col], dtype=bool)
        result = parse_numeric(col, present, decimal_comma)
        if result is None:
            typed.append(text_column(col, present))
            continue
        values, bad, how = result
        if how == "decimal":
            notes.append(f"read decimal commas in column '{names[j]}'")
        elif how == "thousands":
            i = next(i for i, v in enumerate(col) if present[i] and not bad[i] and "," in v)
            notes.append(f"column '{names[j]}': read '{col[i]}' as {values[i]:.15g} (thousands separators)")
        column = NumericColumn([values])
        if bad.any():
            column.stray, column.stray_text = bad, _stray_text(names[j], lines, col, bad)
            notes.append(f"{column.stray_text}; such cells count as missing values")
        typed.append(column)
    return typed
