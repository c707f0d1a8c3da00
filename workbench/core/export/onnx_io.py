"""ONNX files: export with the dynamo exporter (a dynamic batch dimension), run with onnxruntime,
and the parity check that follows every export.

`torch.onnx.export(..., dynamo=True)` goes through `torch.export`, so the same ExportedProgram
can also be saved as a .pt2 file. The exporter is chatty (warnings, log lines about optional
packages); `quiet()` keeps that out of the person's terminal.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

__all__ = ["quiet", "export_program", "save_onnx", "ort_session", "ort_predict", "headline_metric",
           "Parity", "check_parity", "INPUT_NAME", "OUTPUT_NAME"]

INPUT_NAME, OUTPUT_NAME = "input", "output"
ORT_CHUNK = 4096  # rows per onnxruntime call when predicting a whole split
EXTERNAL_DATA_BYTES = 1_800_000_000  # weights above this go to a side file (ONNX protobufs stop at 2 GB)


class _DropRecords(logging.Filter):
    """onnxruntime's quantiser logs advice to the root logger ("Please consider to run
    pre-processing..."): not for the person, who cannot act on it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Please consider to run pre-processing")


_DROP = _DropRecords()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the exporter's warnings, log records and prints (they are not for the person)."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo", "torch._export",
                                              "onnxscript", "torch.fx", "torch._subclasses", "torch.__trace",
                                              "torch.utils._sympy", "torch._utils_internal")]
    levels = [lg.level for lg in loggers]
    root = logging.getLogger()
    root.addFilter(_DROP)
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeFilter(_DROP)
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _example(module: torch.nn.Module, input_shape: tuple[int, ...], sample: torch.Tensor | None) -> torch.Tensor:
    """Two rows to trace with (a batch of one would fix the batch dimension to 1)."""
    if sample is not None and len(sample) >= 2:
        return sample[:2].detach().float().cpu().contiguous()
    if sample is not None and len(sample) == 1:
        return sample.detach().float().cpu().repeat(2, *([1] * (sample.dim() - 1)))
    return torch.zeros((2, *input_shape))


def export_program(module: torch.nn.Module, input_shape: tuple[int, ...],
                   sample: torch.Tensor | None = None) -> torch.export.ExportedProgram:
    """`torch.export` of `module` (eval mode) with a dynamic batch dimension."""
    module.eval()
    example = _example(module, input_shape, sample)
    batch = torch.export.Dim("batch", min=1)
    with quiet():
        return torch.export.export(module, (example,), dynamic_shapes=({0: batch},), strict=False)


def save_onnx(module: torch.nn.Module, input_shape: tuple[int, ...], path: str | os.PathLike,
              sample: torch.Tensor | None = None) -> Path:
    """Write `module` (eval mode) as an ONNX file with a dynamic batch dimension named "batch"
    (one file; weights inline unless they are huge)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module.eval()
    example = _example(module, input_shape, sample)
    n_bytes = sum(t.numel() * t.element_size() for t in module.state_dict().values())
    with quiet():
        torch.onnx.export(module, (example,), str(path), dynamo=True, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], dynamic_shapes=({0: torch.export.Dim("batch", min=1)},),
                          external_data=n_bytes > EXTERNAL_DATA_BYTES)
    return path


def ort_session(path: str | os.PathLike, threads: int | None = None):
    """An onnxruntime CPU session (`threads` intra-op threads; None = onnxruntime's default)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def ort_predict(session, X: np.ndarray | torch.Tensor) -> np.ndarray:
    """The session's output for every row of X, in chunks."""
    X = X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else np.asarray(X)
    X = np.ascontiguousarray(X, dtype=np.float32)
    name = session.get_inputs()[0].name
    outs = [session.run(None, {name: X[a:a + ORT_CHUNK]})[0] for a in range(0, len(X), ORT_CHUNK)]
    return np.concatenate(outs) if outs else np.zeros((0,), np.float32)


def headline_metric(outputs: np.ndarray | torch.Tensor, y: torch.Tensor, meta: Any) -> tuple[str, float]:
    """("accuracy", a) for classification, ("r2", r) for regression, from exported outputs
    (logits, or values already in the target's units)."""
    from workbench.core.training import classification_metrics, regression_metrics

    out = torch.as_tensor(np.asarray(outputs)) if not isinstance(outputs, torch.Tensor) else outputs
    out = out.float()
    if meta.task == "classification":
        n = len(meta.class_names) or meta.target_width
        return "accuracy", classification_metrics(out, y, n)["accuracy"]
    pred = out.reshape(y.shape) if out.numel() == y.numel() else out
    return "r2", regression_metrics(pred, y)["r2"]


@dataclass
class Parity:
    """onnxruntime against PyTorch on one split (usually the run's test split)."""

    max_abs_diff: float
    metric: str            # "accuracy" | "r2"
    torch_value: float
    onnx_value: float
    rows: int
    split: str = "test"

    @property
    def matches(self) -> bool:
        scale = 1e-3 if self.metric == "r2" else 0.0
        return self.max_abs_diff < 1e-3 and abs(self.torch_value - self.onnx_value) <= scale + 1e-9

    def sentence(self) -> str:
        """'ONNX matches PyTorch: max |Δ| 3e-07; test accuracy 0.985 in both'."""
        metric = "R²" if self.metric == "r2" else self.metric
        if self.torch_value == self.onnx_value or abs(self.torch_value - self.onnx_value) < 5e-4:
            values = f"{self.split} {metric} {self.torch_value:.3f} in both"
        else:
            values = f"{self.split} {metric} {self.torch_value:.4f} (PyTorch) vs {self.onnx_value:.4f} (ONNX)"
        head = "ONNX matches PyTorch" if self.matches else "ONNX DIFFERS from PyTorch"
        return f"{head}: max |Δ| {self.max_abs_diff:.1e} over {self.rows} rows; {values}"

    def to_dict(self) -> dict[str, Any]:
        return {"max_abs_diff": self.max_abs_diff, "metric": self.metric, "torch": self.torch_value,
                "onnx": self.onnx_value, "rows": self.rows, "split": self.split, "matches": self.matches}


@torch.no_grad()
def check_parity(module: torch.nn.Module, onnx_path: str | os.PathLike, X: torch.Tensor, y: torch.Tensor,
                 meta: Any, split: str = "test") -> Parity:
    """Run `module` (PyTorch) and the ONNX file on the same raw inputs: the largest output
    difference and the headline metric from both."""
    module.eval()
    expected = torch.cat([module(X[a:a + ORT_CHUNK]) for a in range(0, len(X), ORT_CHUNK)]) if len(X) else None
    got = ort_predict(ort_session(onnx_path), X)
    if expected is None:
        return Parity(0.0, "accuracy" if meta.task == "classification" else "r2", float("nan"), float("nan"), 0, split)
    diff = float(np.max(np.abs(got - expected.numpy()))) if got.size else 0.0
    name, torch_value = headline_metric(expected, y, meta)
    _, onnx_value = headline_metric(got, y, meta)
    return Parity(diff, name, torch_value, onnx_value, int(len(X)), split)
