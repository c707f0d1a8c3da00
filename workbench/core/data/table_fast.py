"""The fast table reader: pyarrow's CSV reader (C++) with progress and cancel.

The top of the file is looked at the careful reader's way (text.py: comment lines, delimiter,
header, which columns hold numbers), then pyarrow parses the body with those column types: a big
file without quotes in pieces cut at line ends, by threads at once (Arrow lets go of the
interpreter lock); other files as one stream of blocks. Numeric columns come out as float64;
text columns are dictionary encoded, and their distinct values trimmed and matched against the
missing-value words (any case). Anything this reader does not handle raises
NeedsCarefulRead and the careful reader reads the file instead (tabular.py), so a file gets the
same dataset, notes and messages from either reader:
  not UTF-8, binary or UTF-16 content, rows with another number of cells, a quote the parser
  rejects, a numeric column with a word in it (a conversion error after the first block), a
  text column that is mostly numbers (decimal commas, thousands separators, stray words), rows
  with no values, a header and no rows.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable

import numpy as np

from .progress import Progress
from .table_build import PREVIEW_ROWS, ParsedTable
from .table_columns import MISSING, NumericColumn, TextColumn, stray_limit
from .text import MAGIC, delimiter_note, looks_like_header, skip_leading_comments, sniff_delimiter, sniff_sample

HEAD_BYTES = 1 << 20  # the top of the file, for the delimiter, header, preview and a row estimate
BLOCK_BYTES = 4 << 20  # pyarrow parses (and we report progress) a block at a time
RANGE_BYTES = 8 << 20  # a big file is cut into pieces of about this size for parallel parsing
HEADER_PROBE_ROWS = 200
# pyarrow matches null values exactly; the careful reader matches MISSING in any case. The usual
# spellings are nulls at parse time; any other ("nA") leaves its column as text, and the text path
# below matches case-insensitively.
NULL_VALUES = sorted({v for t in MISSING for v in (t, t.upper(), t.title(), t.capitalize())} | {"NaN", "-NaN"})
# Matching many null words costs Arrow a third of its parsing time. Empty cells are the usual
# missing values (and "nan" parses as NaN anyway), so a file whose top shows no other missing
# word is read with these alone; a missing word further down is a conversion error, and the
# file is read again with NULL_VALUES. (Text columns need neither: their words are matched later.)
EMPTY_ONLY = [""]
COMMON_MISSING = {"", "nan"}
# a superset of what float() and the careful reader's comma rules accept (cells come trimmed)
NUMBER_LIKE = re.compile(r"^[+-]?((\d[\d_,]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d[\d_]*)?|inf|infinity|nan)$",
                         re.IGNORECASE)
OTHER_LINE_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


class NeedsCarefulRead(Exception):
    """The fast reader does not handle this file (see the module doc)."""


class _Plan:
    """What the top of the file says: where the body starts, delimiter, header, names."""

    def __init__(self, path: Path, column_names: Callable[[list[str] | None, int, list[str]], list[str]]) -> None:
        try:
            size = path.stat().st_size
            with open(path, "rb") as fh:
                raw = fh.read(HEAD_BYTES)
        except OSError:
            raise NeedsCarefulRead from None
        if not raw.strip() or raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw[:8192]:
            raise NeedsCarefulRead
        if any(raw.startswith(magic) for magic, _ in MAGIC):
            raise NeedsCarefulRead
        bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
        if size > len(raw):  # the last line of the head may be cut short
            raw = raw[: raw.rfind(b"\n") + 1]
        try:
            text = raw[bom:].decode("utf-8")
        except UnicodeDecodeError:
            raise NeedsCarefulRead from None
        if any(ch in text for ch in OTHER_LINE_BREAKS) or ("\r" in text.replace("\r\n", "")):
            raise NeedsCarefulRead  # line ends only Python's splitlines knows
        self.notes: list[str] = []
        lines = text.split("\n")
        skip = skip_leading_comments([ln.rstrip("\r") for ln in lines], self.notes)
        self.offset = bom + sum(len(ln.encode("utf-8")) + 1 for ln in lines[:skip])
        body = [ln.rstrip("\r") for ln in lines[skip:]]
        sample = sniff_sample(body)
        if not sample:
            raise NeedsCarefulRead
        self.delimiter = sniff_delimiter(sample, path.suffix.lower())
        if delimiter_note(self.delimiter):
            self.notes.append(delimiter_note(self.delimiter))
        probe_lines = [ln for ln in body[: HEADER_PROBE_ROWS + PREVIEW_ROWS + 1] if ln.strip()]
        try:
            rows = [[c.strip() for c in r] for r in csv.reader(probe_lines, delimiter=self.delimiter, skipinitialspace=True)]
        except csv.Error:
            raise NeedsCarefulRead from None
        if not rows or any(not "".join(r) for r in rows):
            raise NeedsCarefulRead  # rows with no values: the careful reader skips them with a note
        self.has_header = looks_like_header(rows[0], rows[1:HEADER_PROBE_ROWS], MISSING)
        self.n_cols = len(rows[0])
        if self.n_cols < 2:
            raise NeedsCarefulRead
        self.names = column_names(rows[0] if self.has_header else None, self.n_cols, self.notes)
        first = 1 if self.has_header else 0
        # where the rows start (after the header line: pieces of the body must not hold it)
        self.data_start = self.offset + (len(lines[skip].encode("utf-8")) + 1 if self.has_header else 0)
        self.size = size
        self.preview = rows[first:first + PREVIEW_ROWS]
        self.numeric = [_numbers_only(col) for col in zip(*rows[first:])] if len(rows) > first else []
        words = {c.lower() for r in rows[first:] for c in r} & MISSING
        self.null_values = NULL_VALUES if words - COMMON_MISSING else EMPTY_ONLY
        if len(self.numeric) != self.n_cols:
            raise NeedsCarefulRead  # rows of other lengths in the top of the file
        body_bytes = max(1, sum(len(ln.encode("utf-8")) + 1 for ln in probe_lines))
        self.estimated_rows = max(1, int((size - self.offset) * len(probe_lines) / body_bytes) - first)


def _numbers_only(cells: tuple[str, ...]) -> bool:
    """Whether a column's cells at the top of the file are numbers (or missing), as pyarrow
    parses them (it does not take the underscores float() allows)."""
    present = [c for c in cells if c.lower() not in MISSING]
    if not present:
        return False
    try:
        for c in present:
            float(c)
    except ValueError:
        return False
    return not any("_" in c for c in present)


def _options(pacsv, plan: _Plan, column_types: dict, threads: bool, null_values: list[str]) -> dict:
    return {
        "read_options": pacsv.ReadOptions(
            column_names=[f"c{j}" for j in range(plan.n_cols)], block_size=BLOCK_BYTES, use_threads=threads),
        "parse_options": pacsv.ParseOptions(delimiter=plan.delimiter, newlines_in_values=True, ignore_empty_lines=True),
        "convert_options": pacsv.ConvertOptions(
            null_values=null_values, strings_can_be_null=True, quoted_strings_can_be_null=True,
            true_values=[], false_values=[], column_types=column_types),
    }


def reading_threads() -> int:
    """Threads that parse a big file: every core, or all but one beside the app's window."""
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if os.environ.get("WORKBENCH_GUI") else cores


