"""Data loading: Workbench's loader (what `workbench data`, the app and training use) against pandas'
`read_csv` + `get_dummies` on the same file, side by side in one run; then the prepared-data
cache (a second load) and a folder of small images.

Every measurement runs in a fresh process (so peak memory is that load's own, imports included,
and nothing is warm from the one before); Workbench and pandas runs are INTERLEAVED and the
median of each is reported with their ratio (targets: time <= 1.5x, peak RSS <= 1.5x pandas).

Files are generated in a temporary folder: tables of 100,000 and 1,000,000 rows x 22 columns
(20 numeric, one categorical, a yes/no label; about 18 and 180 MB) and a folder of 60,000 28x28
PNG images in 10 classes (generated once; that takes a minute or two).

    OMP_NUM_THREADS=1 python benchmarks/data_loading.py                    # everything
    python benchmarks/data_loading.py --rows 100000 --repeats 5 --no-images
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Each child prints one JSON line: {"seconds": load time, "peak_mb": ru_maxrss, ...}
# CPU seconds (user + system, every thread) are reported beside the wall time: on a shared
# machine they say how much work each did, whatever else was running.
PANDAS_CHILD = r"""
import json, resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t0 = time.perf_counter()
import pandas as pd  # (imports pyarrow too)
t1, c1 = time.perf_counter(), cpu()
frame = pd.read_csv(sys.argv[1])
X = pd.get_dummies(frame.drop(columns=[frame.columns[-1]]))
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t1, "cpu": cpu() - c1, "with_imports": t2 - t0, "shape": list(X.shape),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

WORKBENCH_CHILD = r"""
import json, resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t0 = time.perf_counter()
from workbench.core.data import load_dataset
from workbench.core.spec import DataSpec
import pyarrow.csv  # the reader's library, imported lazily by the loader (pandas' import above includes it)
t1, c1 = time.perf_counter(), cpu()
ds = load_dataset(DataSpec(source=sys.argv[1]), on_progress=lambda p: None)
X = ds.X[:]  # the arrays as training gets them (memory-mapped from the cache when it is on)
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t1, "cpu": cpu() - c1, "with_imports": t2 - t0, "shape": list(ds.X.shape),
                  "cache_hit": ds.cache_hit,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


# A training process on a table that is in the prepared-data cache: memory it holds (anonymous,
# i.e. not the file's pages) before loading, at its peak and at the end, against the float32 data.
TRAIN_CHILD = r"""
import json, sys, threading, time
import torch
from workbench.core.spec import parse_spec
from workbench.core.training import RunFinished, train
from workbench.core.data import load_dataset

def anon_mb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024

torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # what a warm training child has imported
spec = parse_spec({"name": "bench", "data": {"source": sys.argv[1]},
                   "model": {"layers": [{"type": "Linear", "out_features": 64}, {"type": "ReLU"},
                                        {"type": "Linear", "out_features": "auto"}]},
                   "train": {"epochs": 1, "batch_size": 256, "device": "cpu", "checkpoint": False}})
peak, running = [anon_mb()], [True]
def sample():
    while running[0]:
        peak.append(anon_mb()); time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
base = peak[0]
t0 = time.perf_counter()
events = list(train(spec))
seconds = time.perf_counter() - t0
end = anon_mb()
running[0] = False
assert isinstance(events[-1], RunFinished), events[-1]
X = load_dataset(spec.data).X
print(json.dumps({"base_mb": base, "peak_mb": max(peak), "end_mb": end, "seconds": seconds,
                  "data_mb": X.size * 4 / 2**20, "shape": list(X.shape)}))
"""


def write_table(path: Path, rows: int, seed: int = 0) -> None:
    """20 numeric columns, a categorical one and a yes/no label, written by pyarrow (fast)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    g = np.random.default_rng(seed)
    scale, shift = g.uniform(0.5, 100, 20), g.uniform(-50, 50, 20)
    columns = {}
    for start in range(0, rows, 250_000):
        n = min(250_000, rows - start)
        X = np.round(g.normal(size=(n, 20)) * scale + shift, 4)
        block = {f"f{i}": X[:, i] for i in range(20)}
        block["region"] = g.choice(np.array(["north", "south", "east", "west", "centre"]), n)
        block["label"] = np.where(X[:, 0] + g.normal(size=n) * 50 > 0, "yes", "no")
        for k, v in block.items():
            columns.setdefault(k, []).append(v)
    table = pa.table({k: np.concatenate(v) for k, v in columns.items()})
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="none"))


def _write_images(args) -> None:
    import numpy as np
    from PIL import Image

    root, c, start, count = args
    g = np.random.default_rng(c * 1_000_003 + start)
    base = np.random.default_rng(c).integers(0, 255, (28, 28), dtype=np.uint8) // 2
    for i in range(start, start + count):
        img = base + g.integers(0, 128, (28, 28), dtype=np.uint8)
        Image.fromarray(img, "L").save(Path(root) / f"class{c}" / f"{i:05d}.png")


