"""Built-in samples: every one loads with the right task, shape and classes (how fast:
benchmarks/scale.py, samples)."""

from __future__ import annotations


import numpy as np
import pytest

from workbench.core.data import SAMPLES, DataError, load_dataset, sample_data_dir
from workbench.core.spec import DataSpec

EXPECTED = {
    "circle": ("tabular", "classification", (2,), 2),
    "xor": ("tabular", "classification", (2,), 2),
    "gauss": ("tabular", "classification", (2,), 2),
    "spiral": ("tabular", "classification", (2,), 2),
    "moons": ("tabular", "classification", (2,), 2),
    "sine": ("tabular", "regression", (1,), 1),
    "linear": ("tabular", "regression", (1,), 1),
    "iris": ("tabular", "classification", (4,), 3),
    "digits": ("tabular", "classification", (64,), 10),
    "shapes": ("image", "classification", (1, 28, 28), 4),
}


def test_sample_names_match_the_contract():
    assert set(SAMPLES) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_loads(name):
    kind, task, shape, width = EXPECTED[name]
    info = SAMPLES[name]
    assert (info.kind, info.task) == (kind, task) and info.title and info.description
    ds = load_dataset(DataSpec(source=f"sample:{name}"))
    m = ds.meta
    assert (m.kind, m.task, m.input_shape, m.target_width) == (kind, task, shape, width)
    assert m.source == f"sample:{name}" and m.n_samples == len(ds.X) == len(ds.y) == info.default_n
    assert ds.X.dtype == np.float32 and ds.X.shape[1:] == shape and np.isfinite(ds.X).all()
    if task == "classification":
        assert ds.y.dtype == np.int64 and len(m.class_names) == width
        assert sum(m.class_counts) == m.n_samples and min(m.class_counts) > 0
    else:
        assert ds.y.dtype == np.float32 and ds.y.shape == (m.n_samples, 1) and m.class_names == []
    assert (info.default_noise is None) == (not info.synthetic)


def test_iris_is_the_real_iris():
    ds = load_dataset(DataSpec(source="sample:iris"))
    assert ds.meta.class_names == ["setosa", "versicolor", "virginica"]
    assert ds.meta.class_counts == [50, 50, 50]
    assert ds.meta.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    np.testing.assert_allclose(ds.X.mean(axis=0), [5.8433, 3.0573, 3.758, 1.1993], atol=1e-3)
    np.testing.assert_allclose(ds.X.std(axis=0, ddof=1), [0.8281, 0.4359, 1.7653, 0.7622], atol=1e-3)
    setosa = ds.X[ds.y == 0].mean(axis=0)
    np.testing.assert_allclose(setosa, [5.006, 3.428, 1.462, 0.246], atol=1e-3)


def test_iris_with_another_target_becomes_regression():
    ds = load_dataset(DataSpec(source="sample:iris", target="petal_width"))
    assert ds.meta.task == "regression" and "species=setosa" in ds.meta.feature_names


def test_digits_values_are_uci_style_counts():
    ds = load_dataset(DataSpec(source="sample:digits"))
    assert ds.X.min() == 0 and ds.X.max() == 16 and np.all(ds.X == np.round(ds.X))
    assert ds.meta.class_names == [str(d) for d in range(10)]


def test_synthetic_samples_follow_noise_n_and_seed():
    a = load_dataset(DataSpec(source="sample:spiral", n_samples=100, noise=0.3, seed=1))
    b = load_dataset(DataSpec(source="sample:spiral", n_samples=100, noise=0.3, seed=1))
    c = load_dataset(DataSpec(source="sample:spiral", n_samples=100, noise=0.3, seed=2))
    assert a.X.shape == (100, 2) and a.meta.class_counts == [50, 50]
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    clean = load_dataset(DataSpec(source="sample:spiral", noise=0.0))
    assert np.abs(clean.X).max() <= 5.0  # Playground's spiral: radius up to 5


def test_playground_geometry():
    circle = load_dataset(DataSpec(source="sample:circle", noise=0.0))
    r = np.hypot(circle.X[:, 0], circle.X[:, 1])
    assert (r[circle.y == 1] < 2.5).all() and (r[circle.y == 0] >= 3.5).all() and r.max() <= 5
    xor = load_dataset(DataSpec(source="sample:xor", noise=0.0))
    assert ((xor.X[:, 0] * xor.X[:, 1] >= 0) == (xor.y == 1)).all() and (np.abs(xor.X) >= 0.3).all()
    gauss = load_dataset(DataSpec(source="sample:gauss", noise=0.0, n_samples=4000))
    np.testing.assert_allclose(gauss.X[gauss.y == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(gauss.X[gauss.y == 1].var(axis=0), [0.5, 0.5], rtol=0.15)  # variance 0.5 at noise 0


def test_regression_samples():
    lin = load_dataset(DataSpec(source="sample:linear", noise=0.0))
    np.testing.assert_allclose(lin.y[:, 0], 2 * lin.X[:, 0], rtol=1e-5)
    sine = load_dataset(DataSpec(source="sample:sine", noise=0.0))
    np.testing.assert_allclose(sine.y[:, 0], np.sin(sine.X[:, 0]), atol=1e-5)


def test_unknown_sample_and_wrong_task():
    with pytest.raises(DataError, match="no sample named 'nope'.*spiral"):
        load_dataset(DataSpec(source="sample:nope"))
    with pytest.raises(DataError, match="classification dataset"):
        load_dataset(DataSpec(source="sample:spiral", task="regression"))


def test_sample_data_dir_env_override(tmp_path, monkeypatch):
    assert (sample_data_dir() / "iris.csv").is_file()
    monkeypatch.setenv("WORKBENCH_SAMPLE_DATA", str(tmp_path))
    assert sample_data_dir() == tmp_path
    with pytest.raises(DataError, match="WORKBENCH_SAMPLE_DATA"):
        load_dataset(DataSpec(source="sample:iris"))


def test_shapes_size_and_colour_follow_the_spec():
    ds = load_dataset(DataSpec(source="sample:shapes", image_size=16, color_mode="rgb"))
    assert ds.X.shape == (480, 3, 16, 16)
