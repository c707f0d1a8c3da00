"""The `workbench` command line: train, runs, bare `workbench`, and the shipped presets.

Most tests call `main(argv)` in-process (fast); a few run the real command in a subprocess to
cover the entry point, exit codes and Ctrl+C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.cli.gui import NO_DISPLAY_MESSAGE

REPO = Path(__file__).resolve().parents[2]
PRESETS = REPO / "resources" / "presets"
PRESET_NAMES = sorted(p.stem for p in PRESETS.glob("*.json"))
SAMPLES = ("circle", "xor", "gauss", "spiral", "moons", "sine", "linear", "iris", "digits", "shapes")

# What each preset must reach on its test split (test_accuracy, or test_r2 for regression).
THRESHOLDS = {
    "spiral": ("test_accuracy", 0.95), "circle": ("test_accuracy", 0.95), "xor": ("test_accuracy", 0.95),
    "gauss": ("test_accuracy", 0.95), "moons": ("test_accuracy", 0.95), "iris": ("test_accuracy", 0.9),
    "digits": ("test_accuracy", 0.9), "shapes": ("test_accuracy", 0.9), "digits-cnn": ("test_accuracy", 0.95),
    "sine": ("test_r2", 0.9), "linear": ("test_r2", 0.9),
}
CLASSIFICATION_KEYS = {"train_loss", "val_loss", "test_loss", "val_accuracy", "test_accuracy", "test_f1"}
REGRESSION_KEYS = {"train_loss", "val_loss", "test_loss", "test_mae", "test_rmse", "test_r2"}


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    """Never touch the user's run store."""
    monkeypatch.setenv("WORKBENCH_STORE", str(tmp_path / "default-store" / "runs.db"))


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _write_spec(path: Path, **changes) -> Path:
    raw = json.loads((PRESETS / "circle.json").read_text())
    for dotted, value in changes.items():
        node = raw
        *head, last = dotted.split(".")
        for part in head:
            node = node.setdefault(part, {})
        node[last] = value
    path.write_text(json.dumps(raw))
    return path


# ---- presets -----------------------------------------------------------------------------------
def test_there_is_a_preset_for_every_sample():
    assert set(SAMPLES) <= set(PRESET_NAMES)
    from workbench.core.data import SAMPLES as KNOWN

    assert set(SAMPLES) <= set(KNOWN), "a preset names a sample the data package does not have"


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_parses_and_builds(name):
    from workbench.core.data import load_dataset, prepare
    from workbench.core.training import build_model
    from workbench.core.spec import load_spec

    spec = load_spec(PRESETS / f"{name}.json")
    dataset = load_dataset(spec.data, PRESETS)
    prepared = prepare(dataset, spec.data)
    model, summary = build_model(spec, prepared.meta)
    assert summary.total_params > 0
    if name in THRESHOLDS:
        task = "regression" if THRESHOLDS[name][0] == "test_r2" else "classification"
        assert prepared.meta.task == task


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_preset_trains_to_its_threshold(name, tmp_path, capsys):
    """Each preset reaches its result (how long it takes: benchmarks/preset_times.py)."""
    rc = main(["train", str(PRESETS / f"{name}.json"), "--json", "--quiet", "--device", "cpu",
               "--store", str(tmp_path / "runs.db")])
    final = _json_lines(capsys.readouterr().out)[-1]
    key, threshold = THRESHOLDS[name]
    assert rc == 0, final
    assert final["metrics"][key] >= threshold, f"{name}: {key} = {final['metrics'][key]:.3f} < {threshold}"


