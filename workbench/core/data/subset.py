"""Taking part of a classification dataset: some of its classes (data.classes), and at most N
training rows per class (data.train_per_class: a few-shot training set; validation and test
keep all their rows, so the measured accuracy stays comparable)."""

from __future__ import annotations

import dataclasses

import numpy as np

from .targets import class_counts
from .types import DataError, Dataset, DatasetMeta

__all__ = ["select_classes", "selected_meta", "cap_per_class"]


def selected_meta(meta: DatasetMeta, classes: list[str] | None) -> DatasetMeta:
    """What the dataset's meta becomes with only `classes` kept (for summaries before a split);
    the meta itself when `classes` is empty or does not fit (prepare() then says why)."""
    if not classes or meta.task != "classification" or not set(classes) <= set(meta.class_names):
        return meta
    keep = [i for i, n in enumerate(meta.class_names) if n in set(classes)]
    counts = [meta.class_counts[i] for i in keep] if len(meta.class_counts) == len(meta.class_names) else []
    return dataclasses.replace(meta, class_names=[meta.class_names[i] for i in keep], target_width=len(keep),
                               class_counts=counts, n_samples=sum(counts) if counts else meta.n_samples)


def select_classes(dataset: Dataset, classes: list[str]) -> Dataset:
    """The rows of `classes` only (by name), classes renumbered in the dataset's order."""
    meta = dataset.meta
    if meta.task != "classification":
        raise DataError(f"data.classes picks classes, but {meta.source} is a {meta.task} dataset; remove data.classes")
    names = list(meta.class_names)
    unknown = [c for c in classes if c not in names]
    if unknown:
        raise DataError(f"data.classes: {', '.join(repr(c) for c in unknown)} is not a class of {meta.source}; "
                        f"its classes are {', '.join(names)}")
    keep = [i for i, n in enumerate(names) if n in set(classes)]
    if len(keep) < 2:
        raise DataError("data.classes: a classifier needs at least two classes; name two or more")
    rows = np.flatnonzero(np.isin(dataset.y, keep))
    remap = np.full(len(names), -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    y = remap[dataset.y[rows]]
    kept = [names[i] for i in keep]
    new_meta = dataclasses.replace(
        meta, class_names=kept, target_width=len(kept), n_samples=int(len(rows)),
        class_counts=class_counts(y, len(kept)),
        notes=[*meta.notes, f"data.classes: kept {len(rows)} rows of classes {', '.join(kept)} "
                            f"(of {len(names)} classes)"])
    return dataclasses.replace(dataset, X=dataset.X[rows], y=y, meta=new_meta)


def cap_per_class(train: np.ndarray, y: np.ndarray, n: int, notes: list[str]) -> np.ndarray:
    """The first `n` training rows of each class (train is already shuffled), in train's order."""
    labels = y[train]
    seen: dict[int, int] = {}
    keep = np.zeros(len(train), dtype=bool)
    for k, label in enumerate(labels.tolist()):
        if seen.get(label, 0) < n:
            seen[label] = seen.get(label, 0) + 1
            keep[k] = True
    notes.append(f"data.train_per_class: trained on {int(keep.sum())} of {len(train)} training rows (at most {n} "
                 "per class); validation and test keep all theirs")
    return train[keep]
