"""What a run did to its data before the model saw it, kept with the run (`preprocessing.json`)
so that new rows or images go through exactly the same steps, with no access to the original
data: the input columns (numbers, one-hot categories and their levels, fill values), the
standardisation fitted on the training split, the image size and colour mode, the classes, and
the target's scaling (regression targets in the target's own units).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.data import DatasetMeta, default_input_columns

__all__ = ["PREPROCESSING_FILE", "Preprocessing", "target_scaler"]

PREPROCESSING_FILE = "preprocessing.json"
FORMAT = 1


def target_scaler(data: Any) -> Any:
    """The TargetScaler a regression target was standardised with for training (PreparedData.meta.
    target_scaler: `to_units(outputs)` gives the target's own units; it has `mean` and `std` per
    target column), or None when the model learnt the target's own units."""
    return getattr(getattr(data, "meta", None), "target_scaler", None)


def _floats(a: Any) -> list[float] | None:
    return None if a is None else [float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


@dataclass
class Preprocessing:
    kind: str  # "tabular" | "image"
    task: str  # "classification" | "regression"
    class_names: list[str]
    feature_names: list[str]
    input_shape: list[int]
    target_name: str
    target_width: int
    source: str = ""
    input_columns: list[dict] = field(default_factory=list)
    mean: list[float] | None = None  # input standardisation (per feature / per channel), fitted on train
    std: list[float] | None = None
    target_mean: list[float] | None = None  # regression target scaling, or None
    target_std: list[float] | None = None
    missing: str = "error"
    image_size: int | None = None
    color_mode: str | None = None
    probability: str = "softmax"  # how outputs become probabilities ("sigmoid" for BCEWithLogitsLoss)
    feature_min: list[float] = field(default_factory=list)  # raw training range of each feature
    feature_max: list[float] = field(default_factory=list)
    feature_median: list[float] = field(default_factory=list)
    format: int = FORMAT

    # ---- building and storing --------------------------------------------------------------
    @classmethod
    def from_run(cls, spec: Any, data: Any) -> Preprocessing:
        """From an experiment spec and its PreparedData (what the trainer had)."""
        meta = data.meta
        prep = cls(
            kind=meta.kind, task=meta.task, class_names=list(meta.class_names),
            feature_names=list(meta.feature_names), input_shape=[int(s) for s in meta.input_shape],
            target_name=meta.target_name, target_width=int(meta.target_width), source=str(meta.source),
            input_columns=[dict(c) for c in getattr(meta, "input_columns", []) or []],
            mean=_floats(data.mean), std=_floats(data.std), missing=spec.data.missing,
            probability="sigmoid" if spec.loss.type == "BCEWithLogitsLoss" else "softmax",
        )
        scaler = target_scaler(data)
        if scaler is not None:
            prep.target_mean, prep.target_std = _floats(scaler.mean), _floats(scaler.std)
        if meta.kind == "image":
            prep.image_size, prep.color_mode = spec.data.image_size, spec.data.color_mode
        elif len(data.train):
            raw = prep.to_raw(data.train.X.numpy())
            prep.feature_min = _floats(raw.min(axis=0))
            prep.feature_max = _floats(raw.max(axis=0))
            prep.feature_median = _floats(np.median(raw, axis=0))
        if meta.kind == "tabular" and not prep.input_columns:
            prep.input_columns = default_input_columns(prep.feature_names, prep.feature_median or None)
        if meta.kind == "tabular" and len(data.train):
            prep._fill_from_training(raw)
        return prep

    def _fill_from_training(self, raw: np.ndarray) -> None:
        """Every column gets the value that stands in for it (a missing cell when the run imputes,
        the playground's start, the fixed features of a boundary plane): the loader's imputed
        value where it had one, else the training median (numbers) or most frequent level."""
        i = 0
        for col in self.input_columns:
            if col["kind"] == "numeric":
                col.setdefault("fill", float(np.median(raw[:, i])))
                i += 1
            else:
                levels = list(col.get("levels", []))
                if levels and "fill" not in col:
                    col["fill"] = levels[int(np.argmax(raw[:, i:i + len(levels)].sum(axis=0)))]
                i += len(levels)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    def save(self, folder: str | os.PathLike) -> Path:
        path = Path(folder) / PREPROCESSING_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Preprocessing:
        """Read preprocessing.json; ValueError with the reason for a file that is not one."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read {path}: {exc}") from exc
        if not isinstance(raw, dict) or "kind" not in raw:
            raise ValueError(f"{path} is not a Workbench preprocessing file")
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in raw.items() if k in known})

    # ---- applying it ---------------------------------------------------------------------
    def meta(self) -> DatasetMeta:
        """A DatasetMeta with what building the model needs."""
        return DatasetMeta(source=self.source, kind=self.kind, task=self.task, class_names=list(self.class_names),
                           feature_names=list(self.feature_names), input_shape=tuple(self.input_shape),
                           target_name=self.target_name, target_width=self.target_width, n_samples=0,
                           input_columns=[dict(c) for c in self.input_columns])

    def _shape(self, X: np.ndarray) -> tuple[int, ...]:
        return (1, -1) if self.kind == "tabular" else (1, -1, *([1] * (X.ndim - 2)))

    def to_model(self, X_raw: np.ndarray) -> np.ndarray:
        """Raw inputs (file units; images in [0, 1]) -> what the model takes (standardised)."""
        X = np.asarray(X_raw, dtype=np.float32)
        if self.mean is None or self.std is None:
            return X
        shape = self._shape(X)
        mean = np.asarray(self.mean, dtype=np.float32).reshape(shape)
        std = np.asarray(self.std, dtype=np.float32).reshape(shape)
        return ((X - mean) / std).astype(np.float32)

    def to_raw(self, X_model: np.ndarray) -> np.ndarray:
        """The inverse of to_model (for showing inputs in their own units)."""
        X = np.asarray(X_model, dtype=np.float32)
        if self.mean is None or self.std is None:
            return X
        shape = self._shape(X)
        return X * np.asarray(self.std, dtype=np.float32).reshape(shape) + np.asarray(self.mean, dtype=np.float32).reshape(shape)

    def stored_to_model(self, inputs: np.ndarray) -> np.ndarray:
        """Inputs as predictions.npz stores them for display (tables in file units, images as
        uint8) -> what the model takes."""
        X = np.asarray(inputs)
        if self.kind == "image" and X.dtype == np.uint8:
            X = X.astype(np.float32) / 255.0
        return self.to_model(X)

    def target_to_units(self, values: np.ndarray) -> np.ndarray:
        """Regression targets/outputs as the model sees them -> the target's own units."""
        v = np.asarray(values, dtype=np.float64)
        v = v.reshape(len(v), -1) if v.ndim else v
        if self.target_mean is None or self.target_std is None:
            return v
        return v * np.asarray(self.target_std) + np.asarray(self.target_mean)

    @property
    def target_names(self) -> list[str]:
        if self.task != "regression":
            return [self.target_name]
        if self.target_width == 1:
            return [self.target_name]
        return [f"{self.target_name}[{i}]" for i in range(self.target_width)]

    def baseline_raw(self) -> np.ndarray:
        """One raw row with every numeric column at its training median and every category at
        its most frequent value (one-hot), in feature order."""
        values: list[float] = []
        for col in self.input_columns:
            if col["kind"] == "numeric":
                i = len(values)
                median = self.feature_median[i] if i < len(self.feature_median) else None
                values.append(float(median if median is not None else col.get("fill", 0.0)))
            else:
                levels = list(col.get("levels", []))
                fill = col.get("fill")
                values.extend(1.0 if lv == fill else 0.0 for lv in levels)
        if len(values) != len(self.feature_names) and self.feature_median:
            return np.asarray(self.feature_median, dtype=np.float32)
        return np.asarray(values, dtype=np.float32)

    def input_blocks(self) -> list[tuple[str, int, list[str] | None]]:
        """The input columns as the file had them, to show a row the way a person wrote it: (name,
        index of its first feature, its levels for a category, None for a number), in order. A run
        without column records (images, arrays) has one block per feature."""
        if not self.input_columns:
            return [(name, i, None) for i, name in enumerate(self.feature_names)]
        blocks, i = [], 0
        for col in self.input_columns:
            levels = None if col["kind"] == "numeric" else [str(v) for v in col.get("levels", [])]
            blocks.append((str(col["name"]), i, levels))
            i += 1 if levels is None else len(levels)
        return blocks

    @staticmethod
    def block_value(block: tuple[str, int, list[str] | None], raw_row: np.ndarray) -> float | str:
        """One column of a raw feature row: the number, or the category whose one-hot cell is set
        ("" when none is: a value the run never saw)."""
        _, start, levels = block
        if levels is None:
            return float(raw_row[start])
        cells = np.asarray(raw_row[start:start + len(levels)], dtype=np.float64)
        return levels[int(np.argmax(cells))] if len(cells) and cells.max() > 0.5 else ""

    def numeric_features(self) -> list[int]:
        """Indices (into feature_names) of features that are numeric columns."""
        out, i = [], 0
        for col in self.input_columns:
            if col["kind"] == "numeric":
                out.append(i)
                i += 1
            else:
                i += len(col.get("levels", []))
        return out
