"""Regression targets on their own scale: standardised on the training split for training,
reported (metrics, predictions, checkpoints, the run store) in the target's own units."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.core.data import TargetScaler, load_dataset, prepare
from workbench.core.runs import RunRecorder, RunStore
from workbench.core.spec import parse_spec
from workbench.core.training import Callback, RunFinished, RunStarted, load_checkpoint, train

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def _big_scale_csv(path, n: int = 600, seed: int = 0):
    """y = 1e5 * f(x) + 2e5: prices in the hundreds of thousands."""
    g = np.random.default_rng(seed)
    X = g.uniform(-2, 2, size=(n, 3))
    f = np.sin(X[:, 0]) + 0.5 * X[:, 1] - 0.3 * X[:, 2] ** 2
    y = 1e5 * f + 2e5 + g.normal(0, 2e3, n)
    lines = ["a,b,c,price"] + [f"{a:.6f},{b:.6f},{c:.6f},{t:.2f}" for (a, b, c), t in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _spec(source, standardize_target: bool = True, epochs: int = 40):
    return parse_spec({
        "name": "prices",
        "data": {"source": str(source), "standardize_target": standardize_target},
        "model": {"layers": [{"type": "Linear", "out_features": 32}, {"type": "ReLU"},
                             {"type": "Linear", "out_features": "auto"}]},
        "loss": {"type": "MSELoss"},
        "optimizer": {"type": "Adam", "lr": 0.003},
        "train": {"epochs": epochs, "batch_size": 32, "device": "cpu", "seed": 0},
    })


class _KeepModel(Callback):
    def on_run_end(self, run, event):
        self.model = run.model


def _run(spec, tmp_path, **kw):
    keep = _KeepModel()
    events = list(train(spec, base_dir=tmp_path, callbacks=[keep, *kw.pop("callbacks", [])], **kw))
    assert isinstance(events[-1], RunFinished), events[-1]
    return events, keep.model


def test_large_scale_target_trains_with_defaults_and_metrics_match_sklearn(tmp_path):
    csv = _big_scale_csv(tmp_path / "prices.csv")
    spec = _spec(csv)
    assert spec.data.standardize_target  # on by default
    events, model = _run(spec, tmp_path)
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.target_scaler is not None
    assert 1.5e5 < started.target_scaler["mean"][0] < 2.5e5
    metrics = events[-1].metrics
    assert metrics["test_r2"] > 0.9 and metrics["val_r2"] > 0.9

    # the same numbers by hand, in the target's own units (prices)
    prepared = prepare(load_dataset(spec.data, tmp_path), spec.data)
    scaler = prepared.meta.target_scaler
    model.eval()
    with torch.no_grad():
        pred = scaler.to_units(model(prepared.test.X)).numpy().ravel()
    truth = prepared.test.y.numpy().ravel()
    assert truth.mean() > 1e5  # the split keeps the target's own units
    assert metrics["test_r2"] == pytest.approx(sklearn_metrics.r2_score(truth, pred), rel=1e-4)
    assert metrics["test_mae"] == pytest.approx(sklearn_metrics.mean_absolute_error(truth, pred), rel=1e-4)
    assert metrics["test_rmse"] == pytest.approx(np.sqrt(sklearn_metrics.mean_squared_error(truth, pred)), rel=1e-4)
    assert metrics["test_mae"] > 1000  # in prices, not standardised units


def test_without_target_standardisation_the_same_model_falls_short(tmp_path):
    csv = _big_scale_csv(tmp_path / "prices.csv")
    events, _ = _run(_spec(csv, standardize_target=False), tmp_path)
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.target_scaler is None
    assert events[-1].metrics["test_r2"] < 0.5


def test_scaler_is_stored_with_the_run_and_its_checkpoints(tmp_path):
    csv = _big_scale_csv(tmp_path / "prices.csv", n=200)
    spec = _spec(csv, epochs=2)
    store = RunStore(tmp_path / "runs.db")
    recorder = RunRecorder.begin(store, spec, run_dir=tmp_path / "run")
    _run(spec, tmp_path, callbacks=[recorder], run_dir=recorder.run_dir)
    stored = store.target_scaler(recorder.run_id)
    prepared = prepare(load_dataset(spec.data, tmp_path), spec.data)
    assert stored == prepared.meta.target_scaler
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    assert TargetScaler.from_dict(ckpt["preprocessing"]["target"]) == stored
    assert len(ckpt["preprocessing"]["input_mean"]) == 3
    store.close()


def test_scaler_round_trips_per_column_for_numpy_and_torch():
    g = np.random.default_rng(1)
    y = np.stack([g.normal(5e5, 1e5, 50), g.normal(-3, 0.01, 50)], axis=1).astype(np.float32)
    from workbench.core.data.split import fit_target_scaler

    scaler = fit_target_scaler(y)
    assert scaler.width == 2
    z = scaler.to_standard(y)
    assert np.allclose(z.mean(axis=0), 0, atol=1e-3) and np.allclose(z.std(axis=0), 1, atol=1e-3)
    assert np.allclose(scaler.to_units(z), y, rtol=1e-5)
    t = torch.from_numpy(y)
    assert torch.allclose(scaler.to_units(scaler.to_standard(t)), t, rtol=1e-5)
    assert scaler.to_standard(t).dtype == torch.float32
    one = fit_target_scaler(y[:, :1])
    assert np.allclose(one.to_units(one.to_standard(y[:, 0])), y[:, 0], rtol=1e-5)  # 1-D works too
    assert TargetScaler.from_dict(scaler.to_dict()) == scaler


def test_multi_output_targets_are_standardised_per_column(tmp_path):
    g = np.random.default_rng(2)
    X = g.normal(size=(400, 2)).astype(np.float32)
    y = np.stack([1e4 * X[:, 0] + 5e4, 0.01 * X[:, 1] - 1.0], axis=1).astype(np.float32)
    np.savez(tmp_path / "two.npz", X=X, y=y)
    spec = _spec(tmp_path / "two.npz", epochs=30)
    events, model = _run(spec, tmp_path)
    started = next(e for e in events if isinstance(e, RunStarted))
    assert len(started.target_scaler["std"]) == 2
    assert started.target_scaler["std"][0] > 1e3 > 1.0 > started.target_scaler["std"][1]
    assert events[-1].metrics["test_r2"] > 0.9  # both columns learnt despite scales 1e6 apart
