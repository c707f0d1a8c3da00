"""The state the trainer's epoch loop works with, and the small helpers that set it up."""

from __future__ import annotations

from typing import Any

import torch

from workbench.core.training.batching import epoch_seed

__all__ = ["LoopState", "augment_active", "group_rows", "loss_target_fn", "summary_rows"]


class LoopState:
    """What the epoch loop works with (model, optimizer, device data, ...); set up by the trainer."""

    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.user_stop = False
        self._aug_gen: torch.Generator | None = None

    def aug_generator(self, seed: int, epoch: int) -> torch.Generator:
        if self._aug_gen is None:
            self._aug_gen = torch.Generator(device=self.device)
        self._aug_gen.manual_seed(epoch_seed(seed + 1, epoch))
        return self._aug_gen


def augment_active(aug) -> bool:
    """Whether an AugmentSpec changes anything."""
    return bool(getattr(aug, "hflip", False) or getattr(aug, "vflip", False)
                or getattr(aug, "rotate_degrees", 0) or getattr(aug, "shift", 0) or getattr(aug, "noise_std", 0))


def group_rows(slices: list[tuple[int, int]], accumulate: int) -> list[int]:
    """Rows in each optimizer step when `accumulate` batches make one step (the epoch's last
    step may hold fewer batches). Each batch's loss is weighted by its rows over its step's rows,
    so k accumulated batches of size b step exactly like one batch of k·b under a mean loss."""
    sizes = [b - a for a, b in slices]
    return [sum(sizes[i:i + accumulate]) for i in range(0, len(sizes), accumulate)]


def loss_target_fn(meta):
    """A function turning targets y into what the loss trains on: a standardised regression target
    (meta.target_scaler) in standardised units, any other target as it is."""
    scaler = getattr(meta, "target_scaler", None)
    if meta.task == "regression" and scaler is not None:
        return scaler.to_standard
    return lambda y: y


def summary_rows(summary) -> list[dict[str, Any]]:
    """The model summary's rows as JSON-friendly dicts (for RunStarted)."""
    rows = summary.rows() if hasattr(summary, "rows") else []
    return [{k: (list(v) if isinstance(v, tuple) else v) for k, v in r.items()} for r in rows]
