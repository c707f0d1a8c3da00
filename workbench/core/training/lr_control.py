"""Changing the learning rate of a live run (TrainControl.set_lr, a resumed branch's new lr)
so that the schedule continues from the new value."""

from __future__ import annotations

import json
from typing import Any

import torch

__all__ = ["set_learning_rate", "scale_learning_rates", "json_lr"]


def json_lr(spec_json: str) -> float | None:
    """optimizer.lr of a spec's JSON text (as stored in a checkpoint), or None."""
    lr = json.loads(spec_json).get("optimizer", {}).get("lr") if spec_json else None
    return float(lr) if lr is not None else None


def _scale_scheduler(sched: Any, ratio: float) -> None:
    if sched is None:
        return
    if hasattr(sched, "base_lrs"):
        sched.base_lrs = [b * ratio for b in sched.base_lrs]
    if getattr(sched, "_last_lr", None) is not None:
        sched._last_lr = [v * ratio for v in sched._last_lr]
    for inner in getattr(sched, "_schedulers", None) or ():
        _scale_scheduler(inner, ratio)
    for attr in ("warmup", "plateau"):  # catalog.schedules.WarmupThenPlateau
        inner = getattr(sched, attr, None)
        if inner is not None and hasattr(inner, "step"):
            _scale_scheduler(inner, ratio)


def set_learning_rate(optimizer: torch.optim.Optimizer, sched_handle: Any, lr: float) -> float:
    """Set the first param group's lr to `lr` and scale the others by the same ratio (layers with
    their own multipliers keep them); rescale the scheduler's base LRs (and OneCycle's
    initial/max/min) too, so the schedule continues from the new value.
    Returns the previous lr (of the first group)."""
    previous = float(optimizer.param_groups[0]["lr"])
    if previous > 0:
        scale_learning_rates(optimizer, sched_handle, lr / previous)
    else:  # nothing to scale from: every group starts at lr
        for g in optimizer.param_groups:
            g["lr"] = lr
    optimizer.param_groups[0]["lr"] = lr
    return previous


def scale_learning_rates(optimizer: torch.optim.Optimizer, sched_handle: Any, ratio: float) -> None:
    """Multiply every param group's lr (and OneCycle's initial/max/min) and the scheduler's base
    LRs by `ratio`."""
    for g in optimizer.param_groups:
        g["lr"] = g["lr"] * ratio
        for key in ("initial_lr", "max_lr", "min_lr"):
            if key in g and isinstance(g[key], (int, float)):
                g[key] = g[key] * ratio
    _scale_scheduler(getattr(sched_handle, "scheduler", sched_handle), ratio)
