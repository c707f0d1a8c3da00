"""Export and compression, measured on full presets (the figures in the README and the notes).

For each preset: train it (a temporary run store), export ONNX and check it against PyTorch with
onnxruntime on the test split, run the standalone training script in this process and compare
its per-epoch losses and test metric with the run's, then make every compressed variant
(`workbench compress`: fp16, int8, magnitude and structured pruning at 50 % with 2 fine-tuning
epochs) and print the before/after table with size and latency ratios against the original,
measured side by side in the same process.

    OMP_NUM_THREADS=1 python benchmarks/export_compression.py [digits shapes sine ...]
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
import tempfile
import time
from argparse import Namespace
from pathlib import Path

DEFAULT = ("digits", "shapes", "sine")


def _train(preset: str, store: Path) -> int:
    from workbench.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["train", preset, "--store", str(store), "--device", "cpu", "--json", "--quiet"]) == 0
    return json.loads(out.getvalue().splitlines()[-1])["run_id"]


def _script_difference(restored, store, run_id: int, folder: Path) -> tuple[float, float, float]:
    """(largest |Δ loss| over the first 5 epochs, over all epochs, |Δ test metric|)."""
    from workbench.core.export import export_model

    script = export_model(restored, "script", folder).files[0]
    spec = importlib.util.spec_from_file_location("bench_script", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    logs: list[dict] = []
    module.report = lambda args, entry: logs.append(entry)
    final = module.train(Namespace(data=module.DATA, epochs=module.EPOCHS, save=None, json=True))
    epochs = store.epochs(run_id)
    diffs = [abs(a["loss"] - b["loss"]) for a, b in zip(epochs, logs)]
    key = "test_accuracy" if "test_accuracy" in final else "test_r2"
    return max(diffs[:5]), max(diffs), abs(final[key] - restored.recorded_metrics[key])


def main(presets: list[str]) -> None:
    from workbench.core.export import export_model
    from workbench.core.export import compress, table_rows
    from workbench.core.runs import RunStore, restore_run

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for preset in presets:
            t0 = time.perf_counter()
            run_id = _train(preset, tmp / "runs.db")
            with RunStore(tmp / "runs.db") as store:
                restored = restore_run(store, run_id)
                onnx = export_model(restored, "onnx", tmp / preset / "onnx")
                first5, worst, metric = _script_difference(restored, store, run_id, tmp / preset / "script")
            report = compress(restored, ["fp16", "int8", "prune"], tmp / preset / "variants", sparsity=0.5,
                              finetune_epochs=2, curve=True)
            print(f"\n== {preset} (run {run_id}, {time.perf_counter() - t0:.0f} s in all)")
            print(f"  {onnx.messages[0]}")
            print(f"  training script: max |Δ loss| {first5:.1e} over the first 5 epochs, {worst:.1e} over all; "
                  f"|Δ test metric| {metric:.4f}")
            rows = table_rows(report)
            base = report.variants[0]
            rows[0] += ["size ratio", "b1 ratio", "b64 ratio", "min ms b1", "min ms b64", "min b64 ratio"]
            for row, v in zip(rows[1:], report.variants):
                row += [f"{v.size_bytes / base.size_bytes:.2f}", f"{v.latency_ms_b1 / base.latency_ms_b1:.2f}",
                        f"{v.latency_ms_b64 / base.latency_ms_b64:.2f}", f"{v.latency_min_ms_b1:.3f}",
                        f"{v.latency_min_ms_b64:.3f}", f"{v.latency_min_ms_b64 / base.latency_min_ms_b64:.2f}"]
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
            for row in rows:
                print("  " + " | ".join(c.ljust(w) for c, w in zip(row, widths)))
            print("  sparsity curve: " + ", ".join(f"{s:.0%} {v:.3f}" for s, v in report.curve))


if __name__ == "__main__":
    main(sys.argv[1:] or list(DEFAULT))
