"""Checkpoint files: atomic writes, safe loads.

A checkpoint is a plain dict of tensors and Python values so that `torch.load(weights_only=True)`
reads it back (no pickled code runs when a file is opened):
  model, optimizer, scheduler (or None), scaler (or None), epoch, step, spec_json, metrics,
  preprocessing (PreparedData.preprocessing(): input_mean, input_std, target = the regression
  target's {"mean", "std"} or None; checkpoints written before it existed lack the key),
  rng_state (CPU generator state), cuda_rng_state (or None), format.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

CHECKPOINT_FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the model; the message says why."""


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write `payload` to `path` atomically (temporary file in the same folder + os.replace),
    so a crash mid-write never leaves a truncated best.pt/last.pt behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save({"format": CHECKPOINT_FORMAT, **payload}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with `weights_only=True`; CheckpointError with a readable message."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt file, not a torch file, unsafe content
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    if not isinstance(data, dict) or "model" not in data:
        raise CheckpointError(f"{path} is not a Workbench checkpoint (no model weights in it)")
    return data


def state_dict_to_cpu(state: Any) -> Any:
    """A copy of a (nested) state dict with every tensor on the CPU (for saving)."""
    if isinstance(state, torch.Tensor):
        return state.detach().cpu()
    if isinstance(state, dict):
        return {k: state_dict_to_cpu(v) for k, v in state.items()}
    if isinstance(state, list):
        return [state_dict_to_cpu(v) for v in state]
    if isinstance(state, tuple):
        return tuple(state_dict_to_cpu(v) for v in state)
    return state
