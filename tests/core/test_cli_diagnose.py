"""`workbench check` and `workbench lr-find`: output, JSON shape, exit codes."""

from __future__ import annotations

import json

import pytest

from workbench.cli.main import main
from workbench.core.locations import preset_path
from workbench.core.spec import load_spec


def test_check_text_and_exit_code(capsys):
    rc = main(["check", "iris", "--device", "cpu"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Pre-flight check of Iris MLP" in out and "PASS  Overfit one batch" in out
    assert "8 checks: 8 passed" in out
    # a preset on other data is named after that data and model, as `train` names it
    assert main(["check", "spiral", "--data", "sample:moons", "--device", "cpu"]) == 0
    assert "Pre-flight check of moons · MLP" in capsys.readouterr().out


def test_check_json_is_a_list_of_check_status_message(capsys):
    rc = main(["check", "spiral", "--json", "--device", "cpu"])
    rows = json.loads(capsys.readouterr().out)
    assert rc == 0 and isinstance(rows, list) and len(rows) == 8
    assert all(set(r) == {"check", "status", "message"} for r in rows)
    assert {r["status"] for r in rows} <= {"pass", "warn", "fail"}
    assert [r["check"] for r in rows] == ["duplicates", "target_leakage", "constant_columns", "class_balance",
                                          "initial_loss", "gradients", "overfit_batch", "input_baseline"]
    assert main(["check", "sine", "--json", "--details", "--device", "cpu"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all({"check", "status", "message", "title", "seconds", "details"} == set(r) for r in rows)
    assert next(r for r in rows if r["check"] == "initial_loss")["details"]["expected"] == pytest.approx(1, abs=0.1)


def test_check_fails_with_exit_1_for_a_model_that_cannot_learn(tmp_path, capsys):
    spec = load_spec(preset_path("spiral")).with_values(
        {"model.layers": [{"type": "Linear", "out_features": "auto"}]})
    spec.save(tmp_path / "linear.json")
    rc = main(["check", str(tmp_path / "linear.json"), "--json"])
    rows = {r["check"]: r for r in json.loads(capsys.readouterr().out)}
    assert rc == 1 and rows["overfit_batch"]["status"] == "fail"


def test_check_bad_input_exit_2(tmp_path, capsys):
    rc = main(["check", str(tmp_path / "missing.json")])
    assert rc == 2 and "file not found" in capsys.readouterr().err


def test_lr_find_json_ends_with_suggestions_and_save(tmp_path, capsys):
    out_spec = tmp_path / "tuned.json"
    rc = main(["lr-find", "iris", "--json", "--steps", "40", "--save", str(out_spec)])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    final = json.loads(lines[-1])
    assert rc == 0 and {"suggestion", "steepest", "minimum", "lrs", "losses"} <= set(final)
    assert final["lrs"][0] == 1e-7 and 1e-5 < final["suggestion"] < 1
    assert load_spec(out_spec).optimizer.params["lr"] == float(f"{final['suggestion']:.3g}")


def test_lr_find_text_and_refusals(capsys):
    assert main(["lr-find", "sine", "--steps", "30"]) == 0
    out = capsys.readouterr().out
    assert "suggestion (valley)" in out and "minimum / 10" in out and "valley / 10 .. valley × 10" in out
    assert main(["lr-find", "sine", "--start-lr", "1", "--end-lr", "0.1"]) == 2
    assert "--start-lr must be > 0 and below --end-lr" in capsys.readouterr().err


def test_train_prints_health_alerts_and_runs_show_lists_them(tmp_path, capsys):
    # a learning rate so small that the loss cannot move: the plateau alert
    spec = load_spec(preset_path("spiral")).with_values({
        "train.epochs": 8, "data.n_samples": 200, "optimizer": {"type": "SGD", "lr": 1e-6}})
    spec.save(tmp_path / "slow.json")
    store = tmp_path / "runs.db"
    assert main(["train", str(tmp_path / "slow.json"), "--store", str(store)]) == 0
    err = capsys.readouterr().err
    assert "health: epoch 6" in err and "Loss plateau" in err and "Find LR" in err
    assert main(["runs", "show", "1", "--store", str(store), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [a["kind"] for a in shown["alerts"]] == ["plateau"] and shown["alerts"][0]["suggested_lr"] > 1e-6
    assert main(["runs", "show", "1", "--store", str(store)]) == 0
    assert "  alert     epoch 6" in capsys.readouterr().out


def test_train_takes_accumulation_ema_and_health_from_the_command_line(tmp_path, capsys):
    store = str(tmp_path / "runs.db")
    assert main(["train", "xor", "--epochs", "1", "--accumulate", "4", "--ema", "0.9", "--no-health",
                 "--store", store]) == 0
    err = capsys.readouterr().err
    assert "accumulated 4× per optimizer step: effective batch" in err
    assert main(["runs", "show", "1", "--store", store, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out.splitlines()[-1])
    train = shown["spec"]["train"]
    assert train["accumulate_batches"] == 4 and train["ema"] == {"decay": 0.9} and train["health"] is None
    assert "val_ema_loss" in shown["metrics"]
    assert main(["train", "xor", "--accumulate", "0", "--store", store]) == 2
    assert "train.accumulate_batches" in capsys.readouterr().err
