"""NumPy loading: .npz keys, .npy pairs, shapes -> tabular/image, mismatches."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.data import DataError, load_dataset
from workbench.core.spec import DataSpec


def load(path, **kw):
    return load_dataset(DataSpec(source=str(path), **kw))


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 3)), np.arange(30) % 3


@pytest.mark.parametrize("xk,yk", [("X", "y"), ("x", "y")])
def test_npz_standard_keys(tmp_path, xy, xk, yk):
    p = tmp_path / "d.npz"
    np.savez(p, **{xk: xy[0], yk: xy[1]})
    ds = load(p)
    assert ds.X.dtype == np.float32 and ds.X.shape == (30, 3)
    assert ds.meta.kind == "tabular" and ds.meta.task == "classification"
    assert ds.meta.class_names == ["0", "1", "2"] and ds.meta.class_counts == [10, 10, 10]
    assert ds.meta.feature_names == ["x1", "x2", "x3"]


def test_npz_wrong_keys_lists_keys_and_fix(tmp_path, xy):
    p = tmp_path / "d.npz"
    np.savez(p, inputs_a=xy[0], labels_b=xy[1])
    with pytest.raises(DataError) as err:
        load(p)
    msg = str(err.value)
    assert str(p) in msg and "'inputs_a' (30, 3)" in msg and "'labels_b' (30,)" in msg
    assert "data.x_key" in msg and "data.y_key" in msg
    ds = load(p, x_key="inputs_a", y_key="labels_b")
    assert ds.X.shape == (30, 3) and ds.meta.target_name == "labels_b"


def test_npz_named_key_absent(tmp_path, xy):
    p = tmp_path / "d.npz"
    np.savez(p, X=xy[0], y=xy[1])
    with pytest.raises(DataError, match="no array named 'feats'.*'X' \\(30, 3\\)"):
        load(p, x_key="feats")


def test_mismatched_lengths_name_both_sizes(tmp_path, xy):
    p = tmp_path / "d.npz"
    np.savez(p, X=xy[0], y=xy[1][:25])
    with pytest.raises(DataError, match="X has 30 samples but y has 25"):
        load(p)


@pytest.mark.parametrize("names", [("foo_X.npy", "foo_y.npy"), ("X.npy", "y.npy"), ("foo.npy", "foo_y.npy")])
def test_npy_pairs(tmp_path, xy, names):
    np.save(tmp_path / names[0], xy[0])
    np.save(tmp_path / names[1], xy[1])
    assert load(tmp_path / names[0]).X.shape == (30, 3)
    assert load(tmp_path / names[1]).X.shape == (30, 3)  # naming the y file finds X too


def test_folder_with_X_and_y(tmp_path, xy):
    np.save(tmp_path / "X.npy", xy[0])
    np.save(tmp_path / "y.npy", xy[1])
    assert load(tmp_path).X.shape == (30, 3)


def test_lonely_npy_says_how_to_name_the_targets(tmp_path, xy):
    np.save(tmp_path / "features.npy", xy[0])
    with pytest.raises(DataError) as err:
        load(tmp_path / "features.npy")
    assert "features_y.npy" in str(err.value) and "npz" in str(err.value)


def test_npy_pair_mismatch(tmp_path, xy):
    np.save(tmp_path / "a_X.npy", xy[0])
    np.save(tmp_path / "a_y.npy", xy[1][:10])
    with pytest.raises(DataError, match="X has 30 samples but y has 10"):
        load(tmp_path / "a_X.npy")


def test_pickled_object_array_rejected(tmp_path):
    np.save(tmp_path / "X.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(tmp_path / "y.npy", np.array([0, 1]))
    with pytest.raises(DataError, match="Python objects"):
        load(tmp_path / "X.npy")


def test_rank3_is_one_channel_image_and_uint8_scaled(tmp_path):
    X = (np.arange(20 * 8 * 8) % 256).astype(np.uint8).reshape(20, 8, 8)
    p = tmp_path / "img.npz"
    np.savez(p, X=X, y=np.arange(20) % 2)
    ds = load(p)
    assert ds.meta.kind == "image" and ds.meta.input_shape == (1, 8, 8) and ds.X.shape == (20, 1, 8, 8)
    assert ds.meta.feature_names == [] and 0 <= ds.X.min() and ds.X.max() <= 1.0


def test_rank4_channels_first_and_channels_last(tmp_path):
    p = tmp_path / "img.npz"
    np.savez(p, X=np.zeros((10, 3, 6, 6), np.float32), y=np.arange(10) % 2)
    assert load(p).meta.input_shape == (3, 6, 6)
    np.savez(p, X=np.zeros((10, 6, 6, 3), np.float32), y=np.arange(10) % 2)
    ds = load(p)
    assert ds.meta.input_shape == (3, 6, 6) and any("channels-last" in n for n in ds.meta.notes)


def test_string_labels_one_hot_y_and_multi_target_regression(tmp_path, xy):
    p = tmp_path / "d.npz"
    np.savez(p, X=xy[0], y=np.array(["cat", "dog", "emu"])[xy[1]])
    assert load(p).meta.class_names == ["cat", "dog", "emu"]
    np.savez(p, X=xy[0], y=np.eye(3)[xy[1]])
    ds = load(p)
    assert ds.meta.task == "classification" and ds.y.tolist() == xy[1].tolist()
    np.savez(p, X=xy[0], y=xy[0][:, :2] * 1.5)
    ds = load(p)
    assert ds.meta.task == "regression" and ds.y.shape == (30, 2) and ds.meta.target_width == 2


def test_nan_in_arrays_error_drop_impute(tmp_path, xy):
    X = xy[0].copy()
    X[[2, 5], 1] = np.nan
    p = tmp_path / "d.npz"
    np.savez(p, X=X, y=xy[1])
    with pytest.raises(DataError, match=r"rows 2, 5.*data.missing"):
        load(p)
    assert load(p, missing="drop").X.shape == (28, 3)
    ds = load(p, missing="impute")
    assert ds.X.shape == (30, 3) and np.isfinite(ds.X).all()
    assert ds.X[2, 1] == pytest.approx(np.median(np.delete(X[:, 1], [2, 5])), rel=1e-5)


def test_corrupt_npz(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip at all")
    with pytest.raises(DataError, match="bad.npz"):
        load(tmp_path / "bad.npz")
