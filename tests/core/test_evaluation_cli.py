"""`workbench evaluate` and `workbench predict`, in-process: the JSON the issue promises, the text
tables, new labelled files, predictions CSVs, and exit code 2 with a message for bad input."""

from __future__ import annotations

import csv
import json

import pytest

from tests.core.evaluation_support import write_table
from workbench.cli import main


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_STORE", str(tmp_path / "default-store" / "runs.db"))


def _train(tmp_path, capsys, *args) -> dict:
    store = str(tmp_path / "runs.db")
    assert main(["train", *args, "--store", store, "--json", "-q"]) == 0
    final = [json.loads(line) for line in capsys.readouterr().out.splitlines()][-1]
    return final


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_evaluate_json_matches_the_runs_own_test_metrics(tmp_path, capsys):
    final = _train(tmp_path, capsys, "gauss", "--epochs", "3")
    store = str(tmp_path / "runs.db")
    assert main(["evaluate", str(final["run_id"]), "--json", "--store", store]) == 0
    out = _json(capsys)
    assert {"split", "n", "classes", "confusion_matrix", "per_class", "accuracy", "roc_auc"} <= set(out)
    assert out["split"] == "test" and out["classes"] == ["0", "1"]
    assert sum(map(sum, out["confusion_matrix"])) == out["n"]
    assert set(out["per_class"]["1"]) == {"precision", "recall", "f1", "support"}
    assert out["accuracy"] == final["metrics"]["test_accuracy"]
    assert out["macro_avg"]["f1"] == pytest.approx(final["metrics"]["test_f1"], abs=1e-12)
    assert main(["evaluate", "latest", "--split", "val", "--store", store]) == 0
    text = capsys.readouterr().out
    assert "confusion matrix (rows: true class, columns: predicted class)" in text
    assert "macro avg" in text and "weighted avg" in text and "ROC AUC" in text


def test_evaluate_regression_reports_errors_in_target_units(tmp_path, capsys):
    final = _train(tmp_path, capsys, "linear", "--epochs", "5")
    assert main(["evaluate", str(final["run_id"]), "--json", "--store", str(tmp_path / "runs.db")]) == 0
    out = _json(capsys)
    for key in ("mae", "rmse", "r2"):
        assert out[key] == pytest.approx(final["metrics"][f"test_{key}"], rel=1e-9)
    assert main(["evaluate", str(final["run_id"]), "--store", str(tmp_path / "runs.db")]) == 0
    text = capsys.readouterr().out
    assert "MAE" in text and "largest errors" in text
    assert all(w["where"].startswith("row ") and int(w["where"][4:]) == w["row"] + 1 for w in out["worst"])


def test_values_in_target_units_read_as_people_write_them():
    from workbench.core.evaluation import format_value

    assert format_value(360822.4) == "360,822"
    assert format_value(-79048.2) == "-79,048"
    assert format_value(0.98871) == "0.9887"
    assert format_value(12.3456) == "12.35"
    assert format_value(1.5e-5) == "1.5e-05"
    assert format_value(float("nan")) == format_value(None) == "–"


def test_evaluate_and_predict_on_new_files(tmp_path, capsys):
    table = write_table(tmp_path / "table.csv", n=90)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "t", "data": {"source": "table.csv"},
                                "model": {"layers": [{"type": "Linear", "out_features": 16}, {"type": "ReLU"},
                                                     {"type": "Linear", "out_features": "auto"}]},
                                "train": {"epochs": 5, "batch_size": 16, "device": "cpu"}}))
    final = _train(tmp_path, capsys, str(spec))
    store = str(tmp_path / "runs.db")
    run = str(final["run_id"])
    assert main(["evaluate", run, "--data", str(table), "--json", "--store", store]) == 0
    out = _json(capsys)
    assert out["n"] == 90 and out["classes"] == ["high", "low", "mid"]
    new = tmp_path / "new.csv"
    new.write_text("color,b,a,extra\nred,0.5,11,x\nblue,-1,8,y\ngreen,0,10,z\n")  # any column order
    out_csv = tmp_path / "out" / "pred.csv"
    assert main(["predict", run, "--data", str(new), "--out", str(out_csv), "--store", store]) == 0
    captured = capsys.readouterr()
    assert "Wrote 3 predictions" in captured.out and "extra" in captured.err
    rows = list(csv.reader(out_csv.open()))
    assert rows[0] == ["line", "prediction", "p_high", "p_low", "p_mid"]
    assert [r[0] for r in rows[1:]] == ["2", "3", "4"]
    for r in rows[1:]:
        assert r[1] in ("high", "low", "mid") and sum(float(x) for x in r[2:]) == pytest.approx(1, abs=1e-4)


def test_bad_input_exits_2_with_a_message(tmp_path, capsys):
    final = _train(tmp_path, capsys, "iris", "--epochs", "2")
    store = str(tmp_path / "runs.db")
    assert main(["evaluate", "42", "--store", store]) == 2
    assert "No run 42" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("sepal_length,sepal_width\n5,3\n")
    assert main(["predict", str(final["run_id"]), "--data", str(bad), "--out", str(tmp_path / "p.csv"),
                 "--store", store]) == 2
    err = capsys.readouterr().err
    assert "no columns 'petal_length', 'petal_width'" in err and "Add the missing column" in err
    assert main(["evaluate", str(final["run_id"]), "--data", str(tmp_path / "nope.csv"), "--store", store]) == 2
    assert "file not found" in capsys.readouterr().err
    assert main(["evaluate", str(final["run_id"]), "--threshold", "0.5", "--store", store]) == 2
    assert "two classes only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate", "abc", "--store", store])
