"""metrics.py against hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from workbench.core.training import classification_metrics, confusion_matrix, predicted_classes, regression_metrics

# true:  0 0 0 1 1 2
# pred:  0 0 1 1 2 2
Y = torch.tensor([0, 0, 0, 1, 1, 2])
PRED = torch.tensor([0, 0, 1, 1, 2, 2])


def logits_for(pred: torch.Tensor, n: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(pred, n).float() * 3 - 1


def test_confusion_matrix_rows_true_columns_predicted():
    assert confusion_matrix(PRED, Y, 3) == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert confusion_matrix(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long), 2) == [[0, 0], [0, 0]]


def test_classification_metrics_by_hand():
    m = classification_metrics(logits_for(PRED, 3), Y, 3, prefix="val_")
    # per class precision: 2/2, 1/2, 1/2 ; recall: 2/3, 1/2, 1/1
    p = [1.0, 0.5, 0.5]
    r = [2 / 3, 0.5, 1.0]
    f1 = [2 * a * b / (a + b) for a, b in zip(p, r)]
    assert m == pytest.approx({"val_accuracy": 4 / 6, "val_precision": sum(p) / 3, "val_recall": sum(r) / 3,
                               "val_f1": sum(f1) / 3})
    assert all(type(v) is float for v in m.values())


def test_absent_classes_left_out_of_macro_average():
    # class 3 never occurs and is never predicted: averages over classes 0..2 only
    assert classification_metrics(logits_for(PRED, 4), Y, 4) == pytest.approx(
        classification_metrics(logits_for(PRED, 3), Y, 3))
    # class 1 predicted but never true: it counts, with precision 0 and recall 0
    y = torch.tensor([0, 0])
    pred = torch.tensor([0, 1])
    m = classification_metrics(logits_for(pred, 2), y, 2)
    assert m["accuracy"] == 0.5
    assert m["precision"] == pytest.approx((1.0 + 0.0) / 2)
    assert m["recall"] == pytest.approx((0.5 + 0.0) / 2)
    assert m["f1"] == pytest.approx((2 * 1 * 0.5 / 1.5 + 0) / 2)


def test_single_logit_binary_and_index_predictions():
    out = torch.tensor([[-2.0], [0.5], [3.0], [-0.1]])
    assert predicted_classes(out).tolist() == [0, 1, 1, 0]
    assert classification_metrics(out, torch.tensor([0, 1, 0, 0]), 2)["accuracy"] == 0.75
    assert classification_metrics(PRED, Y, 3)["accuracy"] == pytest.approx(4 / 6)


def test_empty_is_nan():
    m = classification_metrics(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), 3)
    assert all(math.isnan(v) for v in m.values()) and set(m) == {"accuracy", "precision", "recall", "f1"}
    r = regression_metrics(torch.zeros(0, 1), torch.zeros(0, 1), prefix="test_")
    assert set(r) == {"test_mae", "test_rmse", "test_r2"} and all(math.isnan(v) for v in r.values())


def test_regression_metrics_by_hand():
    y = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    pred = torch.tensor([[1.5], [2.0], [2.0], [5.0]])
    # errors 0.5, 0, -1, 1 ; ss_res = 0.25 + 0 + 1 + 1 = 2.25 ; ss_tot = 5
    m = regression_metrics(pred, y)
    assert m == pytest.approx({"mae": 2.5 / 4, "rmse": math.sqrt(2.25 / 4), "r2": 1 - 2.25 / 5})
    assert all(type(v) is float for v in m.values())


def test_regression_multi_output_averaged_and_constant_target():
    y = torch.tensor([[1.0, 5.0], [3.0, 5.0]])
    pred = torch.tensor([[2.0, 5.0], [3.0, 5.0]])
    m = regression_metrics(pred, y, prefix="val_")
    # column 0: mae .5, rmse sqrt(.5), r2 = 1 - 1/2 ; column 1 exact and constant: 0, 0, r2 = 1
    assert m == pytest.approx({"val_mae": 0.25, "val_rmse": math.sqrt(0.5) / 2, "val_r2": (0.5 + 1.0) / 2})
    const_wrong = regression_metrics(torch.tensor([1.0, 2.0]), torch.tensor([5.0, 5.0]))
    assert const_wrong["r2"] == 0.0
    flat = regression_metrics(torch.tensor([[1.5], [2.0]]), torch.tensor([1.0, 2.0]))
    assert flat["mae"] == 0.25
