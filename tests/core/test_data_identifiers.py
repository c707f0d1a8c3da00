"""Identifier-like numeric columns (a customer number, a row number) are left out of the features
with a note, as text identifiers are; ordinary numeric columns of distinct whole numbers stay."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.data import DataError, load_dataset
from workbench.core.spec import DataSpec


def _table(tmp_path, header: list[str], columns: list[list], name="t.csv"):
    rows = [",".join(str(c[i]) for c in columns) for i in range(len(columns[0]))]
    path = tmp_path / name
    path.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n")
    return load_dataset(DataSpec(source=str(path)))


def _customers(n=500, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.arange(10_000, 99_999))[:n]  # distinct, unordered
    age = rng.integers(18, 80, n)
    income = rng.integers(10_000, 200_000, n)  # distinct whole numbers too, but a measurement
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.41, 0.35, 0.24])
    return ids, age, income, plan


@pytest.mark.parametrize("name", ["customer_id", "CustomerID", "id", "OrderNo", "row_number", "userid", "Record ID"])
def test_numeric_identifier_column_is_left_out_with_a_note(tmp_path, name):
    ids, age, income, plan = _customers()
    ds = _table(tmp_path, [name, "age", "income", "plan"], [ids, age, income, plan])
    assert ds.meta.feature_names == ["age", "income"]
    assert ds.X.shape == (500, 2)
    note = next(n for n in ds.meta.notes if f"'{name}'" in n)
    assert "left out" in note and "identifier" in note and "500 different whole numbers" in note
    assert "rename" in note  # how to keep it when it is a measurement


def test_unnamed_row_counter_is_left_out_but_a_named_counter_stays(tmp_path):
    n = 60
    rng = np.random.default_rng(1)
    x, label = rng.normal(size=n).round(3), rng.integers(0, 2, n)
    ds = _table(tmp_path, ["Unnamed: 0", "x", "label"], [list(range(n)), x, label])
    assert ds.meta.feature_names == ["x"]
    assert any("'Unnamed: 0'" in n and "counts the rows" in n for n in ds.meta.notes)
    # a column called "step" counting 1..n is a feature (time, dose, ...), not an identifier
    kept = _table(tmp_path, ["step", "x", "label"], [list(range(1, n + 1)), x, label], name="s.csv")
    assert kept.meta.feature_names == ["step", "x"]


def test_distinct_whole_numbers_with_an_ordinary_name_stay_features(tmp_path):
    ids, age, income, plan = _customers()
    ds = _table(tmp_path, ["income", "age", "plan"], [income, age, plan])
    assert ds.meta.feature_names == ["income", "age"]
    assert not any("identifier" in n for n in ds.meta.notes)


def test_repeated_or_fractional_or_few_values_are_not_identifiers(tmp_path):
    rng = np.random.default_rng(2)
    n = 100
    repeated = rng.integers(0, 50, n)  # "store_id" repeated across rows is a category-like feature
    fractional = rng.normal(size=n).round(4) + np.arange(n)
    label = rng.integers(0, 2, n)
    ds = _table(tmp_path, ["store_id", "key_value", "label"], [repeated, fractional, label])
    assert ds.meta.feature_names == ["store_id", "key_value"]
    few = _table(tmp_path, ["id", "x", "label"], [list(range(10)), list(range(10)), [0, 1] * 5], name="few.csv")
    assert few.meta.feature_names == ["id", "x"]  # 10 rows say too little


def test_identifier_as_only_feature_says_what_is_left(tmp_path):
    n = 40
    with pytest.raises(DataError) as err:
        _table(tmp_path, ["customer_id", "label"], [list(range(1000, 1000 + n)), [0, 1] * (n // 2)])
    assert "no usable feature columns" in str(err.value) and "left out column 'customer_id'" in str(err.value)


def test_identifier_as_target_is_not_touched(tmp_path):
    ids, age, income, _ = _customers(100)
    path = tmp_path / "t.csv"
    path.write_text("age,income,customer_id\n" + "\n".join(f"{a},{i},{c}" for a, i, c in zip(age, income, ids)))
    ds = load_dataset(DataSpec(source=str(path), task="regression"))
    assert ds.meta.target_name == "customer_id" and ds.meta.feature_names == ["age", "income"]


def test_a_named_id_with_a_few_repeats_is_still_an_identifier(tmp_path):
    rng = np.random.default_rng(3)
    ids = rng.integers(10_000, 99_999, 500)  # random ids: a few collide
    assert 450 <= len(set(ids.tolist())) < 500
    age, plan = rng.integers(18, 80, 500), rng.choice(["a", "b"], 500)
    ds = _table(tmp_path, ["customer_id", "age", "plan"], [ids, age, plan])
    assert ds.meta.feature_names == ["age"]
    assert any("'customer_id'" in n and "different whole numbers in 500 rows" in n for n in ds.meta.notes)
    # a customer id repeated across a transactions table is no row identifier: left as it was
    repeated = rng.integers(1000, 1050, 500)
    kept = _table(tmp_path, ["customer_id", "age", "plan"], [repeated, age, plan], name="tx.csv")
    assert kept.meta.feature_names == ["customer_id", "age"]
