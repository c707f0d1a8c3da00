"""Compression (`workbench compress`): int8 (dynamic, static, QAT), fp16 weights, magnitude and
structured pruning, the before/after table and the sparsity curve. Numbers come from
onnxruntime on the run's test split; tolerances are stated where accuracy may move."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from workbench.cli import main
from workbench.core.export.compress import compress, sparsity_curve
from workbench.core.export.measure import onnx_nonzero_params
from workbench.core.export.onnx_io import ort_predict, ort_session, save_onnx
from workbench.core.export.prune import magnitude_prune, make_permanent, structured_prune, weight_sparsity
from workbench.core.export.quantize import fp16_weights

from tests.core.export_support import restored, train_run

INT8_TOLERANCE = 0.02  # int8 keeps the test accuracy within two points on these models
KEYS = {"variant", "size_bytes", "nonzero_params", "latency_ms_b1", "latency_ms_b64", "test_metric"}


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("digits")
    return train_run(tmp, "digits", epochs=8)


def test_mlp_variants_and_table(digits, tmp_path):
    r = restored(*digits)
    report = compress(r, ["fp16", "int8", "prune"], tmp_path, sparsity=0.5, finetune_epochs=1, repeats=20)
    names = [v.name for v in report.variants]
    assert names == ["original", "fp16 weights", "int8 (dynamic)", "pruned 50% (masks, fine-tuned 1 epoch)",
                     "pruned 50% (structured, fine-tuned 1 epoch)"]
    original, fp16, int8, masks, structured = report.variants
    n_params = sum(p.numel() for p in r.model.parameters())
    assert original.nonzero_params == n_params
    assert original.test_metric == pytest.approx(r.recorded_metrics["test_accuracy"], abs=1e-6)
    assert fp16.size_bytes < 0.65 * original.size_bytes and abs(fp16.test_metric - original.test_metric) < 0.005
    assert int8.size_bytes < 0.45 * original.size_bytes
    assert abs(int8.test_metric - original.test_metric) <= INT8_TOLERANCE
    weights = sum(m.weight.numel() for m in r.model.modules() if isinstance(m, nn.Linear))
    assert masks.nonzero_params == pytest.approx(n_params - weights // 2, abs=2)
    assert masks.size_bytes == pytest.approx(original.size_bytes, rel=0.01)  # masks do not shrink the file
    assert any("shrink neither the file nor the time" in n for n in masks.notes)
    assert structured.nonzero_params < 0.55 * n_params and structured.size_bytes < 0.65 * original.size_bytes
    assert "Layer 1 (Linear): 128 → 64 neurons" in structured.notes
    for v in report.variants:
        d = v.to_dict()
        assert KEYS <= set(d) and d["latency_ms_b1"] > 0 and d["latency_ms_b64"] > 0


def test_qat_follows_an_int8_loss(digits, tmp_path):
    r = restored(*digits)
    report = compress(r, ["int8"], tmp_path, qat_epochs=1, qat_trigger=-1.0, repeats=20)
    assert [v.name for v in report.variants] == ["original", "int8 (dynamic)", "int8 (dynamic) + QAT 1 epoch"]
    qat = report.variants[-1]
    assert abs(qat.test_metric - report.variants[0].test_metric) <= INT8_TOLERANCE
    assert qat.size_bytes < 0.45 * report.variants[0].size_bytes


def test_cnn_static_int8_and_channel_pruning(tmp_path):
    db, run_id = train_run(tmp_path, "shapes", epochs=2)
    r = restored(db, run_id)
    report = compress(r, ["int8", "prune"], tmp_path / "work", sparsity=0.5, qat_epochs=0,
                      repeats=20)
    original, int8, masks, structured = report.variants
    assert int8.name == "int8 (static)" and "calibrated" in int8.notes[0]
    assert abs(int8.test_metric - original.test_metric) <= 0.05  # a 2-epoch CNN: a looser bound
    assert masks.name == "pruned 50% (masks)"
    assert [n for n in structured.notes if n.startswith("Layer")] == [
        "Layer 1 (Conv2d): 16 → 8 channels", "Layer 5 (Conv2d): 32 → 16 channels", "Layer 9 (Conv2d): 32 → 16 channels"]
    assert structured.nonzero_params < original.nonzero_params / 3


def test_structured_pruning_removes_dead_channels_exactly():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(6 * 4 * 4, 10), nn.ReLU(), nn.Dropout(0.1), nn.Linear(10, 3))
    dead_channels, dead_neurons = [1, 4, 5], [0, 2, 3, 7, 9]
    with torch.no_grad():
        for c in dead_channels:  # these channels output exactly zero after the ReLU
            model[0].weight[c] = 0
            model[0].bias[c] = 0
            model[1].bias[c] = 0
            model[1].running_mean[c] = 0
        for n in dead_neurons:
            model[5].weight[n] = 0
            model[5].bias[n] = -1.0
    model.eval()
    result = structured_prune(model, (1, 8, 8), 0.5)
    small = result.model.eval()
    assert small[0].out_channels == 3 and small[1].num_features == 3 and small[5].in_features == 3 * 16
    assert small[5].out_features == 5 and small[8].in_features == 5 and small[8].out_features == 3
    x = torch.randn(7, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(small(x), model(x), atol=1e-5)
    assert result.params_after < result.params_before
    assert result.notes == ["Layer 1 (Conv2d): 6 → 3 channels", "Layer 6 (Linear): 10 → 5 neurons"]


def test_structured_pruning_keeps_layers_whose_outputs_mix():
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    result = structured_prune(model, (4,), 0.5)
    assert "Layer 1 (Linear) kept whole: Layer 2 (LayerNorm) after it mixes its outputs" in result.notes
    assert result.model[0].out_features == 8 and result.model[2].out_features == 4


def test_magnitude_pruning_hits_the_sparsity_and_keeps_the_zeros():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    pruned = magnitude_prune(model, 0.7)
    assert weight_sparsity(pruned) == pytest.approx(0.7, abs=0.01)
    assert weight_sparsity(model) == 0.0  # the original is untouched
    opt = torch.optim.SGD(pruned.parameters(), lr=0.1)
    pruned(torch.randn(8, 10)).sum().backward()
    opt.step()
    make_permanent(pruned)
    assert weight_sparsity(pruned) == pytest.approx(0.7, abs=0.01)  # training kept the masked weights at zero
    assert not any(name.endswith("_mask") for name, _ in pruned.named_buffers())


def test_fp16_weights_halve_the_file_and_keep_the_outputs(tmp_path):
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(32, 256), nn.ReLU(), nn.Linear(256, 4)).eval()
    src = save_onnx(model, (32,), tmp_path / "m.onnx")
    dst = tmp_path / "m16.onnx"
    assert fp16_weights(src, dst) == 3  # the 4-value bias stays float32
    assert dst.stat().st_size < 0.6 * src.stat().st_size
    x = np.random.default_rng(0).normal(size=(5, 32)).astype(np.float32)
    a, b = ort_predict(ort_session(src), x), ort_predict(ort_session(dst), x)
    assert np.abs(a - b).max() < 1e-2
    assert onnx_nonzero_params(src) == onnx_nonzero_params(dst) == sum(p.numel() for p in model.parameters())


def test_sparsity_curve_goes_down(digits):
    r = restored(*digits)
    name, curve = sparsity_curve(r, (0.0, 0.5, 0.99))
    assert name == "accuracy" and [s for s, _ in curve] == [0.0, 0.5, 0.99]
    assert curve[0][1] == pytest.approx(r.recorded_metrics["test_accuracy"], abs=1e-6)
    assert curve[2][1] < curve[0][1] - 0.2


def test_cli_compress_json(digits, tmp_path, capsys):
    db, run_id = digits
    code = main(["compress", str(run_id), "--store", str(db), "-m", "fp16", "--json", "--out", str(tmp_path)])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["variant"] for d in lines] == ["original", "fp16 weights"]
    assert all(KEYS <= set(d) for d in lines)
    assert (tmp_path / "predict.py").exists() and (tmp_path / "digits-mlp-fp16.json").exists()
    assert main(["compress", str(run_id), "--store", str(db), "-m", "zip"]) == 2
    assert "choose from int8, fp16, prune" in capsys.readouterr().err
    assert main(["compress", str(run_id), "--store", str(db), "--sparsity", "50"]) == 2
    assert "a fraction between 0 and 1" in capsys.readouterr().err
    assert main(["compress", str(run_id), "--store", str(db), "--qat-epochs", "-1"]) == 2
    assert "--qat-epochs -1: give a number of epochs" in capsys.readouterr().err
    assert main(["compress", str(run_id), "--store", str(tmp_path / "typo.db")]) == 2
    assert "no such run store" in capsys.readouterr().err and not (tmp_path / "typo.db").exists()


def test_a_run_without_a_test_split_is_measured_on_validation(tmp_path, capsys):
    spec = {"name": "notest", "data": {"source": "sample:gauss", "split": {"val": 0.2, "test": 0.0}},
            "model": {"layers": [{"type": "Linear", "out_features": "auto"}]}, "train": {"epochs": 1}}
    db, run_id = train_run(tmp_path, spec, epochs=1)
    r = restored(db, run_id)
    report = compress(r, ["fp16"], tmp_path / "work", repeats=20)
    assert report.split == "validation" and any("no test split" in m for m in report.messages)
    assert np.isfinite(report.variants[0].test_metric)
    assert report.variants[0].test_metric == pytest.approx(r.recorded_metrics["val_accuracy"], abs=1e-6)
    assert sparsity_curve(r, (0.0,))[1][0][1] == pytest.approx(report.variants[0].test_metric, abs=1e-6)
    capsys.readouterr()  # the training's own output
    assert main(["compress", str(run_id), "--store", str(db), "-m", "fp16", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["split"] == "validation"


def test_a_variant_clearly_slower_than_the_original_says_so():
    from pathlib import Path

    from workbench.core.export.measure import Variant, note_slowdowns

    def timed(name, b1, b64):
        return Variant(name, Path(f"{name}.onnx"), latency_min_ms_b1=b1, latency_min_ms_b64=b64)

    original, int8, fp16, pruned = (timed("original", 0.010, 0.20), timed("int8 (dynamic)", 0.012, 2.1),
                                    timed("fp16 weights", 0.016, 0.21), timed("pruned 50% (masks)", 0.100, 0.19))
    note_slowdowns([original, int8, fp16, pruned])
    assert int8.notes == ["10.5× slower than the original at batch 64 on this CPU: int8 kernels cost more than "
                          "they save on layers this small; fp16 weights or structured pruning are the faster "
                          "choice here"]
    assert pruned.notes == ["10.0× slower than the original at batch 1 on this CPU"]
    assert fp16.notes == [] and original.notes == []  # 6 µs slower at batch 1: noise, not a finding
