"""How long each preset takes to train, and what it reaches (the README's preset table).

    OMP_NUM_THREADS=1 python benchmarks/preset_times.py [--repeats 3] [NAME ...]

Each preset trains through the CLI (`workbench train NAME --device cpu`) in this one warm
process, into a temporary run store; printed: the median training time the run records
(`duration`: data, model, epochs and test evaluation, without interpreter start or the torch
import), the whole command's median wall time, and the test metric (the same every repeat:
seeded). Goal: each preset under a minute on a 2-core CPU (tests/core/test_cli.py checks the
metrics, marked slow; the times live here).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.cli import main as workbench  # noqa: E402
from workbench.core.locations import preset_names  # noqa: E402

GOAL_S = 60.0


def train(name: str, store: Path) -> tuple[dict, float]:
    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        rc = workbench(["train", name, "--json", "--quiet", "--device", "cpu", "--store", str(store)])
    wall = time.perf_counter() - t0
    final = json.loads(out.getvalue().splitlines()[-1])
    if rc != 0:
        raise SystemExit(f"{name}: exit {rc}: {final}")
    return final, wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="presets (default: all)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    names = args.names or preset_names()
    width = max(len(n) for n in [*names, "preset"])
    print(f"{'preset':<{width}} {'epochs':>6} {'train s':>8} {'wall s':>7}  metric")
    with tempfile.TemporaryDirectory(prefix="workbench-presets-") as tmp:
        for name in names:
            runs = [train(name, Path(tmp) / "runs.db") for _ in range(args.repeats)]
            final = runs[-1][0]
            duration = statistics.median(r[0]["duration"] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            metrics = final["metrics"]
            key = "test_accuracy" if "test_accuracy" in metrics else "test_r2"
            over = "  (OVER the 60 s goal)" if duration > GOAL_S else ""
            print(f"{name:<{width}} {final['epochs']:>6} {duration:>8.1f} {wall:>7.1f}  {key} {metrics[key]:.3f}{over}",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
