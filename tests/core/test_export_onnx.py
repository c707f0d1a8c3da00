"""Exports (`workbench export RUN --format onnx|pt2|safetensors`): raw inputs in, checked against
PyTorch with onnxruntime on the run's test split, for MLP, CNN, LSTM and regression models; the
generated predict.py; the CLI."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from workbench.cli import main
from workbench.core.export import export_model
from workbench.core.export.onnx_io import ort_predict, ort_session

from tests.core.export_support import PRESET_NAMES, restored, train_run

SEQUENCE_SPEC = {
    "name": "tokens-lstm",
    "data": {"source": "tokens.csv", "standardize": False},
    "model": {"layers": [{"type": "Embedding", "num_embeddings": 10, "embedding_dim": 4},
                         {"type": "LSTM", "hidden_size": 8}, {"type": "Linear", "out_features": "auto"}]},
    "train": {"epochs": 2, "batch_size": 16},
}


def _token_csv(path):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 10, (200, 6))
    y = np.where(X[:, -1] > 4, "high", "low")
    rows = ["t1,t2,t3,t4,t5,t6,label"] + [",".join(map(str, r)) + f",{lab}" for r, lab in zip(X, y)]
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A finished run of each kind: MLP (iris), CNN (shapes), LSTM (tokens) and regression (sine)."""
    tmp = tmp_path_factory.mktemp("export_runs")
    _token_csv(tmp / "tokens.csv")
    spec = dict(SEQUENCE_SPEC, data={**SEQUENCE_SPEC["data"], "source": str(tmp / "tokens.csv")})
    out = {}
    for name, what, epochs in (("mlp", "iris", 5), ("cnn", "shapes", 1), ("lstm", spec, 2), ("regression", "sine", 5)):
        sub = tmp / name
        sub.mkdir()
        out[name] = train_run(sub, what, epochs=epochs)
    return out


@pytest.fixture(scope="module")
def onnx_exports(runs, tmp_path_factory):
    out = {}
    for name, (db, run_id) in runs.items():
        r = restored(db, run_id)
        out[name] = (r, export_model(r, "onnx", tmp_path_factory.mktemp(f"onnx_{name}")))
    return out


@pytest.mark.parametrize("kind", ["mlp", "cnn", "lstm", "regression"])
def test_onnx_matches_pytorch_on_the_test_split(onnx_exports, kind):
    r, result = onnx_exports[kind]
    parity = result.parity
    assert parity.rows == len(r.raw.test) > 0
    assert parity.max_abs_diff < 1e-4
    assert parity.matches
    assert parity.metric == ("r2" if kind == "regression" else "accuracy")
    assert abs(parity.torch_value - parity.onnx_value) < 1e-6
    # the exported model on raw inputs gives the metric the run recorded on standardised inputs
    recorded = r.recorded_metrics["test_r2" if kind == "regression" else "test_accuracy"]
    assert parity.torch_value == pytest.approx(recorded, abs=1e-5)
    assert result.messages[0].startswith("ONNX matches PyTorch: max |Δ| ")
    session = ort_session(result.files[0])
    assert session.get_inputs()[0].shape[0] == "batch"  # dynamic batch dimension
    one = ort_predict(session, r.raw.test.X[:1])
    many = ort_predict(session, r.raw.test.X[:7])
    assert one.shape[0] == 1 and many.shape[0] == 7


def test_sidecar_describes_inputs_and_classes(onnx_exports):
    r, result = onnx_exports["mlp"]
    info = json.loads(result.files[1].read_text())
    assert info["class_names"] == ["setosa", "versicolor", "virginica"]
    assert info["output"] == "logits" and info["input_shape"] == ["batch", 4]
    assert [c["name"] for c in info["columns"]] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert info["onnx_parity"]["matches"] is True
    _, cnn = onnx_exports["cnn"]
    info = json.loads(cnn.files[1].read_text())
    assert info["image"] == {"size": 28, "mode": "grayscale", "channels": 1, "scale": "pixels / 255 (0 to 1)",
                             "layout": "NCHW"}