class _Quoted(Exception):
    """A piece holds a quote, which may hold a line break: the file cannot be cut at line ends."""


def _read_batches(path: Path, plan: _Plan, progress: Progress | None) -> list:
    """Every row as Arrow record batches: numeric columns float64, the others dictionary-encoded
    text (explicit types parse faster than inferred ones, and keep text compact).

    A big file without quotes is cut at line ends into pieces that threads parse at once (Arrow
    lets go of the interpreter lock); a file with quotes is read as one stream of blocks. The
    file is read, not memory-mapped, so its pages do not count as this process's memory.
    Progress is reported and cancel looked at between pieces (blocks)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text = pa.dictionary(pa.int32(), pa.string())
    # the top of the file says which columns are numeric; the rest must follow (a word in a
    # numeric column is a conversion error, and the careful reader takes over)
    types = {f"c{j}": pa.float64() if numeric else text for j, numeric in enumerate(plan.numeric)}
    try:
        return _read_all(pa, pacsv, path, plan, types, progress, plan.null_values)
    except pa.ArrowInvalid as exc:
        if plan.null_values is NULL_VALUES or "conversion error" not in str(exc):
            raise
    if progress is not None:
        progress.restart("rows")
    return _read_all(pa, pacsv, path, plan, types, progress, NULL_VALUES)  # missing words further down


def _read_all(pa, pacsv, path: Path, plan: _Plan, types: dict, progress: Progress | None, nulls: list[str]) -> list:
    if reading_threads() > 1 and plan.size - plan.data_start >= 2 * RANGE_BYTES:
        try:
            return _read_pieces(pa, pacsv, path, plan, types, progress, nulls)
        except _Quoted:
            pass
    return _read_stream(pa, pacsv, path, plan, types, progress, nulls)


def _read_stream(pa, pacsv, path: Path, plan: _Plan, types: dict, progress: Progress | None,
                 nulls: list[str]) -> list:
    batches, rows = [], 0
    with pa.OSFile(str(path), "rb") as fh:  # a native file: Arrow's reader threads never call into Python
        fh.seek(plan.data_start)
        with pacsv.open_csv(fh, **_options(pacsv, plan, types, True, nulls)) as reader:
            for batch in reader:
                batches.append(batch)
                rows += batch.num_rows
                if progress is not None:
                    progress.update(rows, max(rows, plan.estimated_rows))
    if progress is not None:
        progress.update(rows, rows, force=True)
    return batches


def _pieces(fh):
    """The rest of an open file in pieces of about RANGE_BYTES that end at a line end, each as
    (bytes, length): the piece is bytes[:length] (no copy); the partial line after it is read
    again with the next piece."""
    while True:
        at = fh.tell()
        chunk = fh.read(RANGE_BYTES)
        if not chunk:
            return
        cut = chunk.rfind(b"\n") + 1
        if len(chunk) < RANGE_BYTES or cut == 0:  # the end of the file (or one line longer than a piece)
            rest = fh.read() if cut == 0 and len(chunk) == RANGE_BYTES else b""
            yield chunk + rest, len(chunk) + len(rest)
            if rest:
                continue
            return
        yield chunk, cut
        fh.seek(at + cut)


def _read_pieces(pa, pacsv, path: Path, plan: _Plan, types: dict, progress: Progress | None,
                 nulls: list[str]) -> list:
    options = _options(pacsv, plan, types, False, nulls)
    workers = reading_threads()

    def parse(data: bytes, length: int) -> list:
        return pacsv.read_csv(pa.BufferReader(pa.py_buffer(data).slice(0, length)), **options).to_batches()

    results: dict[int, list] = {}
    pending: dict = {}
    rows = 0
    with open(path, "rb") as fh, ThreadPoolExecutor(max_workers=workers, thread_name_prefix="workbench-csv") as pool:
        fh.seek(plan.data_start)
        pieces = enumerate(_pieces(fh))
        more = True
        try:
            while more or pending:
                while more and len(pending) < 2 * workers:  # a few pieces in flight, not the whole file
                    k, piece = next(pieces, (None, None))
                    if piece is None:
                        more = False
                    elif piece[1] < 4096 and not piece[0][:piece[1]].strip():
                        continue  # blank lines at the end
                    elif piece[0].find(b'"', 0, piece[1]) != -1:
                        raise _Quoted
                    else:
                        pending[pool.submit(parse, *piece)] = k
                done, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    k = pending.pop(future)
                    results[k] = future.result()
                    rows += sum(b.num_rows for b in results[k])
                if progress is not None:
                    progress.update(rows, rows if not (more or pending) else max(rows, plan.estimated_rows))
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    if progress is not None:
        progress.update(rows, rows, force=True)
    return [b for k in sorted(results) for b in results[k]]


def _valid(array) -> np.ndarray | None:
    """An Arrow array's validity bitmap as a bool mask (None: no nulls). Read from the buffers:
    Arrow's own conversions import pandas or pyarrow.compute, which take longer than the read."""
    if not array.null_count:
        return None
    bits = np.unpackbits(np.frombuffer(array.buffers()[0], dtype=np.uint8), bitorder="little")
    return bits[array.offset:array.offset + len(array)].astype(bool)


