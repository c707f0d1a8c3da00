"""The column names of a table file, read from its first lines only: what the app offers as
targets when the whole file could not be loaded (the error names a column; the person picks
another)."""

from __future__ import annotations

import csv
from pathlib import Path

from .text import sniff_delimiter

HEAD_BYTES = 65536


def header_columns(path: str | Path) -> list[str]:
    """Names from the header row of a CSV/TSV (col1 ... colN when the first row is numbers, as
    the loader names them); [] when the file cannot be read as a table."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(HEAD_BYTES)
    except OSError:
        return []
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) > 1 and len(raw) == HEAD_BYTES:
        lines = lines[:-1]  # the last line may be cut off
    if not lines:
        return []
    delimiter = sniff_delimiter(lines[:50], path.suffix.lower())
    try:
        first = next(csv.reader([lines[0]], delimiter=delimiter, skipinitialspace=True))
    except (csv.Error, StopIteration):
        return []
    if len(first) < 2:
        return []
    cells = [c.strip() for c in first]
    numbers = 0
    for cell in cells:
        try:
            float(cell)
            numbers += 1
        except ValueError:
            pass
    if numbers == len(cells):
        return [f"col{i + 1}" for i in range(len(cells))]
    return [c or f"col{i + 1}" for i, c in enumerate(cells)]