def test_predict_script_on_a_csv(onnx_exports, tmp_path):
    from workbench.core.data import sample_data_dir

    r, result = onnx_exports["mlp"]
    predict = next(f for f in result.files if f.name == "predict.py")
    proc = subprocess.run([sys.executable, str(predict), str(sample_data_dir() / "iris.csv")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0][:3] == ["row", "prediction", "probability"] and len(rows) == 151
    with torch.no_grad():
        expected = r.model(r.prepared.train.X[:0])  # noqa: F841 - keeps the model in eval mode
        X = torch.from_numpy(r.dataset.X)
        mean, std = torch.tensor(r.preprocessing["input_mean"]), torch.tensor(r.preprocessing["input_std"])
        want = r.model((X - mean) / std).argmax(1)
    got = [r.meta.class_names.index(row[1]) for row in rows[1:]]
    assert got == want.tolist()


def test_predict_script_for_regression_and_bad_rows(onnx_exports, tmp_path):
    r, result = onnx_exports["regression"]
    predict = next(f for f in result.files if f.name == "predict.py")
    (tmp_path / "in.csv").write_text("x\n0.5\n1.0\n-2\n")
    proc = subprocess.run([sys.executable, str(predict), str(tmp_path / "in.csv")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["row", "y"]
    with torch.no_grad():
        module = __import__("workbench.core.export", fromlist=["raw_input_model"]).raw_input_model(
            r.model, r.meta, r.preprocessing)
        want = module(torch.tensor([[0.5], [1.0], [-2.0]])).reshape(-1).tolist()
    assert [float(row[1]) for row in rows[1:]] == pytest.approx(want, abs=1e-4)
    (tmp_path / "bad.csv").write_text("x\nabc\n")
    proc = subprocess.run([sys.executable, str(predict), str(tmp_path / "bad.csv")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0 and "line 2: column 'x' holds 'abc', not a number" in proc.stderr
    (tmp_path / "other.csv").write_text("z\n1\n")
    proc = subprocess.run([sys.executable, str(predict), str(tmp_path / "other.csv")], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0 and "no column 'x'. The model needs the columns: x" in proc.stderr


def test_predict_script_on_an_image_folder(onnx_exports):
    from workbench.core.data import sample_data_dir

    r, result = onnx_exports["cnn"]
    predict = next(f for f in result.files if f.name == "predict.py")
    folder = sample_data_dir() / "shapes" / "cross"
    proc = subprocess.run([sys.executable, str(predict), str(folder)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))[1:]
    files = sorted(p.name for p in folder.glob("*.png"))
    assert [row[0] for row in rows] == files
    # the same pixels as the app's loader: the same predictions as the model on the loaded images
    start = r.meta.class_names.index("cross")
    first = sum(r.meta.class_counts[:start])
    X = torch.from_numpy(r.dataset.X[first:first + len(files)])
    with torch.no_grad():
        module = __import__("workbench.core.export", fromlist=["raw_input_model"]).raw_input_model(
            r.model, r.meta, r.preprocessing)
        want = module(X).argmax(1).tolist()
    assert [r.meta.class_names.index(row[1]) for row in rows] == want


def test_pt2_and_safetensors(runs, tmp_path):
    from safetensors import safe_open

    r = restored(*runs["mlp"])
    pt2 = export_model(r, "pt2", tmp_path)
    program = torch.export.load(str(pt2.files[0])).module()
    X = r.raw.test.X
    with torch.no_grad():
        assert torch.allclose(program(X), export_model.__globals__["raw_module"](r)(X), atol=1e-6)
    st = export_model(r, "safetensors", tmp_path)
    with safe_open(str(st.files[0]), "pt") as f:
        meta = f.metadata()
        state = {k: f.get_tensor(k) for k in f.keys()}
    assert json.loads(meta["workbench_spec"])["name"] == r.spec.name
    assert json.loads(meta["workbench_preprocessing"])["input_mean"] == pytest.approx(r.preprocessing["input_mean"])
    assert json.loads(meta["workbench_inputs"])["class_names"] == r.meta.class_names
    want = r.model.state_dict()
    assert set(state) == set(want) and all(torch.equal(state[k], want[k]) for k in want)
    # readable by whoever may read the JSON beside it (safetensors itself writes owner-only files)
    assert st.files[0].stat().st_mode & 0o777 == st.files[1].stat().st_mode & 0o777


def test_cli_export(runs, tmp_path, capsys):
    db, run_id = runs["mlp"]
    code = main(["export", str(run_id), "--format", "pt2", "--out", str(tmp_path / "x"), "--store", str(db),
                 "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "exported" and out["files"][0].endswith(".pt2")
    assert main(["export", "999", "--out", str(tmp_path), "--store", str(db)]) == 2
    assert "No run 999" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["export", str(run_id), "--out", str(tmp_path / "file"), "--store", str(db)]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err


def test_export_of_a_run_without_weights(tmp_path, capsys):
    spec = {"name": "nockpt", "data": {"source": "sample:gauss"}, "model": {"layers": [
        {"type": "Linear", "out_features": "auto"}]}, "train": {"epochs": 1, "checkpoint": False}}
    db, run_id = train_run(tmp_path, spec, epochs=1)
    assert main(["export", str(run_id), "--out", str(tmp_path / "o"), "--store", str(db)]) == 2
    assert "has no checkpoint with its weights" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_onnx_parity_for_every_preset(tmp_path, preset):
    db, run_id = train_run(tmp_path, preset, epochs=3)
    r = restored(db, run_id)
    parity = export_model(r, "onnx", tmp_path / "out").parity
    assert parity.matches and parity.max_abs_diff < 1e-4, parity.sentence()


def test_lstm_int8_and_pruning(runs, tmp_path):
    from workbench.core.export import compress

    r = restored(*runs["lstm"])
    report = compress(r, ["int8", "prune"], tmp_path, qat_epochs=0, repeats=20)
    original, int8, masks = report.variants
    assert int8.name == "int8 (dynamic)" and int8.size_bytes < original.size_bytes
    assert abs(int8.test_metric - original.test_metric) <= 0.05  # a 2-epoch LSTM: a loose bound
    assert "structured pruning found nothing it could remove" in masks.notes[-1]
