"""Health-monitor cost: samples/s of train() with the health monitor on ("auto", the default)
against the same run with it off (train.health = null), interleaved, medians reported.

Same cases as engine_overhead.py (tiny MLPs are the worst case: a sample's fixed cost in torch
calls weighs most against their short steps). The time runs from RunStarted to the last
EpochEnd, so it includes the optimizer-step hooks on every step, the sampled steps and the
HealthSample events.

    OMP_NUM_THREADS=1 python benchmarks/health_monitor_cost.py            # CPU
    python benchmarks/health_monitor_cost.py --device cuda --repeats 9

One line per case, ending in the ratio on/off (target >= 0.95) and the samples taken.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_overhead import CASES, make_data, make_spec, run_engine  # noqa: E402

from workbench.core.training import HealthSample  # noqa: E402


def run(spec, data) -> tuple[float, int]:
    """(samples/s, health samples taken) of one run."""
    samples = []
    speed = run_engine(spec, data, seen=lambda ev: isinstance(ev, HealthSample) and samples.append(ev))
    return speed, len(samples)


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
        on = make_spec(layers, batch, args.epochs, args.device)
        off = on.with_value("train.health", None)
        run(on, data), run(off, data)  # warm-up both
        speed_on, speed_off, taken = [], [], []
        for _ in range(args.repeats):
            s, k = run(on, data)
            speed_on.append(s)
            taken.append(k)
            speed_off.append(run(off, data)[0])
        a, b = statistics.median(speed_on), statistics.median(speed_off)
        steps = args.epochs * -(-n_train // batch)
        print(f"{name:<22} monitor on {a:>11,.0f} samples/s   off {b:>11,.0f} samples/s   ratio {a / b:.3f}   "
              f"samples {statistics.median(taken):.0f} of {steps} steps", flush=True)


if __name__ == "__main__":
    main()
