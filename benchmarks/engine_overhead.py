"""Engine overhead: samples/s of workbench's train() vs a minimal hand-written PyTorch loop.

Same model (built from the same spec), data (already on the device), optimizer, loss, device and
batch order; runs are INTERLEAVED (engine, hand, engine, hand, ...) and the median of each is
reported. The engine's time runs from RunStarted to its last EpochEnd, so it includes its
per-epoch validation and train-accuracy passes and its progress events; the hand loop only trains.

    OMP_NUM_THREADS=1 python benchmarks/engine_overhead.py            # CPU
    python benchmarks/engine_overhead.py --device cuda --repeats 9

One line per case, ending in the ratio engine/hand (target >= 0.95).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from workbench.core import catalog
from workbench.core.data import DatasetMeta, PreparedData, Split
from workbench.core.training import EpochEnd, RunStarted, TerminalEvent
from workbench.core.training import build_model
from workbench.core.spec import parse_spec
from workbench.core.training import batch_slices, epoch_permutation, train


def _mlp(sizes):
    layers = []
    for h in sizes:
        layers += [{"type": "Linear", "out_features": h}, {"type": "ReLU"}]
    return layers + [{"type": "Linear", "out_features": "auto"}]


CNN = [
    {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
    {"type": "MaxPool2d", "kernel_size": 2},
    {"type": "Conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
    {"type": "MaxPool2d", "kernel_size": 2},
    {"type": "Flatten"}, {"type": "Linear", "out_features": "auto"},
]

#        name                   input shape   classes layers          batch  train rows (cpu, cuda)
CASES = [
    ("MLP 2-64-64-2 bs64", (2,), 2, _mlp([64, 64]), 64, (16384, 65536)),
    ("MLP 2-64-64-2 bs256", (2,), 2, _mlp([64, 64]), 256, (32768, 262144)),
    ("MLP 64-128-10 bs64", (64,), 10, _mlp([128]), 64, (16384, 65536)),
    ("CNN 1x28x28 bs128", (1, 28, 28), 10, CNN, 128, (4096, 32768)),
    # a big table: 1M rows x 24 features (96 MB of float32), gathered in blocks each epoch
    ("MLP 24-64-64-2 1Mx24 bs256", (24,), 2, _mlp([64, 64]), 256, (1_000_000, 1_000_000)),
]


def make_data(shape, n_classes, n_train, n_val, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = n_train + n_val
    X = torch.randn(n, *shape, generator=g)
    w = torch.randn(int(torch.tensor(shape).prod()), n_classes, generator=g)
    y = (X.reshape(n, -1) @ w).argmax(1)
    kind = "image" if len(shape) == 3 else "tabular"
    meta = DatasetMeta(source="bench", kind=kind, task="classification",
                       class_names=[str(i) for i in range(n_classes)],
                       feature_names=[f"f{i}" for i in range(shape[0])] if kind == "tabular" else [],
                       input_shape=tuple(shape), target_name="y", target_width=n_classes, n_samples=n)
    empty = Split(X[:0], y[:0])
    return PreparedData(train=Split(X[:n_train], y[:n_train]), val=Split(X[n_train:], y[n_train:]), test=empty,
                        meta=meta, mean=None, std=None, augment=None)


def make_spec(layers, batch, epochs, device):
    return parse_spec({
        "name": "bench", "model": {"layers": layers}, "loss": {"type": "CrossEntropyLoss"},
        "optimizer": {"type": "Adam", "lr": 0.001},
        "train": {"epochs": epochs, "batch_size": batch, "device": device, "precision": "fp32",
                  "seed": 0, "checkpoint": False, "terminate_on_nan": True},
    })


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_engine(spec, data, seen=None):
    """samples/s of train() from RunStarted to the last EpochEnd; `seen(event)` sees every event."""
    n = 0
    t0 = t1 = None
    for ev in train(spec, data=data):
        if seen is not None:
            seen(ev)
        if isinstance(ev, RunStarted):
            t0 = time.perf_counter()
            n_train = ev.n_train
        elif isinstance(ev, EpochEnd):
            t1 = time.perf_counter()
            n += n_train
        elif isinstance(ev, TerminalEvent) and type(ev).__name__ != "RunFinished":
            raise SystemExit(f"engine run did not finish: {ev}")
    return n / (t1 - t0)


def run_hand(spec, data, device):
    torch.manual_seed(spec.train.seed)
    model, _ = build_model(spec, data.meta)
    model.to(device)
    loss_fn = catalog.make_loss(spec.loss, data.meta, data.train.y).to(device)
    opt = catalog.make_optimizer(spec.optimizer, model.parameters())
    X, y = data.train.X.to(device), data.train.y.to(device)
    bs = spec.train.batch_size
    slices = batch_slices(len(X), bs)
    sync(device)
    t0 = time.perf_counter()
    for epoch in range(1, spec.train.epochs + 1):
        perm = epoch_permutation(len(X), spec.train.seed, epoch).to(device)
        for a, b in slices:
            idx = perm[a:b]
            loss = loss_fn(model(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    sync(device)
    return len(X) * spec.train.epochs / (time.perf_counter() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--cases", default="", help="comma-separated case indices (default all)")
    args = ap.parse_args(argv)
    gpu = args.device.startswith("cuda")
    print(f"# device={args.device} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"repeats={args.repeats} epochs={args.epochs}")
    chosen = [int(i) for i in args.cases.split(",") if i] or range(len(CASES))
    for i in chosen:
        name, shape, n_classes, layers, batch, rows = CASES[i]
        n_train = rows[1] if gpu else rows[0]
        data = make_data(shape, n_classes, n_train, max(256, n_train // 16))
        spec = make_spec(layers, batch, args.epochs, args.device)
        run_engine(spec, data), run_hand(spec, data, args.device)  # warm-up both
        eng, hand = [], []
        for _ in range(args.repeats):
            eng.append(run_engine(spec, data))
            hand.append(run_hand(spec, data, args.device))
        e, h = statistics.median(eng), statistics.median(hand)
        print(f"{name:<22} rows={n_train:<7} engine {e:>11,.0f} samples/s   hand {h:>11,.0f} samples/s   "
              f"ratio {e / h:.3f}", flush=True)


if __name__ == "__main__":
    main()
