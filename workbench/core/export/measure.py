"""Measuring ONNX model variants: file size, non-zero parameters, the test metric, and CPU
latency with onnxruntime at batch 1 and 64 (one thread, after warm-up runs; the median of
rounds that time every variant in turn, so the variants are compared side by side)."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from workbench.core.export.onnx_io import headline_metric, ort_predict, ort_session

__all__ = ["Variant", "measure_variant", "time_variants", "note_slowdowns", "onnx_nonzero_params", "LATENCY_REPEATS",
           "SLOWER_FACTOR", "SLOWER_MIN_MS"]

LATENCY_REPEATS = 30  # timed runs per batch size (the median is reported); the issue asks for >= 20
LATENCY_WARMUP = 5
LATENCY_THREADS = 1  # one thread: comparable across variants and machines, fair on a busy box
_QUANT_SUFFIXES = ("_scale", "_zero_point")
# the standardisation folded into every export (raw_model.RawInputModel): constants, not weights
_STANDARDISATION = ("input_mean", "input_std", "target_mean", "target_std")


@dataclass
class Variant:
    """One row of the before/after table."""

    name: str                     # "original", "fp16 weights", "int8 (dynamic)", "pruned 50% (structured)", ...
    path: Path
    size_bytes: int = 0
    nonzero_params: int = 0
    latency_ms_b1: float = float("nan")
    latency_ms_b64: float = float("nan")
    latency_min_ms_b1: float = float("nan")  # the fastest round: steadier than the median on a busy machine
    latency_min_ms_b64: float = float("nan")
    metric: str = "accuracy"      # "accuracy" | "r2"
    test_metric: float = float("nan")
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"variant": self.name, "size_bytes": self.size_bytes, "nonzero_params": self.nonzero_params,
                "latency_ms_b1": self.latency_ms_b1, "latency_ms_b64": self.latency_ms_b64,
                "latency_min_ms_b1": self.latency_min_ms_b1, "latency_min_ms_b64": self.latency_min_ms_b64,
                "test_metric": self.test_metric, "metric": self.metric, "file": str(self.path), "notes": self.notes}


SLOWER_FACTOR = 1.5  # a variant this many times slower than the original gets a note saying so
SLOWER_MIN_MS = 0.02  # ... when it is also this much slower: a few microseconds either way is noise


def note_slowdowns(variants: Sequence[Variant], factor: float = SLOWER_FACTOR) -> None:
    """Note on each variant that is clearly slower than the first one (the original) on this CPU,
    by the fastest rounds (steadier than medians on a busy machine): a smaller file is not always
    a faster model, and the table should not leave that to be noticed."""
    original = variants[0]
    for variant in variants[1:]:
        for batch in ("b64", "b1"):
            mine = getattr(variant, f"latency_min_ms_{batch}")
            base = getattr(original, f"latency_min_ms_{batch}")
            if base > 0 and mine > factor * base and mine - base > SLOWER_MIN_MS:
                why = (": int8 kernels cost more than they save on layers this small; fp16 weights or structured "
                       "pruning are the faster choice here") if variant.name.startswith("int8") else ""
                variant.notes.append(f"{mine / base:.1f}× slower than the original at batch {batch[1:]} on this "
                                     f"CPU{why}")
                break


def onnx_nonzero_params(path: str | os.PathLike) -> int:
    """Non-zero values of the model's weights (float or int8 initializers; quantisation scales and
    zero points, integer shape constants and the folded-in standardisation are not weights)."""
    import onnx
    from onnx import numpy_helper

    total = 0
    for init in onnx.load(str(path)).graph.initializer:
        if init.name.endswith(_QUANT_SUFFIXES) or init.name.split("__")[0].startswith(_STANDARDISATION):
            continue
        arr = numpy_helper.to_array(init)
        if arr.dtype in (np.int64, np.int32) or arr.size < 2 and arr.dtype.kind != "f":
            continue
        total += int(np.count_nonzero(arr))
    return total


def _batch(rows: np.ndarray, n: int) -> np.ndarray:
    reps = -(-n // max(1, len(rows)))
    return np.concatenate([rows] * reps)[:n]


def measure_variant(variant: Variant, X_test, y_test, meta) -> Variant:
    """Fill in a variant's size, non-zero parameters and test metric from its ONNX file."""
    variant.size_bytes = Path(variant.path).stat().st_size
    variant.nonzero_params = onnx_nonzero_params(variant.path)
    if len(X_test):
        session = ort_session(variant.path, threads=LATENCY_THREADS)
        variant.metric, variant.test_metric = headline_metric(ort_predict(session, X_test), y_test, meta)
    return variant


def time_variants(variants: list[Variant], sample_rows: np.ndarray, repeats: int = LATENCY_REPEATS) -> None:
    """CPU latency of every variant at batch 1 and 64, measured side by side: each round times
    every variant once, so a burst of load elsewhere on the machine hits them all alike; the
    median over the rounds is kept."""
    rows = np.asarray(sample_rows, dtype=np.float32)
    sessions = [ort_session(v.path, threads=LATENCY_THREADS) for v in variants]
    for batch, suffix in ((rows[:1], "b1"), (_batch(rows, 64), "b64")):
        feeds = [{s.get_inputs()[0].name: np.ascontiguousarray(batch)} for s in sessions]
        for s, feed in zip(sessions, feeds):
            for _ in range(LATENCY_WARMUP):
                s.run(None, feed)
        times: list[list[float]] = [[] for _ in variants]
        for _ in range(repeats):
            for k, (s, feed) in enumerate(zip(sessions, feeds)):
                t0 = time.perf_counter()
                s.run(None, feed)
                times[k].append(time.perf_counter() - t0)
        for v, t in zip(variants, times):
            setattr(v, f"latency_ms_{suffix}", statistics.median(t) * 1000.0)
            setattr(v, f"latency_min_ms_{suffix}", min(t) * 1000.0)
