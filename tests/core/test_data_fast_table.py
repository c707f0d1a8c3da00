"""The fast table reader (pyarrow) gives the same dataset, notes and messages as the careful
reader (Python's csv module, cell by cell), and hands a file over to it whenever it must."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from workbench.core.data import DataError, LoadCancelled, load_dataset
from workbench.core.data import table_fast, tabular
from workbench.core.spec import DataSpec

G = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    """Every load here really reads the file (the cache would answer the second one)."""
    monkeypatch.setenv("WORKBENCH_DATA_CACHE", "off")

N = 120


def _rows(*columns) -> list[str]:
    return [",".join(str(c[i]) for c in columns) for i in range(len(columns[0]))]


NUMS = np.round(G.normal(size=N), 4)
INTS = G.integers(0, 50, N)
COLORS = G.choice(["red", "green", "blue"], N)
LABELS = G.choice(["yes", "no"], N)

FILES = {
    "numeric_classes": ["a,b,label", *_rows(NUMS, INTS, G.integers(0, 3, N))],
    "text_feature_and_label": ["x,color,label", *_rows(NUMS, COLORS, LABELS)],
    "regression": ["x,n,price", *_rows(NUMS, INTS, np.round(G.normal(2e5, 5e4, N), 2))],
    "semicolons": ["x;color;label", *[r.replace(",", ";") for r in _rows(NUMS, COLORS, LABELS)]],
    "tabs": ["x\tcolor\tlabel", *[r.replace(",", "\t") for r in _rows(NUMS, COLORS, LABELS)]],
    "comments_on_top": ["# exported by a tool", "# another comment", "", "x,color,label", *_rows(NUMS, COLORS, LABELS)],
    "no_header": _rows(NUMS, INTS, LABELS),
    "duplicate_names": ["x,x,label", *_rows(NUMS, INTS, LABELS)],
    "spaces_around": ["x, color, label", *[r.replace(",", ", ") for r in _rows(NUMS, COLORS, LABELS)]],
    "quoted_text": ["x,color,label", *_rows(NUMS, [f'"{c} shade"' for c in COLORS], LABELS)],
    "identifier": ["customer_id,x,label", *_rows(G.permutation(np.arange(1000, 1000 + N)), NUMS, LABELS)],
    "free_text_left_out": ["x,comment,label", *_rows(NUMS, [f"note {i}" for i in range(N)], LABELS)],
    "true_false_and_dates": ["flag,day,x,label", *_rows(G.choice(["true", "false"], N),
                                                        [f"2020-01-{1 + i % 28:02d}" for i in range(N)], NUMS, LABELS)],
    "empty_column": ["x,empty,label", *_rows(NUMS, [""] * N, LABELS)],
    "crlf": ["x,color,label\r", *[r + "\r" for r in _rows(NUMS, COLORS, LABELS)]],
    "bom": ["\ufeffx,color,label", *_rows(NUMS, COLORS, LABELS)],
}
MISSING_FILE = ["x,color,label", *_rows([v if (i + 5) % 17 else "NA" for i, v in enumerate(NUMS)],
                                       [c if (i + 3) % 13 else "" for i, c in enumerate(COLORS)],
                                       [v if (i + 1) % 29 else "n/a" for i, v in enumerate(LABELS)])]


def _write(tmp_path, name, lines):
    path = tmp_path / f"{name}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _careful(monkeypatch):
    def refuse(*a, **k):
        raise table_fast.NeedsCarefulRead

    monkeypatch.setattr(tabular, "read_fast", refuse)


def _same(a, b):
    assert np.array_equal(a.X, b.X) and a.X.dtype == b.X.dtype
    assert np.array_equal(a.y, b.y) and a.y.dtype == b.y.dtype
    assert a.meta == b.meta
    assert a.preview_columns == b.preview_columns and a.preview_rows == b.preview_rows


def _spy(monkeypatch):
    used = []
    real = tabular.read_fast

    def spy(*a, **k):
        out = real(*a, **k)
        used.append(True)
        return out

    monkeypatch.setattr(tabular, "read_fast", spy)
    return used


@pytest.mark.parametrize("name", sorted(FILES))
def test_fast_reader_gives_what_the_careful_reader_gives(tmp_path, monkeypatch, name):
    path = _write(tmp_path, name, FILES[name])
    spec = DataSpec(source=str(path))
    used = _spy(monkeypatch)
    fast = load_dataset(spec)
    assert used, "the fast reader should read this file"
    _careful(monkeypatch)
    _same(fast, load_dataset(spec))


@pytest.mark.parametrize("policy", ["drop", "impute"])
def test_missing_values_drop_and_impute_match(tmp_path, monkeypatch, policy):
    path = _write(tmp_path, "missing", MISSING_FILE)
    spec = DataSpec(source=str(path), missing=policy)
    used = _spy(monkeypatch)
    fast = load_dataset(spec)
    assert used
    _careful(monkeypatch)
    _same(fast, load_dataset(spec))


def test_missing_values_error_names_lines_through_the_careful_reader(tmp_path):
    path = _write(tmp_path, "missing", MISSING_FILE)
    with pytest.raises(DataError) as err:
        load_dataset(DataSpec(source=str(path)))
    assert "column 'x' (lines 14, 31, 48" in str(err.value) and "data.missing" in str(err.value)


def test_rows_with_no_values_are_skipped_with_a_note_either_way(tmp_path):
    lines = FILES["text_feature_and_label"][:40] + [",,"] + FILES["text_feature_and_label"][40:]
    ds = load_dataset(DataSpec(source=str(_write(tmp_path, "blank", lines))))
    assert ds.meta.n_samples == N and "skipped 1 row with no values" in ds.meta.notes


def test_a_stray_word_after_the_first_block_still_gets_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(table_fast, "BLOCK_BYTES", 1024)  # many blocks in a small file
    values = [f"{v}" for v in np.round(G.normal(size=2000), 3)]
    values[1500] = "unknown"
    path = _write(tmp_path, "stray", ["x,y,label", *_rows(values, np.arange(2000) % 7, np.arange(2000) % 2)])
    with pytest.raises(DataError) as err:
        load_dataset(DataSpec(source=str(path)))
    assert "line 1502 ('unknown')" in str(err.value)
    ds = load_dataset(DataSpec(source=str(path), missing="drop"))
    assert ds.meta.n_samples == 1999


def test_fast_reader_reports_progress_and_can_be_cancelled(tmp_path, monkeypatch):
    monkeypatch.setattr(table_fast, "BLOCK_BYTES", 4096)
    n = 5000
    path = _write(tmp_path, "big", ["a,b,label", *_rows(np.arange(n) * 0.5, np.arange(n) % 11, np.arange(n) % 2)])
    seen = []
    ds = load_dataset(DataSpec(source=str(path)), on_progress=seen.append)
    assert ds.meta.n_samples == n
    assert seen and seen[-1].done == n and seen[-1].unit == "rows"
    assert all(b.done >= a.done for a, b in zip(seen, seen[1:]))
    assert "rows/s" in seen[-1].text()

    cancel = threading.Event()

    def cancel_midway(p):
        if p.done > 1000:
            cancel.set()

    with pytest.raises(LoadCancelled):
        load_dataset(DataSpec(source=str(path)), on_progress=cancel_midway, cancel=cancel)


def test_columns_describe_kinds_roles_and_missing(tmp_path):
    path = _write(tmp_path, "missing", MISSING_FILE)
    ds = load_dataset(DataSpec(source=str(path), missing="drop"))
    cols = {c.name: c for c in ds.meta.columns}
    assert cols["x"].kind == "numeric" and cols["x"].role == "feature" and cols["x"].missing == 7
    assert cols["color"].kind == "text" and cols["color"].levels == ["blue", "green", "red"]
    assert cols["label"].role == "target" and cols["label"].missing == 4
    start, stop = cols["color"].features
    assert ds.meta.feature_names[start:stop] == ["color=blue", "color=green", "color=red"]


@pytest.mark.parametrize("name", ["numeric_classes", "text_feature_and_label", "semicolons", "comments_on_top",
                                  "no_header", "crlf", "late_quote"])
def test_a_big_file_read_in_pieces_by_threads_gives_the_same(tmp_path, monkeypatch, name):
    monkeypatch.setattr(table_fast, "RANGE_BYTES", 256)  # many pieces in a small file
    lines = FILES["text_feature_and_label" if name == "late_quote" else name]
    head = {"no_header": 0, "comments_on_top": 4}.get(name, 1)  # lines above the rows
    lines = lines[:head] + lines[head:] * 8  # a bigger body
    if name == "late_quote":  # a quote far down: the pieces stop and one stream reads the file
        lines[-3] = '0.5,"red, dark",yes'

    path = _write(tmp_path, name, lines)
    spec = DataSpec(source=str(path))
    monkeypatch.setattr(table_fast, "reading_threads", lambda: 2)
    with open(path, "rb") as fh:
        assert len(list(table_fast._pieces(fh))) > 4
    used = _spy(monkeypatch)
    fast = load_dataset(spec)
    assert used
    _careful(monkeypatch)
    _same(fast, load_dataset(spec))


@pytest.mark.parametrize("policy", ["drop", "impute"])
def test_a_missing_word_below_the_top_of_the_file_is_read_the_same(tmp_path, monkeypatch, policy):
    values = [f"{v}" for v in np.round(G.normal(size=600), 3)]
    values[500] = "NA"  # far below the rows the reader looks at first: read again with every missing word
    path = _write(tmp_path, "late_na", ["x,n,label", *_rows(values, np.arange(600) % 9, np.arange(600) % 2)])
    spec = DataSpec(source=str(path), missing=policy)
    used = _spy(monkeypatch)
    fast = load_dataset(spec)
    assert used and fast.meta.n_samples == (599 if policy == "drop" else 600)
    _careful(monkeypatch)
    _same(fast, load_dataset(spec))
