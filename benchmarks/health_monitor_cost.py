"""Health-monitor cost: samples/s of train() with the health monitor on ("auto", the default)
against the same run with it off (train.health = null), interleaved, medians reported.

Each case prints the ratio on/off of the median wall-clock speeds, and the median of the paired
ratios of CPU time (process time; each "on" run against the "off" run right after it). On a
shared, busy machine the wall-clock figure moves by 10-30 % from run to run with the load, and
CPU time less so but still by several per cent (it counts every thread of the process).
The third figure does not compare two runs at all: inside each "on" run it times every call into
the monitor (its optimizer-step hooks, forward hooks, epoch and event callbacks, the samples and
alerts it makes) against the whole run; "own share" is the median of that fraction, so
1 - own share is the speed ratio the monitor allows, whatever the machine's load does meanwhile.

Same cases as engine_overhead.py (tiny MLPs are the worst case: a sample's fixed cost in torch
calls weighs most against their short steps). The time runs from RunStarted to the last
EpochEnd, so it includes the optimizer-step hooks on every step, the sampled steps and the
HealthSample events.

    OMP_NUM_THREADS=1 python benchmarks/health_monitor_cost.py            # CPU
    python benchmarks/health_monitor_cost.py --device cuda --repeats 9

    python benchmarks/health_monitor_cost.py --presets spiral,digits-cnn --cases none

`--presets` also times shipped presets on their sample data (the whole run, per-epoch validation
included, checkpoints off). One line per case, ending in the ratio on/off (target >= 0.95) and
the samples taken.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_overhead import CASES, make_data, make_spec

from workbench.core.data import load_dataset, prepare
from workbench.core.locations import preset_path
from workbench.core.spec import load_spec
from workbench.core.training import (
    EpochEnd,
    HealthMonitor,
    HealthSample,
    RunStarted,
    TerminalEvent,
    train,
)

MONITOR_TIME = [0.0]  # seconds spent inside the monitor during the current run


def _timed(fn):
    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            MONITOR_TIME[0] += time.perf_counter() - t0
    return timed


def _time_the_monitor() -> None:
    """Wrap every entry point of HealthMonitor (its forward hooks through `_capture`) in a timer.
    The nested calls (_sample inside _post_step) are not wrapped, so nothing counts twice."""
    for name in ("on_run_start", "on_run_end", "on_event", "on_epoch_end", "_pre_step", "_post_step"):
        setattr(HealthMonitor, name, _timed(getattr(HealthMonitor, name)))
    capture = HealthMonitor._capture
    HealthMonitor._capture = lambda self, i: _timed(capture(self, i))


def run(spec, data) -> tuple[float, float, int, float]:
    """(samples/s by the wall clock, CPU seconds, health samples taken, the monitor's share of the
    wall time) of one run, from RunStarted to the last EpochEnd."""
    samples = rows = 0
    wall0 = cpu0 = wall1 = cpu1 = 0.0
    MONITOR_TIME[0] = 0.0
    for ev in train(spec, data=data):
        if isinstance(ev, RunStarted):
            wall0, cpu0 = time.perf_counter(), time.process_time()
            n_train = ev.n_train
        elif isinstance(ev, EpochEnd):
            wall1, cpu1 = time.perf_counter(), time.process_time()
            rows += n_train
        elif isinstance(ev, HealthSample):
            samples += 1
        elif isinstance(ev, TerminalEvent) and type(ev).__name__ != "RunFinished":
            raise SystemExit(f"run did not finish: {ev}")
    return rows / (wall1 - wall0), cpu1 - cpu0, samples, MONITOR_TIME[0] / (wall1 - wall0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--cases", default="", help="comma-separated case indices (default all; 'none' for none)")
    ap.add_argument("--presets", default="", help="comma-separated preset names (e.g. spiral,digits-cnn)")
    args = ap.parse_args(argv)
    _time_the_monitor()
    gpu = args.device.startswith("cuda")
    print(f"# device={args.device} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"repeats={args.repeats} epochs={args.epochs}")
    chosen = [] if args.cases == "none" else [int(i) for i in args.cases.split(",") if i] or range(len(CASES))
    for i in chosen:
        name, shape, n_classes, layers, batch, rows = CASES[i]
        n_train = rows[1] if gpu else rows[0]
        data = make_data(shape, n_classes, n_train, max(256, n_train // 16))
        compare(name, make_spec(layers, batch, args.epochs, args.device), data, args.repeats)
    for name in filter(None, args.presets.split(",")):
        spec = load_spec(preset_path(name))
        spec = spec.with_value("train.device", args.device).with_value("train.checkpoint", False)
        data = prepare(load_dataset(spec.data, None), spec.data)
        compare(f"preset {name}", spec, data, args.repeats)


def compare(name, on, data, repeats):
    """Time `on` (monitor on) and the same spec with train.health = null, interleaved; print medians."""
    off = on.with_value("train.health", None)
    run(on, data), run(off, data)  # warm-up both
    speed_on, speed_off, cpu_ratio, taken, share = [], [], [], [], []
    for _ in range(repeats):
        s_on, c_on, k, own = run(on, data)
        s_off, c_off, _, _ = run(off, data)
        share.append(own)
        speed_on.append(s_on)
        speed_off.append(s_off)
        cpu_ratio.append(c_off / c_on)  # as a speed ratio: > 1 would mean "on" is faster
        taken.append(k)
    a, b = statistics.median(speed_on), statistics.median(speed_off)
    bs = on.train.batch_size if isinstance(on.train.batch_size, int) else len(data.train)
    steps = on.train.epochs * -(-len(data.train) // bs)
    print(f"{name:<26} monitor on {a:>9,.0f} samples/s   off {b:>9,.0f} samples/s   wall ratio {a / b:.3f}   "
          f"CPU ratio {statistics.median(cpu_ratio):.3f}   own share {statistics.median(share):.2%}   "
          f"samples {statistics.median(taken):.0f} of {steps} steps", flush=True)


if __name__ == "__main__":
    main()
