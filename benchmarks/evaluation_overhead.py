"""Evaluation overhead: what live evaluation costs a training run.

The same preset is trained with and without EvaluationRecorder (live val predictions + a 100x100
decision-boundary grid every few epochs, spaced by their measured cost, and the final train/val/
test predictions and weights at the end), both with checkpoints in a run folder, INTERLEAVED
(with, without, with, ...); the median wall time of each is compared. Time runs from the
trainer's first event to its terminal event, so it includes the end-of-run predictions.

    OMP_NUM_THREADS=1 python benchmarks/evaluation_overhead.py [--repeats 5] [--cases spiral,digits]

One line per case: medians, the cost (with / without - 1; goal <= 5 %), the recorder's own time
(all its hooks, timed inside the run) as a share of the run (less noisy on a busy machine than the
difference of two wall times), snapshots taken and the median cost of one.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from workbench.core.data import load_dataset, prepare
from workbench.core.evaluation import EvaluationRecorder
from workbench.core.locations import preset_path
from workbench.core.spec import load_spec
from workbench.core.training import EvaluationSnapshot, TerminalEvent, train

#         preset    epochs (None: the preset's)   what the grid is
CASES = {"spiral": (None, "2 inputs: the input plane"),
         "digits": (None, "64 inputs: the PCA plane"),
         "sine": (None, "1 input: a line"),
         "shapes": (20, "1x28x28 images through a CNN: the PCA plane")}


class TimedRecorder(EvaluationRecorder):
    """The recorder, with the time spent in each of its hooks added up."""

    def __init__(self):
        super().__init__()
        self.hook_seconds = 0.0

    def _timed(self, hook, *args):
        t0 = time.perf_counter()
        try:
            return getattr(super(), hook)(*args)
        finally:
            self.hook_seconds += time.perf_counter() - t0

    def on_run_start(self, *a):
        self._timed("on_run_start", *a)

    def on_epoch_end(self, *a):
        self._timed("on_epoch_end", *a)

    def on_run_end(self, *a):
        self._timed("on_run_end", *a)


def _run(spec, data, folder: Path, evaluate: bool) -> tuple[float, list[EvaluationSnapshot], float]:
    callbacks = [TimedRecorder()] if evaluate else []
    t0 = None
    snaps = []
    for ev in train(spec, data=data, callbacks=callbacks, run_dir=folder, threads=1):
        if t0 is None:
            t0 = time.perf_counter()
        if isinstance(ev, EvaluationSnapshot):
            snaps.append(ev)
        if isinstance(ev, TerminalEvent):
            assert type(ev).__name__ == "RunFinished", ev
    return time.perf_counter() - t0, snaps, callbacks[0].hook_seconds if callbacks else 0.0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases.split(","):
            epochs, what = CASES[name]
            spec = load_spec(preset_path(name))
            if epochs:
                spec = spec.with_values({"train.epochs": epochs})
            spec = spec.with_values({"train.device": "cpu"})
            data = prepare(load_dataset(spec.data), spec.data)
            _run(spec, data, Path(tmp) / "warm", True)  # warm-up (imports, allocator)
            with_t, without_t, counts, costs, shares = [], [], [], [], []
            for i in range(args.repeats):
                t, snaps, own = _run(spec, data, Path(tmp) / f"{name}-with-{i}", True)
                with_t.append(t)
                shares.append(own / t)
                counts.append(len(snaps))
                costs += [s.seconds for s in snaps]
                without_t.append(_run(spec, data, Path(tmp) / f"{name}-without-{i}", False)[0])
            mw, mo = statistics.median(with_t), statistics.median(without_t)
            print(f"{name:7s} {spec.train.epochs:3d} epochs ({what}): without {mo:.3f} s, with {mw:.3f} s, "
                  f"cost {100 * (mw / mo - 1):+.1f} %, recorder's own time {100 * statistics.median(shares):.1f} %; "
                  f"{statistics.median(counts):.0f} snapshots, "
                  f"{1000 * statistics.median(costs):.1f} ms each (median)", flush=True)


if __name__ == "__main__":
    main()
