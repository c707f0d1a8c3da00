"""A few epochs of training on a restored run's training split, for a model changed after the
run: pruned (masks keep the zeros) or wrapped for quantisation-aware training.

The run's loss and optimizer (at `lr_factor` times its learning rate, no schedule), its batch
size and its batch order (training.epoch_permutation); the data as in training (standardised
inputs, a standardised regression target).
"""

from __future__ import annotations

from typing import Callable

import torch

from workbench.core import catalog

__all__ = ["fine_tune", "FINE_TUNE_LR_FACTOR"]

FINE_TUNE_LR_FACTOR = 0.1


def _loss_target(meta):
    scaler = getattr(meta, "target_scaler", None)
    if meta.task == "regression" and scaler is not None:
        return scaler.to_standard
    return lambda y: y


def fine_tune(model: torch.nn.Module, restored, epochs: int, *, lr_factor: float = FINE_TUNE_LR_FACTOR,
              progress: Callable[[str], None] | None = None, should_stop: Callable[[], bool] | None = None,
              label: str = "fine-tuning") -> list[float]:
    """Train `model` in place for `epochs`; returns the mean training loss of each epoch."""
    from workbench.core.training import batch_slices, epoch_permutation, resolve_batch_size

    spec, meta, train = restored.spec, restored.meta, restored.prepared.train
    if epochs <= 0 or not len(train):
        return []
    entry = catalog.get_entry("optimizer", spec.optimizer.type)
    if entry.info.get("needs_closure"):  # LBFGS: full-batch line searches are not a gentle fine-tune
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3 * lr_factor)
    else:
        lr = float(entry.with_defaults(spec.optimizer.params)["lr"]) * lr_factor
        optimizer = catalog.make_optimizer(spec.optimizer.model_copy(update={"lr": lr}), model.parameters())
    loss_fn = catalog.make_loss(spec.loss, meta, train.y)
    target = _loss_target(meta)
    X, y = train.X, target(train.y)
    bs = resolve_batch_size(spec.train.batch_size, len(X), False)
    has_bn = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())
    slices = batch_slices(len(X), bs, drop_single_last=has_bn)
    losses = []
    model.train()
    for epoch in range(1, epochs + 1):
        perm = epoch_permutation(len(X), spec.train.seed + 1000, epoch)
        total, seen = 0.0, 0
        for a, b in slices:
            rows = perm[a:b]
            out = model(X[rows])
            loss = loss_fn(out, y[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * (b - a)
            seen += b - a
            if should_stop is not None and should_stop():
                model.eval()
                return losses
        losses.append(total / max(1, seen))
        if progress is not None:
            progress(f"{label}: epoch {epoch}/{epochs}, loss {losses[-1]:.4g}")
    model.eval()
    return losses
