"""`workbench data FILE`: what Workbench makes of a file, with the loading the app and training use."""

from __future__ import annotations

import json

import numpy as np

from workbench.cli import main


def _table(path, n=60):
    g = np.random.default_rng(0)
    rows = [f"{i},{g.normal():.3f},{c},{'' if i % 20 == 7 else round(g.uniform(1e5, 9e5))}"
            for i, c in zip(range(n), g.choice(["red", "blue"], n))]
    path.write_text("customer_id,x,color,price\n" + "\n".join(rows) + "\n")
    return path


def test_data_json_reports_columns_task_missing_and_notes(tmp_path, capsys):
    path = _table(tmp_path / "houses.csv")
    assert main(["data", str(path), "--missing", "drop", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rows"] == 57 and info["task"] == "regression" and info["target"] == "price"
    cols = {c["name"]: c for c in info["columns"]}
    assert cols["customer_id"]["role"] == "left out" and "identifier" in cols["customer_id"]["why"]
    assert cols["color"]["kind"] == "text" and cols["color"]["levels"] == ["blue", "red"]
    assert cols["price"]["role"] == "target" and cols["price"]["missing"] == 3 and info["missing_cells"] == 3
    assert 1e5 <= info["target_stats"][0]["min"] < info["target_stats"][0]["max"] <= 9e5
    assert any("dropped 3 of 60 rows" in n for n in info["notes"])
    assert info["features"] == 3  # x, color=blue, color=red


def test_data_text_report_and_the_cache_on_a_second_look(tmp_path, capsys):
    path = _table(tmp_path / "houses.csv")
    assert main(["data", str(path), "--target", "color", "--missing", "impute"]) == 0
    first = capsys.readouterr().out
    assert "task: classification of 'color' (2 classes)" in first and "classes: " in first
    assert "prepared-data cache" not in first.splitlines()[0]
    assert main(["data", str(path), "--target", "color", "--missing", "impute"]) == 0
    assert "(from the prepared-data cache)" in capsys.readouterr().out.splitlines()[0]


def test_data_on_samples_and_image_folders(capsys):
    assert main(["data", "sample:shapes", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "image" and info["input_shape"] == [1, 28, 28] and len(info["classes"]) == 4


def test_data_problems_exit_2_with_the_loaders_message(tmp_path, capsys):
    path = _table(tmp_path / "houses.csv")
    assert main(["data", str(path)]) == 2  # missing prices, data.missing is "error"
    assert "missing values in column 'price' (lines 9, 29, 49)" in capsys.readouterr().err
    assert main(["data", str(tmp_path / "nope.csv")]) == 2
    assert "file not found" in capsys.readouterr().err
