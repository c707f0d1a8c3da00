"""A classification run's final metrics carry the majority-class baseline, and a result no better
than it is called out (the CLI's final lines and --json; catalog.baseline_note for the app)."""

from __future__ import annotations

import json

import numpy as np

from workbench.cli import main
from workbench.core.catalog import baseline_note


def _customers_csv(folder, n=300, seed=0):
    """customer_id, two noise features and a plan that does not depend on them (majority ~60 %)."""
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.arange(10_000, 99_999))[:n]
    age, income = rng.integers(18, 80, n), rng.integers(10_000, 200_000, n)
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.25, 0.15])
    path = folder / "customers.csv"
    path.write_text("customer_id,age,income,plan\n"
                    + "\n".join(f"{c},{a},{i},{p}" for c, a, i, p in zip(ids, age, income, plan)) + "\n")
    return path


def _spec(folder, lr):
    spec = {"name": "customers", "data": {"source": "customers.csv"},
            "model": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                                 {"type": "Linear", "out_features": "auto"}]},
            "optimizer": {"type": "SGD", "lr": lr}, "train": {"epochs": 1, "batch_size": 32, "seed": 3}}
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def test_untrained_model_below_the_majority_baseline_is_called_out(tmp_path, capsys):
    _customers_csv(tmp_path)
    store = str(tmp_path / "runs.db")
    # lr 1e-6, one epoch: the model keeps its random guesses, well below always saying "basic"
    assert main(["train", str(_spec(tmp_path, 1e-6)), "--store", store, "--json", "--quiet"]) == 0
    final = [json.loads(line) for line in capsys.readouterr().out.splitlines()][-1]
    m = final["metrics"]
    assert 0.4 < m["test_baseline_accuracy"] < 0.8 and 0.4 < m["val_baseline_accuracy"] < 0.8
    assert m["test_accuracy"] < m["test_baseline_accuracy"]
    assert final["warnings"] == [baseline_note(m)] and "below" in final["warnings"][0]
    assert any("customer_id" in n and "identifier" in n for n in final["notes"])

    assert main(["train", str(_spec(tmp_path, 1e-6)), "--store", store]) == 0
    out = capsys.readouterr().out
    assert "warning: test accuracy" in out and "always guessing the most common class" in out
    assert "baseline_accuracy" in out  # printed with the test metrics
    assert main(["runs", "show", str(final["run_id"]), "--store", store]) == 0
    assert "warning: test accuracy" in capsys.readouterr().out
    assert main(["runs", "show", str(final["run_id"]), "--store", store, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == final["warnings"]


def test_baseline_is_the_test_share_of_the_training_majority(tmp_path, capsys):
    from workbench.core.data import load_dataset, prepare
    from workbench.core.spec import load_spec
    from workbench.core.training import RunFinished, train

    _customers_csv(tmp_path)
    spec = load_spec(_spec(tmp_path, 0.01))
    prepared = prepare(load_dataset(spec.data, tmp_path), spec.data)
    majority = int(np.bincount(prepared.train.y.numpy()).argmax())
    expected = float((prepared.test.y.numpy() == majority).mean())
    final = [e for e in train(spec, data=prepared, base_dir=tmp_path) if isinstance(e, RunFinished)][0]
    assert final.metrics["test_baseline_accuracy"] == expected


def test_regression_runs_have_no_baseline(tmp_path, capsys):
    spec = {"data": {"source": "sample:linear"}, "model": {"layers": [{"type": "Linear", "out_features": "auto"}]},
            "loss": {"type": "MSELoss"}, "train": {"epochs": 1}}
    path = tmp_path / "lin.json"
    path.write_text(json.dumps(spec))
    assert main(["train", str(path), "--store", str(tmp_path / "r.db"), "--json", "--quiet"]) == 0
    final = [json.loads(line) for line in capsys.readouterr().out.splitlines()][-1]
    assert not any("baseline" in k for k in final["metrics"]) and final["warnings"] == []


def test_baseline_note_wording():
    assert baseline_note({"test_accuracy": 0.293, "test_baseline_accuracy": 0.41}).startswith(
        "test accuracy 29.3% is below the 41.0% of always guessing the most common class")
    assert "no better than" in baseline_note({"val_accuracy": 0.5, "val_baseline_accuracy": 0.5})
    assert baseline_note({"test_accuracy": 0.9, "test_baseline_accuracy": 0.41}) == ""
    assert baseline_note({"test_accuracy": 0.9, "test_baseline_accuracy": 0.41,
                          "val_accuracy": 0.2, "val_baseline_accuracy": 0.4}) == ""  # test decides
    assert baseline_note({"test_r2": 0.1}) == "" and baseline_note({}) == ""
    assert baseline_note({"test_accuracy": float("nan"), "test_baseline_accuracy": 0.4}) == ""
