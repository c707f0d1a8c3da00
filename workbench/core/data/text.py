"""Reading a delimited text file: decoding, delimiter sniffing, rows with their line numbers.

Knows nothing about features or targets; tabular.py builds the dataset from what this returns.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .types import DataError

DELIMITERS = (",", "\t", ";", "|")
DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe", " ": "space"}
SNIFF_LINES = 50

MAGIC = [
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook?). Save it as CSV (File > Save As > CSV) and load that"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook. Save it as CSV and load that"),
    (b"\x89PNG", "a PNG image. For images, give the folder that holds one subfolder per class"),
    (b"\xff\xd8\xff", "a JPEG image. For images, give the folder that holds one subfolder per class"),
    (b"\x93NUMPY", "a NumPy array. Give it the .npy extension"),
    (b"PAR1", "a Parquet file, which is not supported. Export it as CSV"),
    (b"%PDF", "a PDF document, not a data table"),
]


@dataclass
class TextTable:
    header: list[str] | None  # the raw first row if it is a header
    rows: list[list[str]]  # data rows, cells as read (not stripped)
    lines: list[int]  # 1-based file line on which each data row starts
    header_line: int  # line of the header (or of the first row when there is none)
    delimiter: str
    notes: list[str] = field(default_factory=list)


def decode(path: Path) -> tuple[str, list[str]]:
    """The file's text. Tries UTF-8 (with or without BOM), UTF-16 (BOM), Windows-1252, Latin-1."""
    try:
        raw = path.read_bytes()
    except PermissionError:
        raise DataError(f"{path}: permission denied; check the file's permissions") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, but a file was expected here") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if not raw.strip():
        raise DataError(f"{path} is empty: a data file needs a header row and at least one row of values")
    notes: list[str] = []
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), ["read as UTF-16 text"]
        except UnicodeDecodeError:
            pass
    head = raw[:8192]
    for magic, what in MAGIC:
        if head.startswith(magic):
            raise DataError(f"{path} is not a text table: it looks like {what}.")
    if b"\x00" in head:
        raise DataError(
            f"{path} is not a text file (it contains binary data). Workbench reads CSV/TSV text, "
            ".npy/.npz arrays and image folders."
        )
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc != "utf-8-sig":
            notes.append(f"the file is not valid UTF-8; read it as {'Windows-1252' if enc == 'cp1252' else 'Latin-1'}")
        break
    sample = text[:4096]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\f\v")
    if control > 0.05 * len(sample):
        raise DataError(
            f"{path} is not a text file (it is mostly unreadable characters). Workbench reads CSV/TSV text, "
            ".npy/.npz arrays and image folders."
        )
    return text, notes


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    try:
        return [len(r) for r in csv.reader(lines, delimiter=delimiter, skipinitialspace=True)]
    except csv.Error:
        return []


def sniff_delimiter(lines: list[str], suffix: str) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of fields.

    csv.Sniffer proposes; its answer is kept only if it splits consistently. Otherwise the
    consistent candidate with the most fields wins (ties: tab for .tsv/.tab, then , \\t ; |);
    if none is consistent, the one whose most common field count (> 1) covers most lines.
    """
    consistent: dict[str, int] = {}
    partial: dict[str, tuple[float, int]] = {}
    for d in DELIMITERS:
        counts = _field_counts(lines, d)
        if not counts:
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        if mode > 1 and freq == len(counts):
            consistent[d] = mode
        elif mode > 1:
            partial[d] = (freq / len(counts), mode)
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in consistent:
        return sniffed
    if consistent:
        preferred = ["\t", ",", ";", "|"] if suffix in (".tsv", ".tab") else list(DELIMITERS)
        return max(consistent, key=lambda d: (consistent[d], -preferred.index(d)))
    if partial:
        return max(partial, key=lambda d: partial[d])
    return "\t" if suffix in (".tsv", ".tab") else ","


THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,234 / -12,345,678.5


def _is_number(cell: str) -> bool:
    if THOUSANDS.match(cell):
        return True
    try:
        float(cell.replace(",", ".") if cell.count(",") == 1 else cell)
        return True
    except ValueError:
        return False


def looks_like_header(first: list[str], body: list[list[str]], missing: set[str]) -> bool:
    """A header has a text cell above a column that is numeric below; for all-text files, a
    first row whose values never reappear in their columns."""
    body = [r for r in body[:200] if len(r) == len(first)]
    if not body:
        return not all(_is_number(c) for c in first if c)
    columns = list(zip(*body))
    for cell, col in zip(first, columns):
        present = [v for v in col if v.lower() not in missing]
        if cell and not _is_number(cell) and present and all(_is_number(v) for v in present):
            return True
    if any(_is_number(c) for c in first if c):
        return False
    # every first-row cell is text and so is every column: a header unless its values recur below
    return not any(cell and cell in set(col) for cell, col in zip(first, columns))


def skip_leading_comments(lines: list[str], notes: list[str]) -> int:
    """How many lines at the top are blank or comments ('# ...'); a note says so."""
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].lstrip().startswith("#")):
        skip += 1
    comments = sum(1 for ln in lines[:skip] if ln.strip())
    if comments:
        notes.append(f"skipped {comments} comment line{'s' if comments > 1 else ''} at the top (starting with '#')")
    return skip


def sniff_sample(body_lines: list[str]) -> list[str]:
    """The first non-blank lines, for sniff_delimiter."""
    return [ln for ln in body_lines[: SNIFF_LINES * 2] if ln.strip()][:SNIFF_LINES]


def delimiter_note(delimiter: str) -> str | None:
    if delimiter == ",":
        return None
    return f"columns separated by {DELIMITER_NAMES.get(delimiter, repr(delimiter))}s"


def read_table(path: Path, missing: set[str]) -> TextTable:
    text, notes = decode(path)
    suffix = path.suffix.lower()

    all_lines = text.splitlines()
    skip = skip_leading_comments(all_lines, notes)
    body_lines = all_lines[skip:]
    sample = sniff_sample(body_lines)
    if not sample:
        raise DataError(f"{path} has no rows (only comments or blank lines)")
    delimiter = sniff_delimiter(sample, suffix)

    reader = csv.reader(io.StringIO("\n".join(body_lines)), delimiter=delimiter, skipinitialspace=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    blank_rows = 0
    prev_end = 0
    try:
        for row in reader:
            start = skip + prev_end + 1
            prev_end = reader.line_num
            if not row:
                continue
            if not "".join(row).strip():
                blank_rows += 1
                continue
            rows.append(row)  # cells are stripped later, per column, only where needed
            lines.append(start)
    except csv.Error as exc:
        raise DataError(
            f"{path}, line {skip + reader.line_num}: cannot parse the row ({exc}); check for an unclosed quote (\")"
        ) from None
    if blank_rows:
        notes.append(f"skipped {blank_rows} row{'s' if blank_rows > 1 else ''} with no values")
    if not rows:
        raise DataError(f"{path} has no rows")

    rows[0] = [c.strip() for c in rows[0]]
    probe = [[c.strip() for c in r] for r in rows[1:200]]
    has_header = looks_like_header(rows[0], probe, missing)
    header = rows[0] if has_header else None
    header_line = lines[0]
    if has_header:
        rows, lines = rows[1:], lines[1:]
    if not rows:
        raise DataError(
            f"{path} has a header row but no data rows below it "
            f"(columns: {', '.join(header or [])}); add rows of values"
        )
    if delimiter_note(delimiter):
        notes.append(delimiter_note(delimiter))
    return TextTable(header, rows, lines, header_line, delimiter, notes)
