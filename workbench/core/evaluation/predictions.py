"""A run's predictions on its splits: what they are, and how they are stored with the run.

The file is `predictions.npz` in the run's folder (numpy's own format, read back with
allow_pickle=False). Per split s in train/val/test:
  s_y        true labels: int64 (N,) class indices, or float (N, w) in the target's units
  s_outputs  classification: the model's raw outputs (N, C) or (N, 1) float32, exactly the values
             the run's reported metrics were computed from; regression: predictions (N, w) in
             the target's units
  s_rows     int64 (N,) the row of each sample in the loaded dataset (optional)
  s_labels   str (N,) where each sample came from: "line 12" of a table, "circle/003.png" (optional)
  s_inputs   raw inputs for display (optional, omitted when large): tables float32 (N, F) in the
             file's units, images uint8 (N, C, H, W)
and: format, task, class_names, target_names, probability ("softmax" | "sigmoid"), epoch, final
(1 once the run ended; 0 for a live snapshot, which holds val only).

Probabilities come from the outputs: softmax over classes (CrossEntropy/NLL losses), or sigmoid
for BCEWithLogitsLoss (one output: [1 - s, s]; one per class: normalised to sum to one). The
predicted class is the argmax of the outputs (one output: class 1 when it is > 0), as the trainer
counts it, so stored predictions reproduce the reported metrics exactly.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

__all__ = [
    "PREDICTIONS_FILE",
    "SPLITS",
    "RunPredictions",
    "SplitPredictions",
    "load_predictions",
    "predicted_from_outputs",
    "probabilities_from_outputs",
    "save_predictions",
]

PREDICTIONS_FILE = "predictions.npz"
FORMAT = 1
SPLITS = ("train", "val", "test")
EPS = 1e-12


def probabilities_from_outputs(outputs: np.ndarray, probability: str = "softmax") -> np.ndarray:
    """(N, C) float64 class probabilities from raw model outputs (see the module doc)."""
    out = np.asarray(outputs, dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    if out.shape[1] == 1:
        s = 1.0 / (1.0 + np.exp(-out[:, 0]))
        return np.stack([1.0 - s, s], axis=1)
    if probability == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-out))
        total = s.sum(axis=1, keepdims=True)
        return s / np.where(total > 0, total, 1.0)
    z = out - out.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def predicted_from_outputs(outputs: np.ndarray) -> np.ndarray:
    """Predicted class indices: argmax (first of ties), or `> 0` for a single output."""
    out = np.asarray(outputs)
    if out.ndim == 1 or out.shape[1] == 1:
        return (out.reshape(-1) > 0).astype(np.int64)
    return out.argmax(axis=1).astype(np.int64)


@dataclass
class SplitPredictions:
    """One split's true values and predictions (see the module doc for the fields)."""

    split: str
    task: str
    class_names: list[str]
    y_true: np.ndarray
    outputs: np.ndarray
    probability: str = "softmax"
    target_names: list[str] = field(default_factory=list)
    rows: np.ndarray | None = None
    labels: np.ndarray | None = None
    inputs: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y_true)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @cached_property
    def probabilities(self) -> np.ndarray:
        return probabilities_from_outputs(self.outputs, self.probability)

    @cached_property
    def predicted(self) -> np.ndarray:
        if self.task != "classification":
            raise ValueError("a regression has no predicted classes")
        return predicted_from_outputs(self.outputs)

    @property
    def confidence(self) -> np.ndarray:
        """Probability of the predicted class."""
        return self.probabilities[np.arange(len(self)), self.predicted]

    @property
    def true_probability(self) -> np.ndarray:
        return self.probabilities[np.arange(len(self)), self.y_true]

    @property
    def sample_loss(self) -> np.ndarray:
        """Cross-entropy of each row, -log p(true class): large for confident mistakes."""
        return -np.log(np.clip(self.true_probability, EPS, 1.0))

    @property
    def predictions(self) -> np.ndarray:
        """Regression: predicted values (N, w) in the target's units."""
        return np.asarray(self.outputs, dtype=np.float64).reshape(len(self), -1)

    def subset(self, index: np.ndarray) -> SplitPredictions:
        """The same split restricted to `index` (rows kept in that order)."""
        pick = lambda a: None if a is None else a[index]
        return SplitPredictions(self.split, self.task, self.class_names, self.y_true[index], self.outputs[index],
                                self.probability, self.target_names, pick(self.rows), pick(self.labels),
                                pick(self.inputs))


@dataclass
class RunPredictions:
    """Every stored split of a run, and when they were taken."""

    splits: dict[str, SplitPredictions]
    epoch: int
    final: bool
    task: str
    class_names: list[str]

    def get(self, split: str) -> SplitPredictions | None:
        return self.splits.get(split)


def save_predictions(path: str | os.PathLike, run: RunPredictions, compress: bool = False) -> Path:
    """Write atomically (temporary file + os.replace): a reader never sees half a file. Plain
    float32/uint8 arrays; not compressed by default (zlib took 0.2 s of a 3 s digits run)."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT), "task": np.array(run.task), "epoch": np.array(int(run.epoch)),
        "final": np.array(int(bool(run.final))), "class_names": np.array(run.class_names, dtype=str),
    }
    for name, sp in run.splits.items():
        arrays[f"{name}_y"] = np.asarray(sp.y_true)
        arrays[f"{name}_outputs"] = np.asarray(sp.outputs, dtype=np.float32)
        arrays["probability"] = np.array(sp.probability)
        arrays["target_names"] = np.array(sp.target_names, dtype=str)
        for key in ("rows", "labels", "inputs"):
            value = getattr(sp, key)
            if value is not None:
                arrays[f"{name}_{key}"] = np.asarray(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            (np.savez_compressed if compress else np.savez)(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_predictions(path: str | os.PathLike) -> RunPredictions:
    """Read a predictions file (allow_pickle=False: no code runs when it is opened).
    Raises ValueError with a readable message for a file that is not one."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"cannot read the predictions file {path}: {exc}") from exc
    if "format" not in data or "task" not in data:
        raise ValueError(f"{path} is not a Workbench predictions file")
    task = str(data["task"])
    class_names = [str(c) for c in data.get("class_names", np.array([], dtype=str))]
    probability = str(data.get("probability", "softmax"))
    target_names = [str(t) for t in data.get("target_names", np.array([], dtype=str))]
    splits: dict[str, SplitPredictions] = {}
    for name in SPLITS:
        if f"{name}_y" not in data:
            continue
        splits[name] = SplitPredictions(
            name, task, class_names, data[f"{name}_y"], data[f"{name}_outputs"], probability, target_names,
            data.get(f"{name}_rows"), data.get(f"{name}_labels"), data.get(f"{name}_inputs"))
    return RunPredictions(splits, int(data.get("epoch", 0)), bool(int(data.get("final", 0))), task, class_names)
