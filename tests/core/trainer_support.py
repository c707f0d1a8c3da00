"""Shared helpers for the trainer/callback/runner tests: tiny in-memory data and specs.

While the model/metrics/data modules are being written, `ensure_core_modules()` installs small
stand-ins for whichever of them cannot be imported yet (tests only; never in the package).
"""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import torch

from workbench.core.data.types import DatasetMeta, PreparedData, Split
from workbench.core.spec import parse_spec


def _standin_model_module() -> types.ModuleType:
    mod = types.ModuleType("workbench.core.model")

    class ModelError(ValueError):
        pass

    class _Summary:
        def __init__(self, n):
            self.total_params = self.trainable_params = n
            self.total_flops = 0
            self.memory_bytes = 0

        def rows(self):
            return []

    def build_model(spec, meta):
        layers, shape = [], tuple(meta.input_shape)
        for i, layer in enumerate(spec.model.layers):
            p = layer.params
            if layer.type == "Linear":
                out = p.get("out_features", 16)
                out = meta.target_width if out == "auto" else out
                if len(shape) != 1:
                    raise ModelError(f"Layer {i} (Linear) needs flat features; add Flatten before it")
                layers.append(torch.nn.Linear(shape[0], out))
                shape = (out,)
            elif layer.type == "Flatten":
                layers.append(torch.nn.Flatten())
                shape = (int(np.prod(shape)),)
            elif layer.type == "Conv2d":
                oc, k = p.get("out_channels", 16), p.get("kernel_size", 3)
                layers.append(torch.nn.Conv2d(shape[0], oc, k))
                shape = (oc, shape[1] - k + 1, shape[2] - k + 1)
            elif layer.type == "MaxPool2d":
                k = p.get("kernel_size", 2)
                layers.append(torch.nn.MaxPool2d(k))
                shape = (shape[0], shape[1] // k, shape[2] // k)
            elif layer.type == "BatchNorm1d":
                layers.append(torch.nn.BatchNorm1d(shape[0]))
            elif layer.type == "Dropout":
                layers.append(torch.nn.Dropout(p.get("p", 0.5)))
            else:
                layers.append(getattr(torch.nn, layer.type)())
        model = torch.nn.Sequential(*layers)
        return model, _Summary(sum(q.numel() for q in model.parameters()))

    mod.ModelError, mod.build_model = ModelError, build_model
    return mod


def _standin_metrics_module() -> types.ModuleType:
    mod = types.ModuleType("workbench.core.metrics")

    def classification_metrics(logits, y, n_classes, prefix=""):
        pred = logits.argmax(1)
        return {f"{prefix}accuracy": (pred == y).float().mean().item(), f"{prefix}precision": 0.0,
                f"{prefix}recall": 0.0, f"{prefix}f1": 0.0}

    def regression_metrics(pred, y, prefix=""):
        err = pred.float() - y.float()
        var = ((y - y.mean()) ** 2).mean().item()
        mse = (err ** 2).mean().item()
        return {f"{prefix}mae": err.abs().mean().item(), f"{prefix}rmse": math.sqrt(mse),
                f"{prefix}r2": 1 - mse / var if var > 0 else 0.0}

    mod.classification_metrics, mod.regression_metrics = classification_metrics, regression_metrics
    return mod


def ensure_core_modules() -> None:
    for name, factory in (("workbench.core.model", _standin_model_module),
                          ("workbench.core.metrics", _standin_metrics_module)):
        try:
            __import__(name)
        except ImportError:
            sys.modules[name] = factory()
    try:
        import workbench.core.data  # noqa: F401
        from workbench.core.data import DataError  # noqa: F401
    except ImportError:
        import workbench.core.data as pkg  # namespace package
        from workbench.core.data.types import DataError as _DE
        pkg.DataError = _DE


ensure_core_modules()


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
