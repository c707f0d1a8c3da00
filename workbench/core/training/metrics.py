"""Metrics as plain functions over tensors, returning plain Python floats.

Classification:
- predictions: argmax of the outputs; a (N, 1) output (BCEWithLogitsLoss with 2 classes)
  predicts class 1 when its logit is > 0. A 1-D integer tensor is taken as predicted indices.
- precision, recall and f1 are macro averages over classes (each class counts equally).
  f1 is the mean of the per-class F1 scores (scikit-learn's macro F1), not the F1 of the
  averaged precision and recall. A class's precision is 0 when it is never predicted, its recall
  0 when it never occurs; classes absent from both the predictions and the targets are left out
  of the averages (they say nothing about the model).
- no samples: every metric is nan.
Regression (outputs and targets (N, w) or (N,)): mae, rmse and r2 averaged over the w target
columns; r2 = 1 - SS_res / SS_tot per column, and for a constant column (SS_tot = 0) 1.0 when the
prediction is exact, else 0.0 (scikit-learn's convention).
"""

from __future__ import annotations

import math

import torch


def predicted_classes(outputs: torch.Tensor) -> torch.Tensor:
    """Class indices from model outputs (see module docstring)."""
    if outputs.dim() == 1 and not outputs.is_floating_point():
        return outputs.long()
    if outputs.dim() == 1 or outputs.shape[1] == 1:
        return (outputs.reshape(-1) > 0).long()
    return outputs.argmax(dim=1)


def _confusion(pred: torch.Tensor, y: torch.Tensor, n_classes: int) -> torch.Tensor:
    pred = pred.reshape(-1).long().cpu()
    y = y.reshape(-1).long().cpu()
    idx = y * n_classes + pred
    return torch.bincount(idx, minlength=n_classes * n_classes)[: n_classes * n_classes].reshape(n_classes, n_classes)


def confusion_matrix(pred_idx: torch.Tensor, y: torch.Tensor, n_classes: int) -> list[list[int]]:
    """Counts: row = true class, column = predicted class."""
    return _confusion(pred_idx, y, n_classes).tolist()


def classification_metrics(logits: torch.Tensor, y: torch.Tensor, n_classes: int, prefix: str = "") -> dict[str, float]:
    """accuracy, precision, recall, f1 (macro) as floats, keys prefixed (e.g. "val_")."""
    keys = ("accuracy", "precision", "recall", "f1")
    if y.numel() == 0:
        return {prefix + k: math.nan for k in keys}
    with torch.no_grad():
        cm = _confusion(predicted_classes(logits.detach()), y, n_classes).double()
        tp = cm.diag()
        predicted = cm.sum(dim=0)
        actual = cm.sum(dim=1)
        present = (predicted + actual) > 0
        precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), torch.zeros_like(tp))
        recall = torch.where(actual > 0, tp / actual.clamp(min=1), torch.zeros_like(tp))
        denom = precision + recall
        f1 = torch.where(denom > 0, 2 * precision * recall / denom.clamp(min=1e-300), torch.zeros_like(tp))
        return {
            prefix + "accuracy": float(tp.sum() / cm.sum()),
            prefix + "precision": float(precision[present].mean()),
            prefix + "recall": float(recall[present].mean()),
            prefix + "f1": float(f1[present].mean()),
        }


def regression_metrics(pred: torch.Tensor, y: torch.Tensor, prefix: str = "") -> dict[str, float]:
    """mae, rmse, r2 (averaged over target columns) as floats, keys prefixed."""
    keys = ("mae", "rmse", "r2")
    if y.numel() == 0:
        return {prefix + k: math.nan for k in keys}
    with torch.no_grad():
        p = pred.detach().double().reshape(y.shape[0], -1)
        t = y.detach().double().to(p.device).reshape(y.shape[0], -1)
        err = p - t
        mae = err.abs().mean(dim=0)
        rmse = err.pow(2).mean(dim=0).sqrt()
        ss_res = err.pow(2).sum(dim=0)
        ss_tot = (t - t.mean(dim=0)).pow(2).sum(dim=0)
        r2 = torch.where(
            ss_tot > 0, 1 - ss_res / ss_tot.clamp(min=1e-300),
            torch.where(ss_res == 0, torch.ones_like(ss_res), torch.zeros_like(ss_res)),
        )
        return {prefix + "mae": float(mae.mean()), prefix + "rmse": float(rmse.mean()), prefix + "r2": float(r2.mean())}
