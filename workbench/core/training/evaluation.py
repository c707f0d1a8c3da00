"""Evaluating a model on a val/test split held on the device: eval mode, no_grad, a few big
forward passes, then the loss and the task's metrics.

The loss is what the model trains on (standardised units for a standardised regression target);
the regression metrics (MAE, RMSE, R²) are computed in the target's own units: the outputs go
through meta.target_scaler.to_units and are compared with the split's y, which is never
standardised."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["EvalSet", "evaluate", "model_outputs", "ema_view", "EVAL_CHUNK"]

EVAL_CHUNK = 8192  # rows per forward pass when evaluating val/test


class EvalSet:
    """A val/test split on the device: X, raw y (for metrics) and y as the loss wants it."""

    def __init__(self, split, target, device):
        self.n = len(split.X) if split is not None else 0
        if self.n:
            self.X = split.X.to(device)
            self.y = split.y.to(device)
            self.y_loss = target(split.y).to(device)

    def __len__(self) -> int:
        return self.n


def _forward(model: torch.nn.Module, xb: torch.Tensor, precision: Any) -> torch.Tensor:
    if precision is not None and precision.autocast:
        with torch.autocast(xb.device.type, dtype=precision.dtype):
            return model(xb).float()
    return model(xb).float()


def ema_view(ctx: Any, ema: Any) -> Any:
    """The loop state as `evaluate` needs it, with the weights' moving average as the model."""
    from types import SimpleNamespace

    return SimpleNamespace(model=ema.module, loss_fn=ctx.loss_fn, device=ctx.device,
                           precision=ctx.precision, meta=ctx.meta)


@torch.no_grad()
def model_outputs(model: torch.nn.Module, X: torch.Tensor, precision: Any = None) -> torch.Tensor:
    """The model's outputs on X (on X's device), in eval mode and chunks, exactly as evaluation
    computes them (the run's precision); the model's train/eval mode is restored."""
    was_training = model.training
    model.eval()
    try:
        outs = [_forward(model, X[a:a + EVAL_CHUNK], precision) for a in range(0, len(X), EVAL_CHUNK)]
    finally:
        if was_training:
            model.train()
    return torch.cat(outs) if len(outs) > 1 else outs[0]


@torch.no_grad()
def evaluate(ctx: Any, es: EvalSet, prefix: str, loss: bool = True,
             sink: dict[str, torch.Tensor] | None = None) -> dict[str, float]:
    """`{prefix}loss` (unless not `loss`) and the metrics of ctx.model on `es`; the full set of
    metrics when there is a prefix ("val_", "test_"), only the accuracy without one. `ctx` has
    model, loss_fn, device, precision and meta (the trainer's loop state). With a `sink`, the
    outputs the metrics came from are kept there under the split's name ("val", "test")."""
    model = ctx.model
    was_training = model.training
    model.eval()
    outs = []
    loss_sum = torch.zeros((), device=ctx.device)
    for a in range(0, len(es), EVAL_CHUNK):
        xb = es.X[a:a + EVAL_CHUNK]
        out = _forward(model, xb, ctx.precision)
        if loss:
            loss_sum += ctx.loss_fn(out, es.y_loss[a:a + EVAL_CHUNK]).float() * xb.shape[0]
        outs.append(out)
    if was_training:
        model.train()
    out = torch.cat(outs) if len(outs) > 1 else outs[0]
    if sink is not None:
        sink[prefix.rstrip("_")] = out
    result: dict[str, float] = {}
    if loss:
        result[f"{prefix}loss"] = loss_sum.item() / len(es)
    result.update(_metrics(out, es.y, ctx.meta, prefix, full=bool(prefix)))
    return result


def _class_logits(out: torch.Tensor) -> torch.Tensor:
    """A 1-wide binary output (BCEWithLogits) as two-class logits for the metrics."""
    if out.ndim == 2 and out.shape[1] == 1:
        return torch.cat([torch.zeros_like(out), out], dim=1)
    return out


def _metrics(out: torch.Tensor, y: torch.Tensor, meta, prefix: str, full: bool) -> dict[str, float]:
    if meta.task == "classification":
        logits = _class_logits(out)
        if not full:
            return {f"{prefix}accuracy": (logits.argmax(1) == y).float().mean().item()}
        from workbench.core.training.metrics import classification_metrics
        n_classes = len(meta.class_names) or meta.target_width
        return {k: float(v) for k, v in classification_metrics(logits, y, n_classes, prefix=prefix).items()}
    from workbench.core.training.metrics import regression_metrics
    scaler = getattr(meta, "target_scaler", None)
    if scaler is not None:  # the model learnt standardised targets: metrics in the target's units
        out = scaler.to_units(out.reshape(len(out), -1))
    pred = out.reshape(y.shape) if out.numel() == y.numel() else out
    return {k: float(v) for k, v in regression_metrics(pred, y, prefix=prefix).items()}
