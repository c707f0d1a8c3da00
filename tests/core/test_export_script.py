"""The standalone training script (`workbench export RUN --format script`): plain PyTorch and
NumPy that reproduces the app's run, for every preset and for a CSV with text columns.

The script's pieces are checked against the engine's own (split, standardisation, batch order,
augmentation, initial weights); whole runs are compared epoch by epoch (losses within 1e-4) and
on the final test metric (within 0.005). Runs are short here; a slow test does full presets.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from workbench.core.data import augment_batch
from workbench.core.export import export_model
from workbench.core.runs import RunStore
from workbench.core.spec import AugmentSpec
from workbench.core.training import build_model, epoch_permutation

from tests.core.export_support import PRESET_NAMES, load_script, restored, run_script, train_run

SHORT_EPOCHS = {"shapes": 1, "digits": 2}
LOSS_TOLERANCE = 1e-4
METRIC_TOLERANCE = 0.005


def _template():
    from workbench.core.export.script import TEMPLATE

    return load_script(TEMPLATE)


def _compare(db, run_id, logs, final):
    with RunStore(db) as store:
        epochs = store.epochs(run_id)
        metrics = store.get_run(run_id).metrics
    assert len(logs) == len(epochs)
    for want, got in zip(epochs, logs):
        for key in ("loss", "val_loss"):
            if key in want:
                assert abs(want[key] - got[key]) < LOSS_TOLERANCE, (want["epoch"], key, want[key], got[key])
    key = "test_accuracy" if "test_accuracy" in metrics else "test_r2"
    assert abs(metrics[key] - final[key]) < METRIC_TOLERANCE, (key, metrics[key], final[key])
    return max(abs(w[k] - g[k]) for w, g in zip(epochs, logs) for k in ("loss", "val_loss") if k in w)


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_script_reproduces_each_preset(tmp_path, preset):
    db, run_id = train_run(tmp_path, preset, epochs=SHORT_EPOCHS.get(preset, 3))
    result = export_model(restored(db, run_id), "script", tmp_path / "out")
    script = result.files[0]
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(script.read_text()))
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in
                (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])}
    assert imported <= {"__future__", "argparse", "csv", "io", "json", "math", "pathlib", "numpy", "torch", "PIL"}
    logs, final = run_script(load_script(script))
    _compare(db, run_id, logs, final)


def test_script_reads_a_csv_with_text_columns_and_missing_values(tmp_path):
    rng = np.random.default_rng(3)
    n = 240
    size = rng.normal(10, 3, n)
    color = rng.choice(["red", "green", "blue"], n)
    shape = rng.choice(["round", "square"], n)
    label = np.where((size > 10) ^ (color == "red"), "yes", "no")
    lines = ["size,color,shape,label"]
    for i in range(n):
        cell = "" if i % 37 == 5 else f"{size[i]:.3f}"  # a few missing numbers, imputed
        lines.append(f"{cell},{color[i]},{shape[i]},{label[i]}")
    csv_path = tmp_path / "things.csv"
    csv_path.write_text("\n".join(lines) + "\n")
    spec = {"name": "things", "data": {"source": str(csv_path), "missing": "impute"},
            "model": {"layers": [{"type": "Linear", "out_features": 16}, {"type": "ReLU"},
                                 {"type": "Linear", "out_features": "auto"}]},
            "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9},
            "schedule": {"type": "StepLR", "step_size": 2, "gamma": 0.5, "warmup": {"epochs": 1}},
            "train": {"epochs": 4, "batch_size": 16, "device": "cpu", "grad_clip": 1.0, "l1": 1e-4}}
    db, run_id = train_run(tmp_path, spec, epochs=4)
    result = export_model(restored(db, run_id), "script", tmp_path / "out")
    assert any("reads things.csv itself" in m for m in result.messages), result.messages
    assert result.files == [result.files[0]]  # no data copy beside it
    module = load_script(result.files[0])
    assert module.COLUMNS[1] == {"name": "color", "kind": "categorical", "levels": ["blue", "green", "red"]}
    assert "fill" in module.COLUMNS[0]
    logs, final = run_script(module)
    _compare(db, run_id, logs, final)


def test_script_runs_as_a_program(tmp_path):
    db, run_id = train_run(tmp_path, "gauss", epochs=2)
    result = export_model(restored(db, run_id), "script", tmp_path / "out")
    assert result.files[1].suffix == ".npz"  # a generated sample: its points travel beside the script
    proc = subprocess.run([sys.executable, str(result.files[0]), "--json", "--save", str(tmp_path / "w.pt")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    logs, final = lines[:-1], lines[-1]["final"]
    assert _compare(db, run_id, logs, final) < LOSS_TOLERANCE
    state = torch.load(tmp_path / "w.pt", weights_only=True)
    assert set(state) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_template_split_matches_the_engine():
    from workbench.core.data import Dataset, DatasetMeta, prepare
    from workbench.core.spec import DataSpec

    template = _template()
    rng = np.random.default_rng(0)
    for n, classes, task in ((50, 3, "classification"), (31, 7, "classification"), (12, 10, "classification"),
                             (40, 0, "regression")):
        y = rng.integers(0, classes, n) if classes else rng.normal(size=(n, 1)).astype(np.float32)
        X = rng.normal(size=(n, 2)).astype(np.float32)
        meta = DatasetMeta("t", "tabular", task, [str(i) for i in range(classes)], ["a", "b"], (2,), "y",
                           classes or 1, n)
        prepared = prepare(Dataset(X, y, meta), DataSpec(seed=5, standardize=True))
        tr, va, te = template.split_indices(y, task, classes, 0.15, 0.15, 5)
        mean, std = template.fit_standardizer(X[tr], "tabular")
        for split, idx in ((prepared.train, tr), (prepared.val, va), (prepared.test, te)):
            assert np.allclose(split.X.numpy(), template.standardize(X[idx], mean, std, "tabular"), atol=1e-6)


def test_template_batches_and_augmentation_match_the_engine():
    template = _template()
    assert torch.equal(template.epoch_permutation(100, 3, 7), epoch_permutation(100, 3, 7))
    aug = AugmentSpec(hflip=True, vflip=True, rotate_degrees=20, shift=0.1, noise_std=0.05)
    template.AUGMENT = aug.model_dump()
    x = torch.rand(8, 1, 12, 12)
    a = augment_batch(x, aug, torch.Generator().manual_seed(4))
    b = template.augment_batch(x, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


@pytest.mark.parametrize("layers", [
    [{"type": "Linear", "out_features": 8}, {"type": "BatchNorm1d"}, {"type": "LeakyReLU", "negative_slope": 0.2},
     {"type": "Residual", "layers": [{"type": "Linear", "out_features": 12}, {"type": "GELU", "approximate": "tanh"}]},
     {"type": "LayerNorm"}, {"type": "Dropout", "p": 0.1}, {"type": "Linear", "out_features": "auto"}],
    [{"type": "Embedding", "num_embeddings": 20, "embedding_dim": 6}, {"type": "LSTM", "hidden_size": 5,
     "num_layers": 2, "bidirectional": True}, {"type": "Linear", "out_features": "auto"}],
    [{"type": "Embedding", "num_embeddings": 20, "embedding_dim": 6}, {"type": "GRU", "hidden_size": 5},
     {"type": "ELU"}, {"type": "Linear", "out_features": "auto"}],
])
def test_model_code_builds_the_same_initial_weights(layers):
    from workbench.core.data import DatasetMeta
    from workbench.core.export.script_code import custom_classes_code, model_code
    from workbench.core.spec import parse_spec

    spec = parse_spec({"data": {"source": "x.csv", "standardize": layers[0]["type"] != "Embedding"},
                       "model": {"layers": layers}})
    meta = DatasetMeta("x.csv", "tabular", "classification", ["a", "b", "c"], [f"f{i}" for i in range(5)], (5,),
                       "y", 3, 10)
    torch.manual_seed(11)
    model, _ = build_model(spec, meta)
    code, custom = model_code(model)
    namespace: dict = {}
    exec("import torch\nimport torch.nn.functional as F\nfrom torch import nn\n" + custom_classes_code(custom)
         + "\n" + code, namespace)
    torch.manual_seed(11)
    again = namespace["build_model"]()
    want, got = model.state_dict(), again.state_dict()
    assert list(want) == list(got)
    assert all(torch.equal(want[k], got[k]) for k in want)
    x = torch.randint(0, 20, (4, 5)).float()
    model.eval(), again.eval()
    assert torch.equal(model(x), again(x))


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_script_reproduces_full_presets(tmp_path, preset):
    from workbench.core.locations import preset_path
    from workbench.core.spec import load_spec

    epochs = load_spec(preset_path(preset)).train.epochs
    db, run_id = train_run(tmp_path, preset, epochs=epochs)
    result = export_model(restored(db, run_id), "script", tmp_path / "out")
    logs, final = run_script(load_script(result.files[0]))
    with RunStore(db) as store:
        epochs_rec = store.epochs(run_id)
        metrics = store.get_run(run_id).metrics
    for want, got in list(zip(epochs_rec, logs))[:5]:
        assert abs(want["loss"] - got["loss"]) < LOSS_TOLERANCE
    key = "test_accuracy" if "test_accuracy" in metrics else "test_r2"
    assert abs(metrics[key] - final[key]) < METRIC_TOLERANCE