def _values(array, dtype) -> np.ndarray:
    """The values buffer of a fixed-width Arrow array (float64 values, int32 dictionary indices)."""
    data = np.frombuffer(array.buffers()[1], dtype=dtype)
    return data[array.offset:array.offset + len(array)]


def _float_values(array) -> np.ndarray:
    """A float64 Arrow array as numpy, NaN where null."""
    values, valid = _values(array, np.float64), _valid(array)
    return values if valid is None else np.where(valid, values, np.nan)


def _dictionary_codes(array) -> np.ndarray:
    """A dictionary array's indices as int32, -1 where null."""
    codes, valid = _values(array.indices, np.int32), _valid(array.indices)
    return codes if valid is None else np.where(valid, codes, -1).astype(np.int32)


def _text_column(pa, chunks) -> NumericColumn | TextColumn:
    """A dictionary-encoded column, worked out on its distinct values (few, for real categories):
    trimmed, missing words (any case) dropped; numbers after all (cells with spaces around
    them), else text with sorted levels. NeedsCarefulRead for mostly-number columns."""
    column = pa.table({"v": pa.chunked_array(chunks)}).unify_dictionaries().column("v")
    distinct = [s.strip() for s in column.chunk(0).dictionary.to_pylist()] if column.num_chunks else []
    codes = np.concatenate([_dictionary_codes(c) for c in column.chunks]).astype(np.int32, copy=False)
    present = np.array([s.lower() not in MISSING for s in distinct], dtype=bool)
    numbers = np.full(len(distinct), np.nan)
    try:
        for i in np.flatnonzero(present):
            numbers[i] = float(distinct[i])
        lookup = np.append(numbers, np.nan)  # code -1 (missing) -> NaN
        return NumericColumn([lookup[codes]])
    except ValueError:
        pass
    counts = np.bincount(codes[codes >= 0], minlength=len(distinct))
    number_like = np.array([bool(NUMBER_LIKE.match(s)) for s in distinct], dtype=bool) & present
    n_present = int(counts[present].sum())
    if n_present - int(counts[number_like].sum()) <= stray_limit(n_present):
        raise NeedsCarefulRead  # numbers with a few odd cells: the careful reader names them
    levels, inverse = np.unique(np.asarray(distinct, dtype=object)[present].astype(str), return_inverse=True)
    to_level = np.full(len(distinct) + 1, -1, dtype=np.int32)  # the extra slot: code -1 stays -1
    to_level[np.flatnonzero(present)] = inverse
    return TextColumn(levels, to_level[codes])


