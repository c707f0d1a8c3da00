"""The data layer: load a dataset (files, folders, built-in samples), split and standardise it,
augment image batches. No Qt here.

    ds = load_dataset(spec.data, base_dir)      # Dataset (numpy) + DatasetMeta; raises DataError
    prepared = prepare(ds, spec.data)           # PreparedData: torch train/val/test splits
    xb = augment_batch(xb, spec.data.augment, generator)

Regression targets in their own units (for evaluation, predict and export):
    prepared.meta.target_scaler                 # TargetScaler | None, fitted on the training split
    y_units = scaler.to_units(model(X))         # model outputs -> the target's own units
    y_std = scaler.to_standard(y)               # what the model was trained to output
    prepared.train.y / .val.y / .test.y         # always in the target's own units
    prepared.preprocessing()                    # {"input_mean", "input_std", "target": {"mean", "std"}}
A run keeps them too: RunStarted.target_scaler, RunStore.target_scaler(run_id), and every
checkpoint's "preprocessing" entry (load with TargetScaler.from_dict(ckpt["preprocessing"]["target"])).
The scaler is None for classification and when data.standardize_target is off; then the model
outputs the target's own units directly.
"""

from workbench.core.locations import sample_data_dir

from .augment import augment_batch
from .encode import EncodedRows, default_input_columns, encode_labels, encode_table
from .images import IMAGE_SUFFIXES, read_image
from .header import header_columns
from .load import load_dataset
from .progress import LoadCancelled, LoadProgress
from .samples import SAMPLES
from .split import prepare
from .subset import selected_meta
from .types import ColumnInfo, DataError, Dataset, DatasetMeta, PreparedData, SampleInfo, Split, TargetScaler

__all__ = [
    "ColumnInfo",
    "DataError",
    "EncodedRows",
    "IMAGE_SUFFIXES",
    "LoadCancelled",
    "LoadProgress",
    "Dataset",
    "DatasetMeta",
    "PreparedData",
    "SAMPLES",
    "SampleInfo",
    "Split",
    "TargetScaler",
    "augment_batch",
    "default_input_columns",
    "encode_labels",
    "encode_table",
    "load_dataset",
    "prepare",
    "read_image",
    "selected_meta",
    "header_columns",
    "sample_data_dir",
]
