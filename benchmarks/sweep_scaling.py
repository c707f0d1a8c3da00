"""Sweep throughput with 1 vs K worker processes, and the delay of live epoch reports.

    python benchmarks/sweep_scaling.py [--trials 8] [--epochs 5] [--workers 2] [--samples 600]

Runs the same random sweep (same seed, so the same points) with the real trainer twice: with
one worker and with K. Reports trials per minute over the whole sweep (worker start-up
included, as a user waits for it) and in steady state (from the first finished trial to the
last), the speed-up, and the goal 0.8·min(K, cores − 1). It also measures, for every epoch
report, the delay from the worker's epoch end to its arrival in this (consuming) process:
p50 / p95 / max (goal: p95 ≤ 250 ms).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.core.spec import parse_spec  # noqa: E402
from workbench.core.sweep import SweepFinished, TrialEpoch, TrialFinished, run_sweep  # noqa: E402

SPACE = {"optimizer.lr": {"log_uniform": [0.001, 0.1]}, "model.layers.0.out_features": {"int": [8, 64]},
         "model.layers.1.type": {"choices": ["ReLU", "Tanh"]}}


def spec_for(epochs: int, samples: int):
    return parse_spec({
        "name": "sweep benchmark",
        "data": {"source": "sample:spiral", "n_samples": samples},
        "model": {"layers": [{"type": "Linear", "out_features": 32}, {"type": "ReLU"},
                             {"type": "Linear", "out_features": "auto"}]},
        "optimizer": {"type": "Adam", "lr": 0.01},
        "train": {"epochs": epochs, "batch_size": 32, "device": "cpu", "checkpoint": False},
    })


def measure(workers: int, trials: int, epochs: int, samples: int, folder: Path) -> dict:
    spec = spec_for(epochs, samples)
    delays: list[float] = []
    finished: list[float] = []
    t0 = time.perf_counter()
    end = None
    for ev in run_sweep(spec, SPACE, strategy="random", n_trials=trials, parallel=workers, seed=0,
                        store_path=str(folder / f"runs{workers}.db"), study_name=f"bench-{workers}"):
        now = time.time()
        if isinstance(ev, TrialEpoch):
            delays.append(now - ev.sent_at)
        elif isinstance(ev, TrialFinished):
            finished.append(time.perf_counter() - t0)
        elif isinstance(ev, SweepFinished):
            end = ev
    total = time.perf_counter() - t0
    steady = (finished[-1] - finished[0]) if len(finished) > 1 else float("nan")
    return {
        "workers": workers, "complete": end.n_complete if end else 0, "total_s": total,
        "per_min": 60 * len(finished) / total,
        "steady_per_min": 60 * (len(finished) - 1) / steady if len(finished) > 1 and steady > 0 else float("nan"),
        "delays": delays,
    }


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--samples", type=int, default=600)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    print(f"{cores} cores; {args.trials} trials × {args.epochs} epochs of a small MLP on {args.samples} spiral samples")
    with tempfile.TemporaryDirectory() as tmp:
        one = measure(1, args.trials, args.epochs, args.samples, Path(tmp))
        many = measure(args.workers, args.trials, args.epochs, args.samples, Path(tmp))
    for r in (one, many):
        print(f"  {r['workers']} worker(s): {r['complete']} complete in {r['total_s']:.1f} s -> "
              f"{r['per_min']:.1f} trials/min overall, {r['steady_per_min']:.1f} trials/min steady state")
    speedup = many["per_min"] / one["per_min"]
    steady = many["steady_per_min"] / one["steady_per_min"]
    goal = 0.8 * min(args.workers, max(1, cores - 1))
    print(f"  speed-up with {args.workers} workers: {speedup:.2f}x overall, {steady:.2f}x steady state "
          f"(goal ≥ {goal:.1f}x = 0.8·min(K, cores − 1))")
    delays = one["delays"] + many["delays"]
    print(f"  epoch report delay worker -> consumer over {len(delays)} reports: "
          f"p50 {1000 * pct(delays, 0.5):.1f} ms, p95 {1000 * pct(delays, 0.95):.1f} ms, "
          f"max {1000 * max(delays):.1f} ms (goal p95 ≤ 250 ms)")


if __name__ == "__main__":
    main()
