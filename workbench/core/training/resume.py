"""Continuing a run from a checkpoint: weights, optimizer, scheduler, scaler, RNG, epoch, step."""

from __future__ import annotations

from pathlib import Path

import torch

from workbench.core.training.callbacks import RunContext
from workbench.core.training.checkpoint import CheckpointError, load_checkpoint
from workbench.core.training.lr_control import json_lr, set_learning_rate
from workbench.core.spec import ExperimentSpec

__all__ = ["resume_from_checkpoint"]


def resume_from_checkpoint(run: RunContext, spec: ExperimentSpec, path: str | Path) -> int:
    """Load checkpoint `path` into run.model/optimizer/scheduler/scaler, restore the RNG state
    and run.step, and return the epoch it was saved after. A spec whose optimizer.lr differs
    from the checkpoint's (a branch with a new rate) starts from its own rate.
    Raises CheckpointError when the checkpoint does not fit the model or optimizer."""
    ck = load_checkpoint(path, map_location="cpu")
    try:
        run.model.load_state_dict(ck["model"])
    except RuntimeError as exc:
        raise CheckpointError(
            f"the checkpoint {path} does not fit this model (the layers changed?): {str(exc).splitlines()[0]}"
        ) from exc
    if run.ema is not None and ck.get("ema") is not None:
        run.ema.module.load_state_dict(ck["ema"])
        run.ema.n_averaged.fill_(max(1, int(ck.get("step", 1))))
    if ck.get("optimizer") is not None:
        try:
            run.optimizer.load_state_dict(ck["optimizer"])
        except (ValueError, KeyError) as exc:
            raise CheckpointError(
                f"the checkpoint {path} was saved with a different optimizer: {exc}") from exc
    if run.scheduler is not None and ck.get("scheduler") is not None:
        run.scheduler.load_state_dict(ck["scheduler"])
    if run.scaler is not None and ck.get("scaler"):
        run.scaler.load_state_dict(ck["scaler"])
    if isinstance(ck.get("rng_state"), torch.Tensor):
        torch.set_rng_state(ck["rng_state"])
    if run.device.type == "cuda" and isinstance(ck.get("cuda_rng_state"), torch.Tensor):
        torch.cuda.set_rng_state(ck["cuda_rng_state"], run.device)
    run.step = int(ck.get("step", 0))
    try:
        old_lr = json_lr(ck.get("spec_json", ""))
    except Exception:  # noqa: BLE001
        old_lr = None
    new_lr = spec.optimizer.params.get("lr")
    if new_lr is not None and old_lr is not None and float(new_lr) != float(old_lr):
        set_learning_rate(run.optimizer, run.scheduler, float(new_lr))
    return int(ck.get("epoch", 0))
