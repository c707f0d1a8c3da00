"""CSV/TSV loading: sniffing, headers, types, one-hot, missing values, targets, broken files."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.data import DataError, load_dataset
from workbench.core.spec import DataSpec


def load(path, **kw):
    return load_dataset(DataSpec(source=str(path), **kw))


def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_text(text, encoding=encoding)
    return p


def test_basic_csv_default_target_is_last_column(tmp_path):
    p = write(tmp_path, "a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    ds = load(p)
    assert ds.X.dtype == np.float32 and ds.X.shape == (4, 2)
    assert ds.y.dtype == np.int64 and ds.y.tolist() == [0, 1, 0, 1]
    m = ds.meta
    assert (m.kind, m.task, m.target_name) == ("tabular", "classification", "label")
    assert m.class_names == ["0", "1"] and m.class_counts == [2, 2]
    assert m.feature_names == ["a", "b"] and m.input_shape == (2,) and m.target_width == 2
    assert any("last column" in n and "label" in n for n in m.notes)
    assert ds.preview_columns == ["a", "b", "label"]
    assert ds.preview_rows[0] == ["1", "2", "0"]
    assert m.source == str(p)


def test_target_by_name_and_regression_inferred(tmp_path):
    p = write(tmp_path, "price,rooms,area\n100.5,3,50\n200.25,4,80\n150.0,3,60\n120.75,2,55\n")
    ds = load(p, target="price")
    assert ds.meta.task == "regression" and ds.meta.target_name == "price"
    assert ds.y.dtype == np.float32 and ds.y.shape == (4, 1)
    assert ds.meta.class_names == [] and ds.meta.class_counts == [] and ds.meta.target_width == 1
    assert ds.meta.feature_names == ["rooms", "area"]
    np.testing.assert_allclose(ds.y[:, 0], [100.5, 200.25, 150.0, 120.75])


def test_target_name_is_case_insensitive(tmp_path):
    p = write(tmp_path, "x,Species\n1,a\n2,b\n")
    assert load(p, target="species").meta.target_name == "Species"


def test_missing_target_column_lists_columns_and_fix(tmp_path):
    p = write(tmp_path, "a,b,c\n1,2,0\n3,4,1\n")
    with pytest.raises(DataError) as err:
        load(p, target="price")
    msg = str(err.value)
    assert "'price'" in msg and "a, b, c" in msg and "data.target" in msg and "--target" in msg
    assert str(p) in msg


def test_string_labels_become_sorted_class_names(tmp_path):
    p = write(tmp_path, "x,y,animal\n1,1,dog\n2,2,cat\n3,3,dog\n4,4,bird\n")
    ds = load(p)
    assert ds.meta.class_names == ["bird", "cat", "dog"]
    assert ds.y.tolist() == [2, 1, 2, 0]
    assert ds.meta.class_counts == [1, 1, 2]


def test_integer_labels_with_many_levels_are_regression_and_task_override(tmp_path):
    rows = "\n".join(f"{i},{i * 7 % 50}" for i in range(60))
    p = write(tmp_path, "x,count\n" + rows + "\n")
    assert load(p).meta.task == "regression"  # 50 distinct values: not classes
    forced = load(p, task="classification")
    assert forced.meta.task == "classification" and forced.meta.class_names[:3] == ["0", "1", "2"]
    assert load(write(tmp_path, "x,c\n1,1\n2,2\n3,1\n", "b.csv"), task="regression").meta.task == "regression"


def test_integer_class_names_sort_numerically(tmp_path):
    rows = "\n".join(f"{i},{[2, 10, 9][i % 3]}" for i in range(30))
    ds = load(write(tmp_path, "x,label\n" + rows + "\n"))
    assert ds.meta.class_names == ["2", "9", "10"]


def test_text_target_cannot_be_regression(tmp_path):
    p = write(tmp_path, "x,animal\n1,dog\n2,cat\n")
    with pytest.raises(DataError, match="data.task"):
        load(p, task="regression")


def test_single_class_target_is_an_error(tmp_path):
    p = write(tmp_path, "x,label\n1,yes\n2,yes\n3,yes\n")
    with pytest.raises(DataError) as err:
        load(p)
    assert "single class" in str(err.value) and "'yes'" in str(err.value) and "label" in str(err.value)


def test_categorical_features_are_one_hot_encoded(tmp_path):
    p = write(tmp_path, "size,color,label\n1,red,a\n2,blue,b\n3,red,a\n4,green,b\n")
    ds = load(p)
    assert ds.meta.feature_names == ["size", "color=blue", "color=green", "color=red"]
    assert ds.X.shape == (4, 4)
    np.testing.assert_array_equal(ds.X[:, 1:], [[0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert any("one-hot" in n and "'color'" in n and "3 values" in n for n in ds.meta.notes)


def test_identifier_like_text_column_is_left_out_with_a_note(tmp_path):
    rows = "\n".join(f"person{i},{i % 5},{i % 2}" for i in range(150))
    ds = load(write(tmp_path, "name,x,label\n" + rows + "\n"))
    assert ds.meta.feature_names == ["x"]
    assert any("'name'" in n and "left out" in n for n in ds.meta.notes)


@pytest.mark.parametrize(
    "text,name",
    [
        ("a\tb\tlabel\n1.5\t2\tx\n3\t4\ty\n", "data.tsv"),
        ("a\tb\tlabel\n1.5\t2\tx\n3\t4\ty\n", "data.txt"),
        ("a;b;label\n1.5;2;x\n3;4;y\n", "data.csv"),
        ("a|b|label\n1.5|2|x\n3|4|y\n", "data.csv"),
        ("a, b, label\n1.5, 2, x\n3, 4, y\n", "data.csv"),
    ],
)
def test_delimiter_is_sniffed(tmp_path, text, name):
    ds = load(write(tmp_path, text, name))
    assert ds.meta.feature_names == ["a", "b"]
    np.testing.assert_allclose(ds.X, [[1.5, 2], [3, 4]])
    assert ds.meta.class_names == ["x", "y"]


def test_semicolon_csv_with_decimal_commas(tmp_path):
    ds = load(write(tmp_path, "a;b;label\n1,5;2;x\n3,25;4;y\n"))
    np.testing.assert_allclose(ds.X, [[1.5, 2], [3.25, 4]])
    assert any("decimal commas" in n for n in ds.meta.notes)


def test_quoted_fields_with_delimiters_inside(tmp_path):
    ds = load(write(tmp_path, 'x,city,label\n1,"Paris, France",a\n2,"Rome, Italy",b\n'))
    assert "city=Paris, France" in ds.meta.feature_names


def test_no_header_detected(tmp_path):
    ds = load(write(tmp_path, "1,2,0\n3,4,1\n5,6,0\n"))
    assert ds.X.shape == (3, 2) and ds.meta.target_name == "col3"
    assert any("no header" in n for n in ds.meta.notes)


def test_bom_latin1_comments_blank_lines_and_trailing_delimiters(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes("\ufeffa,b,label\n1,2,caf\u00e9\n\n3,4,th\u00e9\n".encode("utf-8"))
    assert load(p).meta.class_names == ["café", "thé"]
    p.write_bytes("a,b,label\n1,2,caf\u00e9\n3,4,th\u00e9\n".encode("latin-1"))
    ds = load(p)
    assert ds.meta.class_names == ["café", "thé"] and any("UTF-8" in n for n in ds.meta.notes)
    ds = load(write(tmp_path, "# exported\n# by a tool\na,b,label\n1,2,0,\n3,4,1,\n"))
    assert ds.X.shape == (2, 2) and any("comment" in n for n in ds.meta.notes)


def test_utf16_excel_text_export(tmp_path):
    p = tmp_path / "excel.txt"
    p.write_bytes("a\tb\tlabel\r\n1\t2\tx\r\n3\t4\ty\r\n".encode("utf-16"))
    assert load(p).X.shape == (2, 2)


# ---- missing values -------------------------------------------------------------------------
MISSING_CSV = "age,color,label\n30,red,a\n,blue,b\n25,NA,a\n40,red,b\nnull,?,a\n35,blue,NaN\n"


def test_missing_values_error_names_columns_lines_and_fix(tmp_path):
    p = write(tmp_path, MISSING_CSV)
    with pytest.raises(DataError) as err:
        load(p)
    msg = str(err.value)
    assert str(p) in msg
    assert "column 'age' (lines 3, 6)" in msg
    assert "column 'color' (lines 4, 6)" in msg
    assert "column 'label' (line 7)" in msg
    assert "data.missing" in msg and "'drop'" in msg and "'impute'" in msg and "Missing values choice" in msg


def test_missing_values_error_counts_many_rows(tmp_path):
    rows = "\n".join(f"{'' if i % 2 else i},{i % 2}" for i in range(40))
    with pytest.raises(DataError) as err:
        load(write(tmp_path, "x,label\n" + rows + "\n"))
    assert "lines 3, 5, 7, 9, 11 and 15 more (20 in all)" in str(err.value)


def test_missing_values_drop(tmp_path):
    ds = load(write(tmp_path, MISSING_CSV), missing="drop")
    assert ds.meta.n_samples == 2 and ds.X.shape[0] == 2
    np.testing.assert_allclose(ds.X[:, 0], [30, 40])
    assert any("dropped 4 of 6 rows" in n for n in ds.meta.notes)


def test_missing_values_impute(tmp_path):
    ds = load(write(tmp_path, MISSING_CSV), missing="impute")
    assert ds.meta.n_samples == 5  # the row with a missing target is dropped
    assert ds.meta.feature_names == ["age", "color=blue", "color=red"]
    # age median of 30, 25, 40, 35 = 32.5 fills lines 3 and 6
    np.testing.assert_allclose(ds.X[:, 0], [30, 32.5, 25, 40, 32.5])
    # color: red and blue both appear twice -> the tie goes to the alphabetically first: blue
    np.testing.assert_allclose(ds.X[:, 1], [0, 1, 1, 0, 1])
    notes = " ".join(ds.meta.notes)
    assert "median 32.5" in notes and "most frequent value 'blue'" in notes and "never imputed" in notes


def test_all_rows_missing_with_drop(tmp_path):
    with pytest.raises(DataError, match="every row"):
        load(write(tmp_path, "a,label\n,1\n,0\n2,\n"), missing="drop")


def test_infinite_values_are_reported(tmp_path):
    with pytest.raises(DataError, match=r"column 'a' has infinite values on line 3"):
        load(write(tmp_path, "a,label\n1,0\ninf,1\n"))


# ---- broken files ---------------------------------------------------------------------------
def test_file_not_found(tmp_path):
    with pytest.raises(DataError, match="file not found.*nope.csv"):
        load(tmp_path / "nope.csv")


def test_relative_path_resolves_against_base_dir(tmp_path):
    write(tmp_path, "a,label\n1,0\n2,1\n")
    ds = load_dataset(DataSpec(source="data.csv"), base_dir=tmp_path)
    assert ds.meta.source == str(tmp_path / "data.csv")


def test_empty_file(tmp_path):
    with pytest.raises(DataError, match=r"data.csv is empty"):
        load(write(tmp_path, ""))
    with pytest.raises(DataError, match="is empty"):
        load(write(tmp_path, "\n  \n"))


def test_header_only(tmp_path):
    with pytest.raises(DataError) as err:
        load(write(tmp_path, "a,b,label\n"))
    assert "header row but no data rows" in str(err.value) and "a, b, label" in str(err.value)


def test_ragged_rows_name_line_and_counts(tmp_path):
    p = write(tmp_path, "a,b,label\n1,2,0\n3,4,1\n5,6,7,1\n8,9,0\n1,2\n")
    with pytest.raises(DataError) as err:
        load(p)
    msg = str(err.value)
    assert f"{p}, line 4: expected 3 columns" in msg and "found 4" in msg
    assert "header on line 1" in msg and "line 6" in msg and "separator" in msg


def test_single_column_file(tmp_path):
    with pytest.raises(DataError, match="single column"):
        load(write(tmp_path, "value\n1\n2\n"))


def test_binary_file(tmp_path):
    p = tmp_path / "data.csv"
    p.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(DataError, match="not a text file"):
        load(p)
    p.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(DataError, match="Excel"):
        load(p)


def test_spreadsheet_and_single_image_rejected_with_advice(tmp_path):
    (tmp_path / "book.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="save it as CSV"):
        load(tmp_path / "book.xlsx")
    (tmp_path / "one.png").write_bytes(b"\x89PNG")
    with pytest.raises(DataError, match="folder"):
        load(tmp_path / "one.png")


def test_unclosed_quote(tmp_path):
    with pytest.raises(DataError):
        load(write(tmp_path, 'a,b,label\n1,"2,0\n3,4,1\n'))


def test_only_target_column_usable(tmp_path):
    with pytest.raises(DataError, match="no usable feature columns"):
        load(write(tmp_path, "empty,label\n,0\n,1\n"))


def test_big_numeric_file_fast_path_matches_careful_path(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 3)).round(4)
    rows = [f"{a},{b},{c},{i % 3}" for i, (a, b, c) in enumerate(X)]
    ds = load(write(tmp_path, "# comment\na,b,c,label\n" + "\n".join(rows) + "\n"))
    np.testing.assert_allclose(ds.X, X.astype(np.float32))
    assert ds.meta.class_counts == [267, 267, 266] and len(ds.preview_rows) == 50
    rows[99] = "nan,1,2,0"  # file line 102: fast path, NaN is missing
    with pytest.raises(DataError, match=r"column 'a' \(line 102\)"):
        load(write(tmp_path, "# comment\na,b,c,label\n" + "\n".join(rows) + "\n"))
    rows[99] = "NA,1,2,0"  # not a number for numpy: the careful path gives the same answer
    with pytest.raises(DataError, match=r"column 'a' \(line 102\)"):
        load(write(tmp_path, "# comment\na,b,c,label\n" + "\n".join(rows) + "\n"))
    rows[99] = "1,2,0"
    with pytest.raises(DataError, match=r"line 102: expected 4 columns"):
        load(write(tmp_path, "# comment\na,b,c,label\n" + "\n".join(rows) + "\n"))


def test_folder_where_a_file_was_expected(tmp_path):
    (tmp_path / "data.csv").mkdir()
    with pytest.raises(DataError, match="is a folder, but a file was expected"):
        load(tmp_path / "data.csv")


# ---- numbers written for people: thousands separators, stray words ------------------------------
def test_quoted_thousands_separators_are_numbers(tmp_path):
    p = write(tmp_path, 'income,score,label\n"50,000","1,234.5",a\n"1,250,000",7.5,b\n"999",-2,a\n"-12,000",0,b\n')
    ds = load(p)
    assert ds.meta.feature_names == ["income", "score"]
    np.testing.assert_allclose(ds.X, [[50000, 1234.5], [1250000, 7.5], [999, -2], [-12000, 0]])
    notes = " ".join(ds.meta.notes)
    assert "column 'income': read '50,000' as 50000 (thousands separators)" in notes
    assert "column 'score': read '1,234.5' as 1234.5 (thousands separators)" in notes


def test_thousands_separators_in_a_tab_file_and_in_the_target(tmp_path):
    # tab-separated, a decimal point elsewhere in the column: "1,234" is one thousand two hundred ...
    p = write(tmp_path, "a\tprice\n1.5\t1,234\n2\t12,345.5\n3.25\t7\n", "d.tsv")
    ds = load(p)
    assert ds.meta.task == "regression" and ds.meta.target_name == "price"
    np.testing.assert_allclose(ds.y[:, 0], [1234, 12345.5, 7])
    np.testing.assert_allclose(ds.X[:, 0], [1.5, 2, 3.25])
    # ... while a semicolon file of single commas keeps reading them as decimal commas
    ds = load(write(tmp_path, "a;b;label\n1,5;2;x\n3,25;4;y\n"))
    np.testing.assert_allclose(ds.X, [[1.5, 2], [3.25, 4]])


def test_commas_that_are_not_thousands_stay_text(tmp_path):
    # "1,23" is not a thousands group: the column stays text (one-hot), not numbers
    ds = load(write(tmp_path, 'x,code,label\n1,"1,23",a\n2,"4,56",b\n3,"1,23",a\n4,"4,56",b\n'))
    assert ds.meta.feature_names == ["x", "code=1,23", "code=4,56"]


def _stray_rows(n=100, bad_line=82, value="unknown"):
    rows = []
    for i in range(n):
        line = i + 2  # the header is line 1
        a = value if line == bad_line else f"{i * 0.5:.1f}"
        rows.append(f"{a},{i % 7},{'yes' if i % 2 else 'no'}")
    return "a,b,label\n" + "\n".join(rows) + "\n"


def test_a_stray_word_in_a_numeric_column_is_a_missing_value_error(tmp_path):
    p = write(tmp_path, _stray_rows())
    with pytest.raises(DataError) as err:
        load(p)
    msg = str(err.value)
    assert str(p) in msg
    assert "column 'a' is numeric except line 82 ('unknown')" in msg
    assert "fix those cells" in msg and "data.missing" in msg and "'drop'" in msg and "'impute'" in msg


def test_stray_word_with_drop_and_impute_keeps_the_column(tmp_path):
    p = write(tmp_path, _stray_rows())
    ds = load(p, missing="drop")
    assert ds.meta.feature_names == ["a", "b"] and ds.meta.n_samples == 99
    notes = " ".join(ds.meta.notes)
    assert "column 'a' is numeric except line 82 ('unknown')" in notes and "dropped 1 of 100 rows" in notes
    ds = load(p, missing="impute")
    assert ds.meta.feature_names == ["a", "b"] and ds.meta.n_samples == 100
    assert ds.X[80, 0] == pytest.approx(np.median([i * 0.5 for i in range(100) if i != 80]))


def test_stray_words_and_empty_cells_are_both_reported(tmp_path):
    text = _stray_rows().replace("\n3.0,", "\n,", 1)  # line 8: an empty cell in 'a'
    with pytest.raises(DataError) as err:
        load(write(tmp_path, text))
    msg = str(err.value)
    assert "column 'a' (line 8)" in msg and "column 'a' is numeric except line 82 ('unknown')" in msg


def test_stray_word_in_the_target_column(tmp_path):
    rows = "\n".join(f"{i},{'n/k' if i == 40 else i * 1.5}" for i in range(60))
    p = write(tmp_path, "x,price\n" + rows + "\n")
    with pytest.raises(DataError) as err:
        load(p)
    assert "column 'price' is numeric except line 42 ('n/k')" in str(err.value)
    ds = load(p, missing="impute")  # a missing target is dropped, never imputed
    assert ds.meta.task == "regression" and ds.meta.n_samples == 59


def test_many_stray_words_make_a_text_column(tmp_path):
    # 20% words: not a numeric column with a few typos but a text column (one-hot encoded)
    rows = "\n".join(f"{'low' if i % 5 == 0 else i % 3},{i % 2}" for i in range(50))
    ds = load(write(tmp_path, "level,label\n" + rows + "\n"))
    assert ds.meta.feature_names == ["level=0", "level=1", "level=2", "level=low"]
    assert any("one-hot encoded column 'level'" in n for n in ds.meta.notes)


def test_a_few_stray_words_in_a_big_column_are_counted(tmp_path):
    rows = "\n".join(f"{'-' if i % 40 == 3 else i},{i % 2}" for i in range(1000))
    with pytest.raises(DataError) as err:
        load(write(tmp_path, "a,label\n" + rows + "\n"))
    assert "column 'a' is numeric except lines 5 ('-'), 45 ('-'), 85 ('-')" in str(err.value)
    assert "and 20 more (25 in all)" in str(err.value)


# ---- targets that cannot be class labels ----------------------------------------------------------
def test_identifier_target_is_refused_when_the_task_is_inferred(tmp_path):
    rows = "\n".join(f"{i % 3},{i % 5},user_{i:05d}" for i in range(300))
    p = write(tmp_path, "a,b,user\n" + rows + "\n")
    with pytest.raises(DataError) as err:
        load(p)
    msg = str(err.value)
    assert str(p) in msg and "target column 'user'" in msg and "300 different values in 300 rows" in msg
    assert "identifier" in msg and "data.target" in msg and "data.task" in msg and "'regression'" in msg
    # forced classification loads, and the split still gives val/test their rows
    from workbench.core.data import prepare

    ds = load(p, task="classification")
    prep = prepare(ds, DataSpec(source=str(p), task="classification", split={"val": 0.15, "test": 0.15}))
    assert (len(prep.train), len(prep.val), len(prep.test)) == (210, 45, 45)
    assert any("split:" in n and "'user'" in n for n in prep.meta.notes)


def test_small_files_with_a_few_rare_classes_still_load(tmp_path):
    ds = load(write(tmp_path, "x,y,animal\n1,1,dog\n2,2,cat\n3,3,dog\n4,4,bird\n"))
    assert ds.meta.class_names == ["bird", "cat", "dog"]


# ---- notes and messages name the column and only settings that exist ------------------------------
def test_notes_name_the_columns(tmp_path):
    rows = "\n".join(f"id{i},{['red', 'blue'][i % 2]},{i},{i % 2}" for i in range(150))
    ds = load(write(tmp_path, "name,color,x,label\n" + rows + "\n"))
    notes = ds.meta.notes
    assert any(n.startswith("one-hot encoded column 'color'") for n in notes)
    assert any(n.startswith("left out text column 'name'") for n in notes)


def test_npz_key_message_names_spec_fields_not_cli_flags(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, a=np.zeros((4, 2)), b=np.zeros(4))
    with pytest.raises(DataError) as err:
        load(p)
    msg = str(err.value)
    assert "data.x_key / data.y_key in the spec" in msg and "--x-key" not in msg