def write_images(root: Path, total: int, classes: int = 10) -> None:
    from concurrent.futures import ProcessPoolExecutor

    per_class = total // classes
    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True, exist_ok=True)
    jobs = [(str(root), c, s, min(1000, per_class - s)) for c in range(classes) for s in range(0, per_class, 1000)]
    with ProcessPoolExecutor() as pool:
        list(pool.map(_write_images, jobs))


def run_child(code: str, path: Path, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True,
                         check=False, timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"child failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def bench_table(path: Path, repeats: int, env: dict[str, str], cache_dir: Path) -> None:
    size_mb = path.stat().st_size / 1e6
    wb, pd_rows, warm = [], [], []
    for _ in range(repeats):
        wb_env = {**env, "WORKBENCH_DATA_CACHE": "off"}
        wb.append(run_child(WORKBENCH_CHILD, path, wb_env))
        pd_rows.append(run_child(PANDAS_CHILD, path, env))
    # the prepared-data cache: one load writes the entry, the next ones read it
    cache_env = {**env, "WORKBENCH_DATA_CACHE": str(cache_dir)}
    run_child(WORKBENCH_CHILD, path, cache_env)
    for _ in range(repeats):
        warm.append(run_child(WORKBENCH_CHILD, path, cache_env))
    assert all(r["cache_hit"] for r in warm)
    t_wb, t_pd = median(wb, "seconds"), median(pd_rows, "seconds")
    m_wb, m_pd = median(wb, "peak_mb"), median(pd_rows, "peak_mb")
    rows = wb[0]["shape"][0]
    c_wb, c_pd = median(wb, "cpu"), median(pd_rows, "cpu")
    print(f"{rows:>9,} rows ({size_mb:.0f} MB): workbench {t_wb:6.2f} s (cpu {c_wb:.2f} s) {m_wb:5.0f} MB | "
          f"pandas {t_pd:6.2f} s (cpu {c_pd:.2f} s) {m_pd:5.0f} MB | ratio time {t_wb / t_pd:.2f} (cpu {c_wb / c_pd:.2f}), "
          f"memory {m_wb / m_pd:.2f} | "
          f"cached load {median(warm, 'seconds'):.2f} s {median(warm, 'peak_mb'):.0f} MB "
          f"(with imports: workbench {median(wb, 'with_imports'):.2f} s, pandas {median(pd_rows, 'with_imports'):.2f} s)",
          flush=True)


def bench_training_memory(path: Path, env: dict[str, str], cache_dir: Path) -> None:
    cache_env = {**env, "WORKBENCH_DATA_CACHE": str(cache_dir)}
    r = run_child(TRAIN_CHILD, path, cache_env)
    print(f"training process on {r['shape'][0]:,} x {r['shape'][1]} (float32 data {r['data_mb']:.0f} MB, from the "
          f"cache): anonymous memory +{r['peak_mb'] - r['base_mb']:.0f} MB at its peak, "
          f"+{r['end_mb'] - r['base_mb']:.0f} MB at the end ({(r['peak_mb'] - r['base_mb']) / r['data_mb']:.2f}x the data "
          f"at the peak); one epoch in {r['seconds']:.1f} s", flush=True)


def bench_images(root: Path, repeats: int, env: dict[str, str], cache_dir: Path) -> None:
    cache_env = {**env, "WORKBENCH_DATA_CACHE": str(cache_dir)}
    first = [run_child(WORKBENCH_CHILD, root, {**env, "WORKBENCH_DATA_CACHE": "off"}) for _ in range(max(1, repeats // 2))]
    run_child(WORKBENCH_CHILD, root, cache_env)
    second = [run_child(WORKBENCH_CHILD, root, cache_env) for _ in range(repeats)]
    assert all(r["cache_hit"] for r in second)
    n = first[0]["shape"][0]
    print(f"{n:,} images 28x28: first load {median(first, 'seconds'):.2f} s ({median(first, 'peak_mb'):.0f} MB), "
          f"second load (cache) {median(second, 'seconds'):.2f} s ({median(second, 'peak_mb'):.0f} MB)", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="100000,1000000", help="comma-separated table sizes")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--images", type=int, default=60_000, help="images in the folder (0: none)")
    ap.add_argument("--no-images", action="store_true")
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep the files (reused when present)")
    args = ap.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    env.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="wb-data-bench-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, median of {args.repeats}", flush=True)
        for rows in (int(r) for r in args.rows.split(",") if r):
            path = work / f"table_{rows}.csv"
            if not path.exists():
                t = time.perf_counter()
                write_table(path, rows)
                print(f"(wrote {path.name} in {time.perf_counter() - t:.0f} s)", flush=True)
            bench_table(path, args.repeats, env, Path(tmp) / f"cache-{rows}")
            if rows >= 1_000_000:
                bench_training_memory(path, env, Path(tmp) / f"cache-{rows}")
        if args.images and not args.no_images:
            root = work / f"images_{args.images}"
            if not root.exists():
                t = time.perf_counter()
                write_images(root, args.images)
                print(f"(wrote {args.images:,} images in {time.perf_counter() - t:.0f} s)", flush=True)
            bench_images(root, args.repeats, env, Path(tmp) / "cache-images")


if __name__ == "__main__":
    main()
