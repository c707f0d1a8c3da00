"""The plain values the data layer hands out: a loaded Dataset, its metadata, prepared splits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch and the spec are only needed for annotations here
    import torch

    from workbench.core.spec import AugmentSpec


class DataError(ValueError):
    """Data that cannot be used. The message names the file / column / rows and the fix."""


@dataclass(frozen=True)
class TargetScaler:
    """The standardisation of a regression target, fitted on the training split (per column).

    The model is trained on `to_standard(y)`; its outputs are in standardised units and
    `to_units(outputs)` turns them into the target's own units. Both accept numpy arrays and
    torch tensors of shape (N, width) or (N,) (one column) and return the same kind.
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def width(self) -> int:
        return len(self.mean)

    def _params(self, values):
        if hasattr(values, "new_tensor"):  # a torch tensor: stay on its device and dtype
            dtype = values.dtype if values.is_floating_point() else None
            return values.new_tensor(self.mean, dtype=dtype), values.new_tensor(self.std, dtype=dtype)
        arr = np.asarray(values)
        dtype = arr.dtype if arr.dtype.kind == "f" else np.float64
        return np.asarray(self.mean, dtype=dtype), np.asarray(self.std, dtype=dtype)

    def to_units(self, values):
        """Standardised values (model outputs) -> the target's own units."""
        mean, std = self._params(values)
        if values.ndim == 1:
            mean, std = mean[0], std[0]
        return values * std + mean

    def to_standard(self, values):
        """Values in the target's own units -> standardised units (what the model learns)."""
        mean, std = self._params(values)
        if values.ndim == 1:
            mean, std = mean[0], std[0]
        return (values - mean) / std

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, d: "dict[str, Any] | None") -> "TargetScaler | None":
        if not d:
            return None
        return cls(tuple(float(v) for v in d["mean"]), tuple(float(v) for v in d["std"]))


@dataclass
class ColumnInfo:
    """One column of a table as the loader read it (what `workbench data` lists)."""

    name: str
    kind: str  # "numeric" | "text"
    role: str  # "feature" | "target" | "left out"
    missing: int = 0  # cells missing in the file (empty, NA, ...; stray words in a numeric column too)
    levels: list[str] = field(default_factory=list)  # text features: the one-hot values, in X's order
    distinct: int = 0  # text columns: number of different values
    features: tuple[int, int] = (0, 0)  # features: [start, stop) of its columns in X
    why: str = ""  # left out: why


@dataclass
class DatasetMeta:
    source: str  # "sample:spiral" or the resolved path
    kind: str  # "tabular" | "image"
    task: str  # "classification" | "regression" (never "auto" after loading)
    class_names: list[str]  # [] for regression
    feature_names: list[str]  # tabular: column names after one-hot; image: []
    input_shape: tuple[int, ...]  # per sample: (n_features,) or (C, H, W)
    target_name: str
    target_width: int  # regression: number of target columns; classification: number of classes
    n_samples: int
    notes: list[str] = field(default_factory=list)
    class_counts: list[int] = field(default_factory=list)  # per class; [] for regression
    # regression targets standardised on the training split (set by prepare(); None otherwise)
    target_scaler: TargetScaler | None = None
    # tables: the raw columns the features come from, in feature order, so a new row can be encoded
    # the same way: {"name", "kind": "numeric"} or {"name", "kind": "categorical", "levels": [...]}
    # (one-hot, in that order); "fill" is the value imputed for a missing cell (data.missing: impute)
    input_columns: list[dict] = field(default_factory=list)
    # tables read from a text file: {"delimiter": ",", "header": True} (a script can read it again)
    table_format: dict = field(default_factory=dict)
    columns: list[ColumnInfo] = field(default_factory=list)  # tables: every column of the file


@dataclass
class Dataset:
    """A whole dataset before splitting."""

    X: np.ndarray  # float32, shape (N, *input_shape)
    y: np.ndarray  # int64 class indices (N,) or float32 (N, target_width)
    meta: DatasetMeta
    preview_columns: list[str] = field(default_factory=list)  # raw columns (tabular only)
    preview_rows: list[list[str]] = field(default_factory=list)  # first ~50 raw rows as strings
    cache_path: str = ""  # the prepared-data cache entry X and y are memory-mapped from ("" if none)
    cache_hit: bool = False  # read from that entry (no parsing) rather than written to it


@dataclass
class Split:
    X: "torch.Tensor"  # float32, contiguous
    y: "torch.Tensor"  # int64 (N,) or float32 (N, target_width), always in the target's own units
    rows: np.ndarray | None = None  # int64: each sample's row in the loaded Dataset

    def __len__(self) -> int:
        return int(self.X.shape[0])


@dataclass
class PreparedData:
    train: Split
    val: Split  # may have 0 rows
    test: Split  # may have 0 rows
    meta: DatasetMeta
    mean: np.ndarray | None  # standardisation fitted on train only: (F,) tabular, (C,) images
    std: np.ndarray | None
    augment: "AugmentSpec | None"  # copied from the spec; the trainer applies it to train batches

    def preprocessing(self) -> dict[str, Any]:
        """What was fitted on the training split, as plain lists (JSON and checkpoint friendly):
        input_mean/input_std (None when inputs are not standardised) and target (a
        TargetScaler.to_dict() or None)."""
        scaler = self.meta.target_scaler
        return {
            "input_mean": None if self.mean is None else [float(v) for v in np.ravel(self.mean)],
            "input_std": None if self.std is None else [float(v) for v in np.ravel(self.std)],
            "target": None if scaler is None else scaler.to_dict(),
        }


@dataclass(frozen=True)
class SampleInfo:
    """A built-in dataset, as the GUI's sample picker lists it."""

    name: str
    title: str
    description: str
    kind: str  # "tabular" | "image"
    task: str  # "classification" | "regression"
    default_noise: float | None  # None: noise does not apply
    default_n: int  # rows it has (files) or generates by default (synthetic)
    synthetic: bool = False  # generated on the fly (noise / n_samples apply)
