"""prepare(): deterministic, stratified splits and train-only standardisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.core.data import Dataset, DatasetMeta, PreparedData, load_dataset, prepare
from workbench.core.spec import AugmentSpec, DataSpec


def make(X, y, task="classification", kind="tabular", names=None):
    n_cls = int(y.max()) + 1 if task == "classification" else 0
    meta = DatasetMeta(
        source="test", kind=kind, task=task, class_names=names or [str(i) for i in range(n_cls)],
        feature_names=[], input_shape=tuple(X.shape[1:]), target_name="y",
        target_width=n_cls if task == "classification" else y.shape[1], n_samples=len(X),
        class_counts=np.bincount(y).tolist() if task == "classification" else [],
    )
    return Dataset(X=X.astype(np.float32), y=y, meta=meta)


def test_split_sizes_types_and_determinism():
    ds = load_dataset(DataSpec(source="sample:iris"))
    spec = DataSpec(source="sample:iris", split={"val": 0.2, "test": 0.1}, seed=3)
    a, b = prepare(ds, spec), prepare(ds, spec)
    assert isinstance(a, PreparedData)
    assert (len(a.train), len(a.val), len(a.test)) == (105, 30, 15)
    for part in (a.train, a.val, a.test):
        assert part.X.dtype == torch.float32 and part.X.is_contiguous() and part.y.dtype == torch.int64
    for pa, pb in ((a.train, b.train), (a.val, b.val), (a.test, b.test)):
        assert torch.equal(pa.X, pb.X) and torch.equal(pa.y, pb.y)
    c = prepare(ds, spec.model_copy(update={"seed": 4}))
    assert not torch.equal(a.val.X, c.val.X)


def test_split_is_stratified():
    ds = load_dataset(DataSpec(source="sample:iris"))
    p = prepare(ds, DataSpec(source="sample:iris", split={"val": 0.2, "test": 0.2}))
    assert torch.bincount(p.train.y).tolist() == [30, 30, 30]
    assert torch.bincount(p.val.y).tolist() == [10, 10, 10]
    assert torch.bincount(p.test.y).tolist() == [10, 10, 10]


def test_small_classes_keep_a_training_row():
    y = np.array([0] * 40 + [1] * 2 + [2])
    ds = make(np.random.default_rng(0).normal(size=(43, 2)), y)
    p = prepare(ds, DataSpec(split={"val": 0.3, "test": 0.3}))
    assert set(p.train.y.tolist()) == {0, 1, 2}
    assert len(p.train) + len(p.val) + len(p.test) == 43
    assert (p.val.y == 2).sum() == 0 and (p.test.y == 2).sum() == 0


def test_zero_val_and_test():
    ds = load_dataset(DataSpec(source="sample:linear"))
    p = prepare(ds, DataSpec(source="sample:linear", split={"val": 0.0, "test": 0.0}))
    assert len(p.train) == 200 and len(p.val) == 0 and len(p.test) == 0
    assert p.val.X.shape == (0, 1) and p.val.y.shape == (0, 1) and p.val.y.dtype == torch.float32


def test_regression_targets_are_not_standardised():
    ds = load_dataset(DataSpec(source="sample:linear", noise=0.0))
    p = prepare(ds, DataSpec(source="sample:linear"))
    x_raw = p.train.X[:, 0] * float(p.std[0]) + float(p.mean[0])
    np.testing.assert_allclose(p.train.y[:, 0].numpy(), 2 * x_raw.numpy(), rtol=1e-4, atol=1e-4)


def test_standardisation_is_fitted_on_train_only():
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 3.0, size=(200, 3))
    X[:, 2] = 7.0  # a constant column
    ds = make(X, np.arange(200) % 2)
    spec = DataSpec(split={"val": 0.25, "test": 0.25})
    p = prepare(ds, spec)
    train = p.train.X.double().numpy()
    np.testing.assert_allclose(train[:, :2].mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train[:, :2].std(0), 1.0, atol=1e-4)
    assert torch.all(p.train.X[:, 2] == 0) and torch.isfinite(p.val.X).all()
    assert p.std[2] == 1.0
    # the stats are the training rows' stats, not the whole dataset's
    unscaled = prepare(ds, spec.model_copy(update={"standardize": False}))
    np.testing.assert_allclose(p.mean, unscaled.train.X.numpy().mean(0), rtol=1e-5)
    assert not np.allclose(p.mean[:2], X[:, :2].mean(0), rtol=1e-6)
    # val is scaled with the train stats
    np.testing.assert_allclose(p.val.X.numpy(), (unscaled.val.X.numpy() - p.mean) / p.std, rtol=1e-5, atol=1e-5)


def test_images_standardised_per_channel():
    rng = np.random.default_rng(1)
    X = rng.random((40, 3, 4, 4)) * np.array([1, 10, 100]).reshape(1, 3, 1, 1)
    ds = make(X, np.arange(40) % 2, kind="image")
    p = prepare(ds, DataSpec(split={"val": 0.0, "test": 0.0}))
    assert p.mean.shape == (3,) and p.std.shape == (3,)
    np.testing.assert_allclose(p.train.X.numpy().mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    assert p.train.X.shape == (40, 3, 4, 4)


def test_no_standardisation_and_augment_copied():
    ds = load_dataset(DataSpec(source="sample:shapes"))
    spec = DataSpec(source="sample:shapes", standardize=False, augment=AugmentSpec(hflip=True))
    p = prepare(ds, spec)
    assert p.mean is None and p.std is None
    assert p.augment == AugmentSpec(hflip=True) and p.augment is not spec.augment
    assert p.train.X.min() >= 0 and p.train.X.max() <= 1


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_datasets_do_not_crash(n):
    ds = make(np.zeros((n, 2)), np.zeros((n, 1), np.float32), task="regression")
    p = prepare(ds, DataSpec())
    assert len(p.train) >= 1 and len(p.train) + len(p.val) + len(p.test) == n


def test_singleton_classes_leave_val_and_test_their_share_from_larger_classes():
    # 100 rows of class 0 and 100 classes of one row: the singletons stay in train, class 0
    # gives val/test all their rows (15% of 200 = 30 each), no note needed
    y = np.array([0] * 100 + list(range(1, 101)))
    ds = make(np.random.default_rng(0).normal(size=(200, 2)), y)
    p = prepare(ds, DataSpec(split={"val": 0.15, "test": 0.15}))
    assert (len(p.train), len(p.val), len(p.test)) == (140, 30, 30)
    assert set(p.val.y.tolist()) == {0} and set(p.test.y.tolist()) == {0}
    assert set(range(1, 101)) <= set(p.train.y.tolist())
    assert p.meta.notes == ds.meta.notes


def test_all_singleton_classes_still_fill_val_and_test_with_a_note():
    y = np.arange(300)
    ds = make(np.random.default_rng(0).normal(size=(300, 2)), y)
    spec = DataSpec(split={"val": 0.15, "test": 0.15})
    p, q = prepare(ds, spec), prepare(ds, spec)
    assert (len(p.train), len(p.val), len(p.test)) == (210, 45, 45)
    assert torch.equal(p.val.y, q.val.y)  # still deterministic
    assert sorted(torch.cat([p.train.y, p.val.y, p.test.y]).tolist()) == list(range(300))
    note = " ".join(p.meta.notes)
    assert "split:" in note and "300 classes in 300 rows" in note and "at random" in note
    assert not any("split:" in n for n in ds.meta.notes)  # the dataset's own notes are untouched
