"""CSV/TSV files -> Dataset.

Two readers make typed columns of a file; table_build.py turns them into the Dataset:
* the fast reader (table_fast.py: pyarrow's CSV reader, streamed in blocks with progress and
  cancel) reads ordinary files: UTF-8, a consistent number of cells per row, numeric columns
  that hold numbers;
* the careful reader (text.py + table_columns.py: Python's csv module, cell by cell) reads
  everything else and knows each row's file line, so its messages name lines and values:
  other encodings, ragged rows, stray words in numeric columns, decimal commas, thousands
  separators. Whenever the fast reader meets something it does not handle, or a message needs
  line numbers, the careful reader reads the file again, so every file gets the same dataset
  and the same messages from either.
* Missing values are empty cells and NA, N/A, NaN, null, None, ?, #N/A (any case).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .progress import Progress
from .table_build import PREVIEW_ROWS, NeedsLines, ParsedTable, build_dataset
from .table_columns import MISSING, check_ragged, type_columns
from .table_fast import NeedsCarefulRead, read_fast
from .text import read_table
from .types import Dataset


def column_names(header: list[str] | None, n: int, notes: list[str]) -> list[str]:
    """Names for n columns: the header's (empty ones named colN, duplicates numbered)."""
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


def read_careful(path: Path) -> ParsedTable:
    """The careful reader: every cell through Python's csv module, with its file line."""
    table = read_table(path, MISSING)
    notes = list(table.notes)
    n_cols = len(table.header) if table.header is not None else len(table.rows[0])
    names = column_names(table.header, n_cols, notes)
    rows = check_ragged(path, table, n_cols)
    lines = np.array(table.lines)
    column_notes: list[str] = []
    columns = type_columns(rows, names, lines, table.delimiter, column_notes) if n_cols >= 2 else []
    preview = [[c.strip() for c in r] for r in rows[:PREVIEW_ROWS]]
    return ParsedTable(names, columns, notes, column_notes, lines, preview,
                       {"delimiter": table.delimiter, "header": table.header is not None})


def load_table(path: Path, data, *, source: str | None = None, class_names: list[str] | None = None,
               progress: Progress | None = None) -> Dataset:
    """A table file as a Dataset (see the module doc). Raises DataError; LoadCancelled when
    `progress` was cancelled."""
    try:
        parsed = read_fast(path, progress, column_names)
        return build_dataset(path, parsed, data, source=source, class_names=class_names)
    except (NeedsCarefulRead, NeedsLines):
        pass
    if progress is not None:
        progress.restart("rows (careful reading)")
    return build_dataset(path, read_careful(path), data, source=source, class_names=class_names)
