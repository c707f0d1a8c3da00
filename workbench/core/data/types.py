"""The plain values the data layer hands out: a loaded Dataset, its metadata, prepared splits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch and the spec are only needed for annotations here
    import torch

    from workbench.core.spec import AugmentSpec


class DataError(ValueError):
    """Data that cannot be used. The message names the file / column / rows and the fix."""


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


@dataclass
class Dataset:
    """A whole dataset before splitting."""

    X: np.ndarray  # float32, shape (N, *input_shape)
    y: np.ndarray  # int64 class indices (N,) or float32 (N, target_width)
    meta: DatasetMeta
    preview_columns: list[str] = field(default_factory=list)  # raw columns (tabular only)
    preview_rows: list[list[str]] = field(default_factory=list)  # first ~50 raw rows as strings


@dataclass
class Split:
    X: "torch.Tensor"  # float32, contiguous
    y: "torch.Tensor"  # int64 (N,) or float32 (N, target_width)

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
