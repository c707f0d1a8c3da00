"""Shared helpers for the trainer/callback/runner tests: tiny in-memory data and specs."""

from __future__ import annotations


import numpy as np
import torch

from workbench.core.data import DatasetMeta, PreparedData, Split
from workbench.core.spec import parse_spec


# ---- data --------------------------------------------------------------------------------------
def spiral_data(n: int = 600, seed: int = 0, noise: float = 0.15, val: float = 0.15, test: float = 0.15) -> PreparedData:
    g = np.random.default_rng(seed)
    half = n // 2
    t = np.sqrt(g.uniform(0, 1, half)) * 3 * np.pi
    a = np.stack([t * np.cos(t), t * np.sin(t)], 1) / 10
    b = -a
    X = np.concatenate([a, b]).astype(np.float32) + g.normal(0, noise, (2 * half, 2)).astype(np.float32)
    y = np.concatenate([np.zeros(half), np.ones(half)]).astype(np.int64)
    idx = g.permutation(len(X))
    X, y = X[idx], y[idx]
    n_val, n_test = int(len(X) * val), int(len(X) * test)
    n_tr = len(X) - n_val - n_test
    meta = DatasetMeta(source="test:spiral", kind="tabular", task="classification", class_names=["0", "1"],
                       feature_names=["x1", "x2"], input_shape=(2,), target_name="label", target_width=2,
                       n_samples=len(X), class_counts=[half, half])

    def split(a, b):
        return Split(torch.from_numpy(X[a:b].copy()), torch.from_numpy(y[a:b].copy()))

    return PreparedData(train=split(0, n_tr), val=split(n_tr, n_tr + n_val), test=split(n_tr + n_val, len(X)),
                        meta=meta, mean=None, std=None, augment=None)


def regression_data(n: int = 300, seed: int = 0) -> PreparedData:
    g = np.random.default_rng(seed)
    X = g.normal(size=(n, 3)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32) + 0.1 * g.normal(size=(n, 1))).astype(np.float32)
    meta = DatasetMeta(source="test:linear", kind="tabular", task="regression", class_names=[],
                       feature_names=["a", "b", "c"], input_shape=(3,), target_name="y", target_width=1, n_samples=n)
    a, b = int(n * 0.7), int(n * 0.85)
    sp = lambda i, j: Split(torch.from_numpy(X[i:j].copy()), torch.from_numpy(y[i:j].copy()))  # noqa: E731
    return PreparedData(train=sp(0, a), val=sp(a, b), test=sp(b, n), meta=meta, mean=None, std=None, augment=None)


def mlp_spec(hidden=(32, 32), epochs: int = 3, batch_size=32, optimizer=None, **train) -> "object":
    layers = []
    for h in hidden:
        layers += [{"type": "Linear", "out_features": h}, {"type": "ReLU"}]
    layers.append({"type": "Linear", "out_features": "auto"})
    raw = {
        "name": "test",
        "data": {"source": "sample:spiral"},
        "model": {"layers": layers},
        "loss": {"type": "CrossEntropyLoss"},
        "optimizer": optimizer or {"type": "Adam", "lr": 0.01},
        "train": {"epochs": epochs, "batch_size": batch_size, "device": "cpu", "seed": 0, **train},
    }
    return parse_spec(raw)


TIMING_FIELDS = {"elapsed", "samples_per_s", "epoch_seconds", "duration", "device_name"}


def strip_timing(event) -> dict:
    d = event.to_dict()
    return {k: v for k, v in d.items() if k not in TIMING_FIELDS}