def read_fast(path: Path, progress: Progress | None,
              column_names: Callable[[list[str] | None, int, list[str]], list[str]]) -> ParsedTable:
    """The typed columns of `path`; NeedsCarefulRead when the careful reader must read it, and
    LoadCancelled when `progress` is cancelled. `column_names` names the columns (tabular.py)."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a dependency; the careful reader still works
        raise NeedsCarefulRead from None
    plan = _Plan(path, column_names)
    try:
        batches = _read_batches(path, plan, progress)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        raise NeedsCarefulRead from None
    n_rows = sum(b.num_rows for b in batches)
    if n_rows == 0:
        raise NeedsCarefulRead
    columns: list[NumericColumn | TextColumn] = []
    for j in range(plan.n_cols):
        if progress is not None:
            progress.check()
        chunks = [b.column(j) for b in batches]
        if chunks[0].type == pa.float64():  # views on Arrow's buffers (NaN-filled copies where null)
            columns.append(NumericColumn([_float_values(c) for c in chunks]))
        else:
            columns.append(_text_column(pa, chunks))
    del batches
    all_null = np.ones(n_rows, dtype=bool)
    for column in columns:
        all_null &= ~column.present
    if all_null.any():
        raise NeedsCarefulRead  # rows with no values: the careful reader skips them with a note
    return ParsedTable(plan.names, columns, plan.notes, [], None, plan.preview,
                       {"delimiter": plan.delimiter, "header": plan.has_header})
