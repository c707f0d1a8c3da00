"""Decision-boundary planes and grids: display coordinates map to the right model inputs, points
project back onto the axes, and a known model's boundary lands where it should."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.evaluation import Preprocessing, default_plane, feature_plane, grid_snapshot, line_plane, pca_plane


def _prep(n_features=3, task="classification", mean=None, std=None, columns=None) -> Preprocessing:
    names = [f"f{i}" for i in range(n_features)]
    return Preprocessing(
        kind="tabular", task=task, class_names=["a", "b"] if task == "classification" else [],
        feature_names=names, input_shape=[n_features], target_name="t",
        target_width=2 if task == "classification" else 1,
        input_columns=columns or [{"name": n, "kind": "numeric", "fill": 0.0} for n in names],
        mean=mean, std=std, feature_min=[-1.0] * n_features, feature_max=[1.0] * n_features,
        feature_median=[0.5] * n_features)


def test_feature_plane_maps_raw_units_through_the_standardisation():
    prep = _prep(3, mean=[10.0, 20.0, 30.0], std=[2.0, 4.0, 5.0])
    plane = feature_plane(prep, 0, 2)
    X = plane.to_model(np.array([12.0, 8.0]), np.array([35.0, 30.0]))
    # feature 0 = (u - 10) / 2, feature 2 = (v - 30) / 5, feature 1 held at its median 0.5 -> (0.5 - 20) / 4
    np.testing.assert_allclose(X, [[1.0, -4.875, 1.0], [-1.0, -4.875, 0.0]], rtol=1e-6)
    u, v = plane.project(X)
    np.testing.assert_allclose(u, [12.0, 8.0], rtol=1e-6)
    np.testing.assert_allclose(v, [35.0, 30.0], rtol=1e-6)
    assert plane.x_name == "f0" and plane.y_name == "f2"


def test_baseline_holds_categories_at_their_most_frequent_level():
    cols = [{"name": "x", "kind": "numeric", "fill": 7.0},
            {"name": "c", "kind": "categorical", "levels": ["p", "q", "r"], "fill": "q"}]
    prep = _prep(4, columns=cols)
    prep.feature_median = [3.0, 0.0, 1.0, 0.0]
    np.testing.assert_array_equal(prep.baseline_raw(), [3.0, 0.0, 1.0, 0.0])
    assert prep.numeric_features() == [0]
    blocks = prep.input_blocks()
    assert blocks == [("x", 0, None), ("c", 1, ["p", "q", "r"])]
    row = np.array([3.5, 0.0, 0.0, 1.0])
    assert [Preprocessing.block_value(b, row) for b in blocks] == [3.5, "r"]
    assert Preprocessing.block_value(blocks[1], np.zeros(4)) == ""  # no level set: nothing to name
    assert _prep(2, columns=None).input_blocks()[1] == ("f1", 1, None)


def test_grid_of_a_known_rule_puts_the_boundary_on_the_line():
    prep = _prep(2)
    plane = feature_plane(prep, 0, 1)

    def predict(X):  # class b where f0 + f1 > 0, confidently far from the line
        s = X[:, 0] + X[:, 1]
        return np.stack([-s * 5, s * 5], axis=1)

    pts = np.array([[0.5, 0.5], [-0.5, -0.2]], np.float32)
    g = grid_snapshot(predict, plane, prep, grid=21, points={"train": (pts, np.array([1, 0]))})
    classes = np.array(g["classes"]).reshape(21, 21)  # rows: y, columns: x
    xs = np.linspace(*g["x_range"], 21)
    ys = np.linspace(*g["y_range"], 21)
    total = xs[None, :] + ys[:, None]
    off_line = np.abs(total) > 1e-6  # cells exactly on the line may round either way
    assert (classes == (total > 0))[off_line].all()
    conf = np.array(g["confidence"]).reshape(21, 21)
    assert conf[0, 0] > 0.99 and conf.min() >= 0.5
    u, v, labels = g["points"]["train"]
    np.testing.assert_allclose(u, [0.5, -0.5], atol=1e-5)
    np.testing.assert_allclose(v, [0.5, -0.2], atol=1e-5)
    assert labels == [1.0, 0.0]


def test_line_plane_for_one_input_regression():
    prep = _prep(1, task="regression", mean=[2.0], std=[3.0])
    prep.target_mean, prep.target_std = [100.0], [10.0]
    plane = line_plane(prep)
    g = grid_snapshot(lambda X: X * 1.0, plane, prep, grid=11)  # outputs = the standardised input
    assert g["ny"] == 1 and len(g["values"]) == 11
    xs = np.linspace(*g["x_range"], 11)
    np.testing.assert_allclose(g["values"], ((xs - 2.0) / 3.0) * 10.0 + 100.0, rtol=1e-5)


def test_pca_plane_spans_data_that_lie_on_a_plane():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 1)), rng.normal(size=(200, 1)) * 0.5
    X = a * np.array([1.0, 1.0, 0.0, 0.0]) + b * np.array([0.0, 0.0, 1.0, -1.0]) + 3.0
    plane = pca_plane(X)
    u, v = plane.project(X)
    np.testing.assert_allclose(plane.to_model(u, v), X, atol=1e-4)  # nothing lost: the data are planar
    assert plane.method == "pca" and "PC1" in plane.x_name


@pytest.mark.parametrize("n, method", [(1, "line"), (2, "features"), (5, "pca")])
def test_default_plane_by_number_of_inputs(n, method):
    prep = _prep(n)
    X = np.random.default_rng(1).normal(size=(30, n)).astype(np.float32)
    assert default_plane(prep, X).method == method
