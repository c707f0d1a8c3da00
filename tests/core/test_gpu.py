"""The engine on a CUDA GPU: mixed precision trains, running out of GPU memory is a RunFailed a
person can act on and gives the memory back. Marked `gpu`; skipped without CUDA."""

from __future__ import annotations

import pytest
import torch

from tests.core import trainer_support as ts
from workbench.core.training import EpochEnd, RunFailed, RunFinished
from workbench.core.training import train

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("precision,expected", [("auto", None), ("bf16", "bf16"), ("fp16", "fp16"),
                                                ("fp32", "fp32")])
def test_mixed_precision_trains_on_cuda(precision, expected):
    spec = ts.mlp_spec(hidden=(64, 64), epochs=30, batch_size=32, device="cuda", precision=precision,
                       optimizer={"type": "Adam", "lr": 0.01}).with_values({"data.source": "sample:spiral"})
    events = list(train(spec))  # the built-in spiral (as the preset); fp32 on the CPU: val acc ~0.99
    end = events[-1]
    assert isinstance(end, RunFinished), end
    started = events[0]
    assert started.device.startswith("cuda")
    if expected is None:  # auto: bf16 where the GPU has it, else fp16 with a GradScaler
        expected = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    assert started.precision == expected
    losses = [e.logs["loss"] for e in events if isinstance(e, EpochEnd)]
    assert losses[-1] < 0.2 * losses[0], losses
    assert end.metrics["val_accuracy"] > 0.9, end.metrics


def _huge_conv_run():
    """A conv layer whose activations cannot fit: 4096 channels x 128x128 x 4 bytes = 256 MiB per
    sample, times a batch of 2048 (and more for the backward pass)."""
    from workbench.core.data import DatasetMeta, PreparedData, Split

    n = 2048
    X = torch.randn(n, 1, 128, 128)
    y = torch.randint(0, 2, (n,))
    meta = DatasetMeta(source="t", kind="image", task="classification", class_names=["a", "b"],
                       feature_names=[], input_shape=(1, 128, 128), target_name="label", target_width=2,
                       n_samples=n)
    data = PreparedData(train=Split(X, y), val=Split(X[:0], y[:0]), test=Split(X[:0], y[:0]),
                        meta=meta, mean=None, std=None, augment=None)
    spec = ts.parse_spec({**ts.mlp_spec().to_dict(), "model": {"layers": [
        {"type": "Conv2d", "out_channels": 4096, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
        {"type": "Flatten"}, {"type": "Linear", "out_features": "auto"}]},
        "train": {"epochs": 1, "batch_size": n, "device": "cuda", "precision": "fp32"}})
    return spec, data


def test_out_of_gpu_memory_is_a_clear_failure_and_memory_is_released():
    spec, data = _huge_conv_run()
    before, reserved_before = torch.cuda.memory_allocated(), torch.cuda.memory_reserved()
    events = list(train(spec, data=data))
    end = events[-1]
    assert isinstance(end, RunFailed), end
    assert "out of GPU memory at batch size 2048; lower the batch size" in end.message, end.message
    assert "Traceback" in end.details
    del events, end
    assert torch.cuda.memory_allocated() - before < 64 * 2**20
    # the failed run's weights (512 MiB here) and data went back to the driver, not just the cache
    assert torch.cuda.memory_reserved() - reserved_before < 256 * 2**20
