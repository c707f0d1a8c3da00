"""A fresh copy of what training would start from (model, loss, optimizer, data on the device),
built exactly as the trainer builds it: same seed, same initial weights, same targets. The
pre-flight check and the LR finder work on probes, never on a live run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from workbench.core import catalog
from workbench.core.spec import ExperimentSpec
from workbench.core.training import (
    build_model,
    loss_target_fn,
    parameter_groups,
    prepare_fine_tuning,
    resolve_batch_size,
    select_device,
)

__all__ = ["Probe", "load_prepared", "make_probe", "optimizer_step"]


def optimizer_step(optimizer: torch.optim.Optimizer, loss_of: Callable[[], torch.Tensor], *,
                   clip: float | None = None, params=None) -> torch.Tensor:
    """One step of any catalog optimizer on the loss `loss_of()` computes: zero the gradients,
    backward, clip (`clip` on `params`), step. Closure optimizers (LBFGS) get the closure and may
    evaluate it several times, as in training. Returns the loss (of the closure's first call)."""
    def closure():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of()
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(params, clip)
        return loss

    entry = catalog.REGISTRY["optimizer"].get(type(optimizer).__name__)
    if entry is not None and entry.info.get("needs_closure"):
        return optimizer.step(closure)
    loss = closure()
    optimizer.step()
    return loss


def load_prepared(spec: ExperimentSpec, data: Any = None, base_dir: str | Path | None = None) -> Any:
    """`data` when given, else spec.data loaded and prepared (raises DataError)."""
    if data is not None:
        return data
    from workbench.core.data import load_dataset, prepare

    return prepare(load_dataset(spec.data, base_dir), spec.data)


@dataclass
class Probe:
    """The run's starting point, rebuilt: spec, prepared data on the device, model with the initial
    weights, loss and batch size."""
    spec: ExperimentSpec
    data: Any  # PreparedData
    device: torch.device
    model: torch.nn.Module
    loss_fn: Callable
    target: Callable  # y as stored -> y as the loss wants it
    batch_size: int
    base_dir: str | Path | None = None

    def optimizer(self, optimizer_spec=None, model: torch.nn.Module | None = None) -> torch.optim.Optimizer:
        """The spec's optimizer (or `optimizer_spec`) over `model`'s (default: the probe's)
        parameters, with the spec's per-layer learning-rate multipliers, as training builds it."""
        optimizer_spec = optimizer_spec or self.spec.optimizer
        entry = catalog.get_entry("optimizer", optimizer_spec.type)
        base_lr = entry.with_defaults(optimizer_spec.params).get("lr")
        return catalog.make_optimizer(optimizer_spec, parameter_groups(model or self.model, self.spec, base_lr))

    def rows(self, split: str = "train", n: int | None = None, start: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """`n` rows of a split from `start` (all when None), on the device: inputs and loss targets."""
        part = getattr(self.data, split)
        stop = len(part) if n is None else min(len(part), start + n)
        return part.X[start:stop].to(self.device), self.target(part.y[start:stop]).to(self.device)

    def reference_loss(self, y: torch.Tensor, out: torch.Tensor) -> float:
        """The loss of an all-zero output: ln K for cross-entropy over K classes, ln 2 per output
        for binary cross-entropy, the mean of y² for squared error (1 for a standardised target)."""
        with torch.no_grad():
            return float(self.loss_fn(torch.zeros_like(out), y))

    def fresh_model(self) -> torch.nn.Module:
        """Another copy with the same initial weights (fine-tuning's too: init_from, frozen layers)."""
        return _initial_model(self.spec, self.data.meta, self.base_dir).to(self.device)


def make_probe(spec: ExperimentSpec, data: Any = None, base_dir: str | Path | None = None,
               device: str | None = None) -> Probe:
    """Build a probe; raises DataError / ModelError / DeviceError like training would."""
    data = load_prepared(spec, data, base_dir)
    dev = select_device(device or spec.train.device)
    model = _initial_model(spec, data.meta, base_dir).to(dev)
    loss_fn = catalog.make_loss(spec.loss, data.meta, data.train.y)
    if isinstance(loss_fn, torch.nn.Module):
        loss_fn = loss_fn.to(dev)
    full = bool(catalog.get_entry("optimizer", spec.optimizer.type).info.get("full_batch"))
    bs = resolve_batch_size(spec.train.batch_size, len(data.train), full)
    return Probe(spec=spec, data=data, device=dev, model=model, loss_fn=loss_fn,
                 target=loss_target_fn(data.meta), batch_size=bs, base_dir=base_dir)


def _initial_model(spec: ExperimentSpec, meta: Any, base_dir: str | Path | None) -> torch.nn.Module:
    """The model a run of `spec` starts from: built under its seed, then fine-tuning applied."""
    torch.manual_seed(spec.train.seed)
    model, _ = build_model(spec, meta)
    prepare_fine_tuning(model, spec, meta, base_dir)
    return model
