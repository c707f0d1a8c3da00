"""Every evaluation number against scikit-learn, on crafted and random cases: confusion
matrices, per-class precision/recall/F1/support with macro and weighted averages, top-k accuracy,
ROC AUC and average precision (per class, macro, micro), reliability bins, and regression errors.
Edge cases: a class absent from a split, a single class, tied scores, no rows."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

sklearn_metrics = pytest.importorskip("sklearn.metrics")
from sklearn.calibration import calibration_curve
from sklearn.preprocessing import label_binarize

from workbench.core.evaluation import (
    accuracy,
    class_order,
    confusion_matrix,
    normalize_confusion,
    one_vs_rest,
    per_class_metrics,
    pr_curve,
    probabilities_from_outputs,
    regression_metrics,
    reliability,
    roc_curve,
    threshold_point,
    top_k_accuracy,
)

SEEDS = range(15)


def _random_case(seed: int, n_classes: int | None = None, tied: bool = False):
    rng = np.random.default_rng(seed)
    k = n_classes or int(rng.integers(2, 7))
    n = int(rng.integers(5, 80))
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) * 2
    if tied:
        logits = np.round(logits)  # many equal scores
    probs = probabilities_from_outputs(logits)
    return y, probs, probs.argmax(1), k


def _sk_prfs(y, pred, k, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sklearn_metrics.precision_recall_fscore_support(y, pred, zero_division=0, **kw)


@pytest.mark.parametrize("seed", SEEDS)
def test_confusion_and_per_class_match_sklearn(seed):
    y, _, pred, k = _random_case(seed)
    cm = confusion_matrix(y, pred, k)
    assert cm.tolist() == sklearn_metrics.confusion_matrix(y, pred, labels=range(k)).tolist()
    m = per_class_metrics(cm)
    p, r, f, s = _sk_prfs(y, pred, k, labels=range(k), average=None)
    np.testing.assert_allclose(m.precision, p, atol=1e-12)
    np.testing.assert_allclose(m.recall, r, atol=1e-12)
    np.testing.assert_allclose(m.f1, f, atol=1e-12)
    assert m.support.tolist() == s.tolist()
    for how in ("macro", "weighted"):
        p, r, f, _ = _sk_prfs(y, pred, k, average=how)  # labels: those in y or pred, as ours
        avg = m.average(how)
        assert avg["precision"] == pytest.approx(p, abs=1e-12)
        assert avg["recall"] == pytest.approx(r, abs=1e-12)
        assert avg["f1"] == pytest.approx(f, abs=1e-12)
    assert accuracy(cm) == pytest.approx(sklearn_metrics.accuracy_score(y, pred), abs=1e-15)
    for by in ("true", "pred"):
        np.testing.assert_allclose(normalize_confusion(cm, by),
                                   sklearn_metrics.confusion_matrix(y, pred, labels=range(k), normalize=by), atol=1e-12)


def test_class_absent_from_split_and_never_predicted():
    # class 2 never occurs and is never predicted; class 3 occurs but is never predicted
    y = np.array([0, 0, 1, 1, 3, 3])
    pred = np.array([0, 1, 1, 1, 0, 1])
    cm = confusion_matrix(y, pred, 4)
    m = per_class_metrics(cm)
    assert m.present.tolist() == [True, True, False, True]
    assert m.support.tolist() == [2, 2, 0, 2]
    p, r, f, _ = _sk_prfs(y, pred, 4, average="macro")
    assert m.average("macro") == pytest.approx({"precision": p, "recall": r, "f1": f})
    p, r, f, _ = _sk_prfs(y, pred, 4, average="weighted")
    assert m.average("weighted") == pytest.approx({"precision": p, "recall": r, "f1": f})
    assert normalize_confusion(cm, "true")[2].tolist() == [0, 0, 0, 0]  # an empty row stays 0


def test_single_class_split():
    y = np.zeros(7, int)
    pred = np.array([0, 0, 1, 0, 0, 1, 0])
    cm = confusion_matrix(y, pred, 2)
    m = per_class_metrics(cm)
    p, r, f, s = _sk_prfs(y, pred, 2, labels=[0, 1], average=None)
    np.testing.assert_allclose(m.precision, p)
    np.testing.assert_allclose(m.recall, r)
    np.testing.assert_allclose(m.f1, f)
    assert m.support.tolist() == s.tolist()
    # ROC is undefined with one class in the truth: nan, as scikit-learn says (with a warning)
    curve = roc_curve(y == 1, np.linspace(0, 1, 7))
    assert np.isnan(curve.area)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(sklearn_metrics.roc_auc_score(y, np.linspace(0, 1, 7)))
    # average precision of the absent positive class: undefined (nan); scikit-learn says 0 with a warning
    assert np.isnan(pr_curve(y == 1, np.linspace(0, 1, 7)).area)


def test_no_rows():
    cm = confusion_matrix(np.zeros(0, int), np.zeros(0, int), 3)
    assert cm.sum() == 0 and np.isnan(accuracy(cm))
    assert np.isnan(per_class_metrics(cm).average("macro")["f1"])
    assert np.isnan(roc_curve(np.zeros(0, bool), np.zeros(0)).area)
    assert np.isnan(regression_metrics(np.zeros((0, 1)), np.zeros((0, 1))).r2)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tied", [False, True])
def test_binary_roc_and_pr_match_sklearn(seed, tied):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 60))
    y = rng.integers(0, 2, n)
    if y.min() == y.max():
        y[0] = 1 - y[0]
    s = rng.integers(0, 4, n) / 3.0 if tied else rng.random(n)
    roc = roc_curve(y == 1, s)
    assert roc.area == pytest.approx(sklearn_metrics.roc_auc_score(y, s), abs=1e-12)
    fpr, tpr, thr = sklearn_metrics.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(roc.x, fpr)
    np.testing.assert_allclose(roc.y, tpr)
    np.testing.assert_allclose(roc.thresholds[1:], thr[1:])
    pr = pr_curve(y == 1, s)
    assert pr.area == pytest.approx(sklearn_metrics.average_precision_score(y, s), abs=1e-12)
    precision, recall, _ = sklearn_metrics.precision_recall_curve(y, s)
    # ours runs from the highest threshold down; scikit-learn's from the lowest up
    np.testing.assert_allclose(pr.y[1:], precision[::-1][1:])
    np.testing.assert_allclose(pr.x[1:], recall[::-1][1:])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tied", [False, True])
def test_one_vs_rest_macro_and_micro_match_sklearn(seed, tied):
    y, probs, _, k = _random_case(seed, n_classes=int(np.random.default_rng(seed).integers(3, 7)), tied=tied)
    y[:k] = np.arange(k)  # every class present, so scikit-learn's multiclass AUC is defined
    ovr = one_vs_rest(y, probs)
    onehot = label_binarize(y, classes=range(k))
    for c in range(k):
        assert ovr.roc[c].area == pytest.approx(sklearn_metrics.roc_auc_score(onehot[:, c], probs[:, c]), abs=1e-12)
        assert ovr.pr[c].area == pytest.approx(sklearn_metrics.average_precision_score(onehot[:, c], probs[:, c]),
                                               abs=1e-12)
    assert ovr.roc_auc_macro == pytest.approx(
        sklearn_metrics.roc_auc_score(y, probs, multi_class="ovr", average="macro", labels=range(k)), abs=1e-12)
    assert ovr.roc_micro.area == pytest.approx(sklearn_metrics.roc_auc_score(onehot, probs, average="micro"), abs=1e-12)
    assert ovr.average_precision_macro == pytest.approx(
        sklearn_metrics.average_precision_score(onehot, probs, average="macro"), abs=1e-12)
    assert ovr.pr_micro.area == pytest.approx(sklearn_metrics.average_precision_score(onehot, probs, average="micro"),
                                              abs=1e-12)


def test_one_vs_rest_with_a_class_absent_from_the_split():
    y = np.array([0, 0, 1, 1, 0, 1])
    probs = probabilities_from_outputs(np.random.default_rng(3).normal(size=(6, 3)))
    ovr = one_vs_rest(y, probs)
    assert np.isnan(ovr.roc[2].area) and np.isnan(ovr.pr[2].area)
    expected = np.mean([sklearn_metrics.roc_auc_score(y == c, probs[:, c]) for c in (0, 1)])
    assert ovr.roc_auc_macro == pytest.approx(expected, abs=1e-12)  # the mean over defined classes


@pytest.mark.parametrize("seed", SEEDS)
def test_top_k_accuracy_matches_sklearn_with_ties(seed):
    y, probs, _, k = _random_case(seed, n_classes=6, tied=seed % 2 == 0)
    scores = np.round(probs, 1)  # ties
    for kk in (1, 2, 3, 5):
        assert top_k_accuracy(y, scores, kk) == pytest.approx(
            sklearn_metrics.top_k_accuracy_score(y, scores, k=kk, labels=range(k)), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_reliability_bins_match_calibration_curve(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 200))
    p = rng.random(n)
    if seed % 3 == 0:
        p = np.round(p, 1)  # values exactly on bin edges
    outcome = rng.random(n) < p
    if outcome.all() or not outcome.any():
        outcome[0] = not outcome[0]
    rel = reliability(p, outcome, 10)
    true, pred = calibration_curve(outcome, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(rel.observed, true, atol=1e-12)
    np.testing.assert_allclose(rel.predicted, pred, atol=1e-12)
    assert rel.counts.sum() == n
    expected_ece = np.sum(rel.counts / n * np.abs(true - pred))
    assert rel.ece == pytest.approx(expected_ece, abs=1e-12)


def test_ece_of_a_perfectly_calibrated_and_an_overconfident_model():
    p = np.full(1000, 0.7)
    assert reliability(p, np.arange(1000) < 700).ece == pytest.approx(0.0, abs=1e-12)
    assert reliability(np.full(10, 0.95), np.arange(10) < 5).ece == pytest.approx(0.45)


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    n, w = int(rng.integers(2, 50)), int(rng.integers(1, 4))
    t = rng.normal(size=(n, w)) * 10
    p = t + rng.normal(size=(n, w))
    m = regression_metrics(t, p)
    assert m.mae == pytest.approx(sklearn_metrics.mean_absolute_error(t, p), abs=1e-12)
    assert m.rmse == pytest.approx(np.mean(np.sqrt(sklearn_metrics.mean_squared_error(t, p, multioutput="raw_values"))))
    assert m.r2 == pytest.approx(sklearn_metrics.r2_score(t, p), abs=1e-12)
    assert m.mape == pytest.approx(sklearn_metrics.mean_absolute_percentage_error(t, p), abs=1e-12)


def test_regression_edge_cases():
    const = np.full((5, 1), 3.0)
    assert regression_metrics(const, const).r2 == sklearn_metrics.r2_score(const, const) == 1.0
    assert regression_metrics(const, const + 1).r2 == sklearn_metrics.r2_score(const, const + 1) == 0.0
    assert regression_metrics(np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 2.0])).mape is None  # a zero target


def test_threshold_point_finds_the_roc_point_of_a_threshold():
    y = np.array([0, 0, 1, 1, 1, 0])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.9, 0.6])
    roc = roc_curve(y == 1, s)
    for t in (0.05, 0.35, 0.5, 0.85, 0.95):
        i = threshold_point(roc, t)
        pred = s >= t
        assert roc.y[i] == pytest.approx((pred & (y == 1)).sum() / 3)
        assert roc.x[i] == pytest.approx((pred & (y == 0)).sum() / 3)


def test_class_orders():
    cm = np.array([[5, 1, 0], [4, 2, 0], [0, 0, 9]])
    names = ["b", "c", "a"]
    assert class_order(cm, names, "name") == [2, 0, 1]
    assert class_order(cm, names, "support") == [2, 0, 1]  # ties keep the trained order
    assert class_order(cm, names, "recall") == [1, 0, 2]
    assert class_order(cm, names, "confused") == [0, 1, 2]


def test_probabilities_from_outputs():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    p = probabilities_from_outputs(logits)
    np.testing.assert_allclose(p.sum(1), 1)
    np.testing.assert_allclose(p[1], 1 / 3)
    one = probabilities_from_outputs(np.array([[0.0], [2.0]]))
    np.testing.assert_allclose(one[:, 1], [0.5, 1 / (1 + np.exp(-2))])
    sig = probabilities_from_outputs(np.array([[0.0, 0.0]]), "sigmoid")
    np.testing.assert_allclose(sig, [[0.5, 0.5]])


def test_select_samples_finds_the_most_confidently_wrong_first():
    from workbench.core.evaluation import SplitPredictions, select_samples

    logits = np.array([[3.0, 0.0], [0.0, 1.0], [0.0, 5.0], [2.0, 0.0], [0.0, 0.5]])
    sp = SplitPredictions("val", "classification", ["a", "b"], np.array([0, 0, 0, 1, 1]), logits)
    wrong = select_samples(sp, which="wrong")
    assert wrong.tolist() == [2, 3, 1]  # predicted b with p=0.99, a with 0.88, b with 0.73
    assert select_samples(sp, which="wrong", order="highest loss first").tolist() == [2, 3, 1]
    assert select_samples(sp, true=0, pred=1, order="least confident first").tolist() == [1, 2]
    assert select_samples(sp, which="correct", order="data order").tolist() == [0, 4]
    moved = (sp.probabilities[:, 1] >= 0.9).astype(int)  # a threshold of 0.9 for class b
    assert select_samples(sp, true=0, pred=1, predicted=moved).tolist() == [2]
