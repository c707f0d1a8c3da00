"""The data layer: load a dataset (files, folders, built-in samples), split and standardise it,
augment image batches. No Qt here.

    ds = load_dataset(spec.data, base_dir)      # Dataset (numpy) + DatasetMeta; raises DataError
    prepared = prepare(ds, spec.data)           # PreparedData: torch train/val/test splits
    xb = augment_batch(xb, spec.data.augment, generator)
"""

from workbench.core.locations import sample_data_dir

from .augment import augment_batch
from .load import load_dataset
from .samples import SAMPLES
from .split import prepare
from .types import DataError, Dataset, DatasetMeta, PreparedData, SampleInfo, Split

__all__ = [
    "DataError",
    "Dataset",
    "DatasetMeta",
    "PreparedData",
    "SAMPLES",
    "SampleInfo",
    "Split",
    "augment_batch",
    "load_dataset",
    "prepare",
    "sample_data_dir",
]