# ---- train ---------------------------------------------------------------------------------------
def test_train_json_classification(tmp_path, capsys):
    store = tmp_path / "runs.db"
    rc = main(["train", str(PRESETS / "spiral.json"), "--epochs", "2", "--json", "--store", str(store)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    lines = _json_lines(out)
    assert [line["epoch"] for line in lines[:-1]] == [1, 2]
    assert {"loss", "val_loss"} <= set(lines[0])
    final = lines[-1]
    assert final["status"] == "finished" and final["epochs"] == 2 and isinstance(final["run_id"], int)
    assert CLASSIFICATION_KEYS <= set(final["metrics"])
    assert 0.0 <= final["metrics"]["test_accuracy"] <= 1.0
    assert "epoch 2/2" in err  # progress goes to stderr
    run_dir = Path(final["run_dir"])
    assert run_dir == store.parent / "runs" / str(final["run_id"])
    assert (run_dir / "last.pt").exists()

    from workbench.core.runs import RunStore

    with RunStore(store) as s:
        rec = s.get_run(final["run_id"])
        assert rec.status == "finished" and rec.epochs == 2 and rec.device.split(":")[0] in ("cpu", "cuda", "mps")
        assert rec.task == "classification" and rec.run_dir == str(run_dir)
        assert rec.metrics["test_accuracy"] == final["metrics"]["test_accuracy"]
        assert len(s.epochs(rec.id)) == 2
        assert any(a["kind"].startswith("checkpoint") for a in s.artifacts(rec.id))


def test_train_json_regression_with_overrides(tmp_path, capsys):
    rc = main(["train", str(PRESETS / "sine.json"), "--epochs", "2", "--seed", "3", "--json", "--quiet",
               "--store", str(tmp_path / "runs.db"), "--run-dir", str(tmp_path / "ckpt")])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert err == ""  # --quiet
    final = _json_lines(out)[-1]
    assert final["status"] == "finished" and final["epochs"] == 2
    assert REGRESSION_KEYS <= set(final["metrics"])
    assert "test_accuracy" not in final["metrics"]
    assert (tmp_path / "ckpt" / "last.pt").exists()


def test_train_human_output(tmp_path, capsys):
    rc = main(["train", str(PRESETS / "gauss.json"), "--epochs", "1", "--store", str(tmp_path / "runs.db")])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "finished after 1 epoch in" in out and "test " in out and "accuracy" in out
    assert "1 epochs" not in out
    assert "epoch 1/1" in err and "samples/s" in err


def _table_with_gaps(folder: Path) -> Path:
    rows = [f"{i * 0.1:.1f},{(i % 7) * 0.3:.1f},{'cat' if i % 2 else 'dog'}" for i in range(60)]
    rows[4] = ",0.5,dog"  # a missing value in column 'a'
    (folder / "gaps.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    return _write_spec(folder / "gaps.json", **{"data.source": "gaps.csv", "data.target": None})


def test_train_prints_the_data_report_and_takes_missing_and_task(tmp_path, capsys):
    spec = _table_with_gaps(tmp_path)
    store = str(tmp_path / "runs.db")
    assert main(["train", str(spec), "--epochs", "1", "--store", store]) == 2  # missing values: error
    assert "missing" in capsys.readouterr().err

    assert main(["train", str(spec), "--epochs", "1", "--missing", "drop", "--store", store]) == 0
    out, err = capsys.readouterr()
    training = err.index("Training ")
    report = [line for line in err[training:].splitlines() if line.startswith("  data: ")]
    assert any("dropped" in line and "missing" in line for line in report), err
    assert any("'label'" in line for line in report)  # which target was chosen
    assert any("classes (2): cat, dog" in line for line in report)

    assert main(["train", str(spec), "--epochs", "1", "--missing", "impute", "--json", "--quiet",
                 "--store", store]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # --quiet
    final = _json_lines(out)[-1]
    assert any("imputed" in n for n in final["notes"]) and "classes (2): cat, dog" in final["notes"]
    assert all("notes" not in line for line in _json_lines(out)[:-1])  # epochs lines unchanged

    # the report is kept with the run
    assert main(["runs", "show", str(final["run_id"]), "--store", store]) == 0
    shown = capsys.readouterr().out
    assert "imputed" in shown and str(tmp_path / "gaps.csv") in shown
    assert main(["runs", "show", str(final["run_id"]), "--store", store, "--json"]) == 0
    d = _json_lines(capsys.readouterr().out)[0]
    assert d["data_source"] == str(tmp_path / "gaps.csv") and d["data_notes"] == final["notes"]

    # --task maps to data.task: text labels cannot be a regression target
    assert main(["train", str(spec), "--epochs", "1", "--missing", "drop", "--task", "regression",
                 "--store", store, "--json", "--quiet"]) == 2
    last = _json_lines(capsys.readouterr().out)[-1]
    assert last["status"] == "invalid" and "regression" in last["message"]
    assert main(["train", str(spec), "--epochs", "1", "--missing", "drop", "--task", "classification",
                 "--quiet", "--json", "--store", store]) == 0
    capsys.readouterr()


def test_task_and_missing_overrides_reach_the_spec(tmp_path):
    import argparse

    from workbench.cli.train import load_train_spec

    spec = _table_with_gaps(tmp_path)
    args = argparse.Namespace(spec=str(spec), data=None, target=None, epochs=None, device=None, seed=None,
                              task="regression", missing="impute")
    loaded, _ = load_train_spec(args)
    assert loaded.data.task == "regression" and loaded.data.missing == "impute"


def test_unknown_train_option_shows_the_train_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", str(PRESETS / "spiral.json"), "--bogus", "1"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: workbench train" in err and "--missing" in err and "--task" in err
    assert "unrecognized arguments: --bogus 1" in err
    with pytest.raises(SystemExit):
        main(["train", str(PRESETS / "spiral.json"), "--task", "clustering"])
    assert "usage: workbench train" in capsys.readouterr().err


def test_double_ctrl_c_records_the_real_duration(tmp_path, capsys, monkeypatch):
    from workbench.core import training

    def slow_then_abort(spec, **kwargs):
        time.sleep(0.3)
        raise KeyboardInterrupt  # what the second Ctrl+C does inside the loop
        yield  # pragma: no cover - a generator

    monkeypatch.setattr(training, "train", slow_then_abort)
    store = tmp_path / "runs.db"
    assert main(["train", str(PRESETS / "gauss.json"), "--json", "--store", str(store)]) == 130
    final = _json_lines(capsys.readouterr().out)[-1]
    assert final["status"] == "stopped" and final["duration"] >= 0.3
    from workbench.core.runs import RunStore

    with RunStore(store) as s:
        rec = s.get_run(final["run_id"])
        assert rec.status == "stopped" and rec.duration >= 0.3


def test_bad_spec_exits_2_with_message(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": {"layers": [{"type": "Lineer"}]}}')
    assert main(["train", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "model.layers.0" in err and "Lineer" in err and "Traceback" not in err

    not_json = tmp_path / "not.json"
    not_json.write_text("{oops")
    assert main(["train", str(not_json)]) == 2
    assert "not valid JSON" in capsys.readouterr().err

    assert main(["train", str(tmp_path / "missing.json")]) == 2
    assert "file not found" in capsys.readouterr().err

    assert main(["train", str(PRESETS / "spiral.json"), "--epochs", "0"]) == 2
    assert "train.epochs" in capsys.readouterr().err


def test_missing_data_file_exits_2(tmp_path, capsys):
    spec = _write_spec(tmp_path / "s.json", **{"data.source": "no_such_file.csv"})
    assert main(["train", str(spec), "--json"]) == 2
    out, err = capsys.readouterr()
    assert "no_such_file.csv" in err and "Traceback" not in err
    assert _json_lines(out) == [{"status": "invalid", "message": err.strip()}]
    assert main(["train", str(PRESETS / "spiral.json"), "--data", str(tmp_path / "gone.csv")]) == 2
    assert "gone.csv" in capsys.readouterr().err


def test_missing_target_column_exits_2(tmp_path, capsys, monkeypatch):
    csv = tmp_path / "table.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    spec = _write_spec(tmp_path / "s.json", **{"data.source": "table.csv", "data.target": "label"})
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(spec), "--target", "nope", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err
    # relative data paths: in the spec against its folder, --data against the current folder
    sub = tmp_path / "sub"
    sub.mkdir()
    moved = _write_spec(sub / "s.json", **{"data.source": "table.csv", "data.target": "label"})
    assert main(["train", str(moved), "--epochs", "1", "--quiet"]) == 2  # sub/table.csv does not exist
    capsys.readouterr()
    assert main(["train", str(moved), "--data", "table.csv", "--epochs", "1", "--quiet",
                 "--store", str(tmp_path / "runs.db")]) == 0


def test_bad_device_exits_2(tmp_path, capsys):
    import torch

    missing = "cuda:99" if torch.cuda.is_available() else "cuda"  # a CUDA device this machine lacks
    assert main(["train", str(PRESETS / "circle.json"), "--device", missing, "--store", str(tmp_path / "r.db")]) == 2
    err = capsys.readouterr().err
    assert missing in err and "Traceback" not in err
    assert main(["train", str(PRESETS / "circle.json"), "--device", "tpu"]) == 2
    assert "train.device" in capsys.readouterr().err


# ---- runs ----------------------------------------------------------------------------------------
def test_runs_listing_and_show(tmp_path, capsys):
    store = str(tmp_path / "runs.db")
    assert main(["runs", "--store", store]) == 0
    assert "No runs recorded" in capsys.readouterr().out
    assert main(["train", str(PRESETS / "circle.json"), "--epochs", "1", "--quiet", "--store", store]) == 0
    assert main(["train", str(PRESETS / "linear.json"), "--epochs", "1", "--quiet", "--store", store]) == 0
    capsys.readouterr()

    assert main(["runs", "--store", store]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "name", "date", "status", "dataset", "epochs", "best", "val", "test", "duration"]
    assert "linear" in lines[2] and "circle" in lines[3]  # newest first
    assert "finished" in lines[2] and "r2" in lines[2] and "acc" in lines[3]
    assert len({len(line) for line in lines[:2]}) == 1  # aligned header and rule

    assert main(["runs", "--store", store, "--limit", "1", "--json"]) == 0
    (only,) = _json_lines(capsys.readouterr().out)
    assert only["dataset"] == "sample:linear" and only["status"] == "finished"

    assert main(["runs", "show", str(only["id"]), "--store", store]) == 0
    out = capsys.readouterr().out
    assert "Final metrics" in out and '"source": "sample:linear"' in out
    assert main(["runs", "--store", store, "show", str(only["id"]), "--json"]) == 0
    shown = _json_lines(capsys.readouterr().out)[0]
    assert shown["spec"]["data"]["source"] == "sample:linear" and len(shown["epoch_logs"]) == 1
    assert main(["runs", "show", "999", "--store", store]) == 2
    assert "No run 999" in capsys.readouterr().err


# ---- subprocesses: the real command ------------------------------------------------------------------
def test_bare_workbench_without_display_says_what_to_do():
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux")
    env = {k: v for k, v in _env().items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-m", "workbench"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert NO_DISPLAY_MESSAGE in proc.stderr and "Traceback" not in proc.stderr
    assert "`workbench train spiral`" in NO_DISPLAY_MESSAGE  # a preset by name works from any folder


def test_train_a_preset_by_name_from_another_folder(tmp_path):
    env = {**_env(), "WORKBENCH_STORE": str(tmp_path / "runs.db")}
    proc = subprocess.run([sys.executable, "-m", "workbench", "train", "gauss", "--epochs", "2", "--json"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    final = json.loads(proc.stdout.strip().splitlines()[-1])
    assert final["status"] == "finished" and final["epochs"] == 2


def test_presets_lists_every_preset(capsys):
    assert main(["presets", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["presets"]
    assert {r["name"] for r in rows} == {p.stem for p in PRESETS.glob("*.json")}
    assert all(Path(r["path"]).is_file() for r in rows)


def test_train_subprocess(tmp_path):
    store = str(tmp_path / "runs.db")
    ok = subprocess.run([sys.executable, "-m", "workbench", "train", str(PRESETS / "xor.json"), "--epochs", "2",
                         "--json", "--store", store], env=_env(), capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    lines = _json_lines(ok.stdout)
    assert len(lines) == 3 and lines[-1]["status"] == "finished"
    assert "epoch 2/2" in ok.stderr  # plain lines when stderr is not a terminal


def test_ctrl_c_stops_cleanly_with_130(tmp_path):
    store = tmp_path / "runs.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "train", str(PRESETS / "spiral.json"), "--epochs", "100000",
         "--json", "--store", str(store)],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline()  # the first epoch's JSON line: training is under way
        assert json.loads(first)["epoch"] == 1
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    final = _json_lines(out)[-1]
    assert final["status"] == "stopped" and final["epochs"] >= 1 and "Traceback" not in err
    from workbench.core.runs import RunStore

    with RunStore(store) as s:
        rec = s.get_run(final["run_id"])
        assert rec.status == "stopped" and rec.epochs >= 1


def test_failure_during_training_exits_1(tmp_path, capsys, monkeypatch):
    from workbench.core import training
    from workbench.core.training import RunFailed

    def broken_train(spec, **kwargs):
        yield RunFailed(message="out of memory at epoch 1; lower train.batch_size", details="Traceback ...")

    monkeypatch.setattr(training, "train", broken_train)
    store = tmp_path / "runs.db"
    assert main(["train", str(PRESETS / "gauss.json"), "--json", "--store", str(store)]) == 1
    out, err = capsys.readouterr()
    final = _json_lines(out)[-1]
    assert final["status"] == "failed" and "lower train.batch_size" in final["message"]
    assert "failed: out of memory" in err and "Traceback" not in err
    from workbench.core.runs import RunStore

    with RunStore(store) as s:
        assert s.get_run(final["run_id"]).status == "failed"


def test_a_preset_on_other_data_is_named_after_that_data_unless_named(tmp_path, capsys):
    data = tmp_path / "houses.csv"
    data.write_text("sqft,age,price\n" + "".join(f"{i % 7},{i % 5},{100000 + 1000 * i}\n" for i in range(60)))
    store = str(tmp_path / "runs.db")
    assert main(["train", "sine", "--data", str(data), "--target", "price", "--epochs", "1",
                 "--store", store, "--quiet"]) == 0
    assert main(["train", "sine", "--data", str(data), "--target", "price", "--epochs", "1",
                 "--name", "House prices", "--store", store, "--quiet"]) == 0
    assert main(["train", "sine", "--epochs", "1", "--store", store, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["runs", "--json", "--store", store]) == 0
    names = {r["id"]: r["name"] for r in _json_lines(capsys.readouterr().out)}
    assert names[1].startswith("houses.csv · MLP"), names
    assert names[2] == "House prices" and names[3] == "Sine regression"


def test_gui_takes_the_store_like_every_command_that_reads_runs(tmp_path, monkeypatch):
    from workbench.cli import gui
    from workbench.core.runs import default_store_path

    seen = {}
    monkeypatch.setenv("WORKBENCH_STORE", str(tmp_path / "other.db"))
    monkeypatch.setattr(gui, "open_app", lambda argv=(): seen.setdefault("store", str(default_store_path())) and 0)
    assert main(["gui", "--store", str(tmp_path / "mine.db")]) == 0
    assert seen["store"] == str((tmp_path / "mine.db").resolve())
