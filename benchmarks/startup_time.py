"""How long `python -m workbench` takes to show its window, and to be ready to train.

    python benchmarks/startup_time.py [--runs 7] [--repo PATH]

Each run launches the app as `workbench` does (`main()`, through benchmarks/startup_probe.py,
which adds the timing probe from outside the app) offscreen on a 1600x1000 screen, with a fresh
settings folder, run store and app data folder (so no saved layout or autosaved work is
restored). It reports

    shown        the first painted window with the spiral scatter plotted and the layer stack
                 filled (seconds from the launch, interpreter start included)
    trainable    the model summary is there and Train can be clicked
    first point  from the first click on Train, made as soon as it can be clicked, to a painted
                 live curve with a point on it

and quits. The medians over the runs are printed, with `import torch` alone for reference (the
same number of runs, alternating with the app's) and the load average before and after: on a
shared machine it moves every figure. Goals (issue 8): shown <= 2 s, trainable <= 4 s,
first point <= 1 s.

Bytecode: this environment may set PYTHONDONTWRITEBYTECODE, which makes every launch compile
the app's modules from source (~0.2 s more than an installed app). The child runs with a
bytecode cache in a temporary folder instead (PYTHONPYCACHEPREFIX), filled by one launch that
is not counted; --no-pyc-cache measures without it.

--baseline PATH alternates launches of another checkout (e.g. the previous commit exported with
`git archive HEAD | tar -x -C /tmp/before`; this checkout's probe is used for it) with this
one's, so both see the same load: before/after on a busy box.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).resolve().with_name("startup_probe.py")
SCREEN = '{"screens": [{"name": "s", "x": 0, "y": 0, "width": 1600, "height": 1000, "logicalDpi": 96}]}'


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def child_env(tmp: Path, pycache: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    (tmp / "screen.json").write_text(SCREEN)
    env.update({
        "QT_QPA_PLATFORM": f"offscreen:configfile={tmp / 'screen.json'}",
        "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "1"),
        "XDG_CONFIG_HOME": str(tmp / "config"),  # QSettings: no saved geometry, no autosave restored
        "WORKBENCH_DATA_DIR": str(tmp / "appdata"),
        "WORKBENCH_STORE": str(tmp / "runs.db"),
    })
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def launch_app(repo: Path, pycache: Path | None, timeout: float = 180.0) -> tuple[float, float, float, str]:
    with tempfile.TemporaryDirectory(prefix="wb-startup-") as tmp:
        env = child_env(Path(tmp), pycache)
        env["PYTHONPATH"] = str(repo)
        env["WORKBENCH_T0"] = repr(time.time())
        proc = subprocess.run([sys.executable, str(PROBE)], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=timeout)
    shown = re.search(r"startup shown=([\d.]+)", proc.stdout)
    trainable = re.search(r"startup trainable=([\d.]+) ok=(\w+)", proc.stdout)
    first = re.search(r"startup first_point=([\d.]+) spare_ready=(-?\d)", proc.stdout)
    if not shown or not trainable or not first:
        raise SystemExit(f"the app did not report its start (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}")
    if trainable.group(2) != "True":
        print(f"  warning: not trainable: {proc.stdout.strip().splitlines()[-1]}")
    spare = {"1": "spare ready", "0": "spare not ready"}.get(first.group(2), "?")
    return float(shown.group(1)), float(trainable.group(1)), float(first.group(1)), spare


def import_torch(pycache: Path | None) -> float:
    with tempfile.TemporaryDirectory(prefix="wb-startup-") as tmp:
        env = child_env(Path(tmp), pycache)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], env=env, check=True, timeout=120)
        return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout to launch (default: this one)")
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout, launched alternately")
    parser.add_argument("--no-pyc-cache", action="store_true", help="compile from source on every launch")
    args = parser.parse_args()
    repos = {"this": args.repo.resolve()}
    if args.baseline is not None:
        repos = {"baseline": args.baseline.resolve(), **repos}
    for name, repo in repos.items():
        print(f"{name}: {repo}")
    print(f"{args.runs} launches each of `python -m workbench` (offscreen); load average {load()}")
    shown: dict[str, list[float]] = {name: [] for name in repos}
    trainable: dict[str, list[float]] = {name: [] for name in repos}
    first: dict[str, list[float]] = {name: [] for name in repos}
    torch_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="wb-pycache-") as cache_dir:
        caches = {name: (None if args.no_pyc_cache else Path(cache_dir) / name) for name in repos}
        for name, repo in repos.items():
            if caches[name] is not None:
                launch_app(repo, caches[name])  # fills the bytecode cache; not counted
        for i in range(args.runs):
            for name, repo in repos.items():
                s, t, f, spare = launch_app(repo, caches[name])
                shown[name].append(s)
                trainable[name].append(t)
                first[name].append(f)
                print(f"  run {i + 1} {name}: window shown {s:.2f} s, trainable {t:.2f} s, "
                      f"first point {f:.2f} s after the click ({spare})")
            torch_s.append(import_torch(caches["this"]))
            print(f"  run {i + 1}: `import torch` alone {torch_s[-1]:.2f} s")
    for name in repos:
        sh, tr, fp = shown[name], trainable[name], first[name]
        print(f"median {name}: window shown {statistics.median(sh):.2f} s (min {min(sh):.2f}, max {max(sh):.2f}),"
              f" trainable {statistics.median(tr):.2f} s, first point {statistics.median(fp):.2f} s")
    print(f"median `python -c 'import torch'`: {statistics.median(torch_s):.2f} s")
    ok = (statistics.median(shown["this"]) <= 2.0 and statistics.median(trainable["this"]) <= 4.0
          and statistics.median(first["this"]) <= 1.0)
    print(f"goals: shown <= 2 s, trainable <= 4 s, first point <= 1 s -> {'met' if ok else 'NOT met'}; "
          f"load average {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
