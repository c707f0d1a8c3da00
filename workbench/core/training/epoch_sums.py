"""The epoch's training loss and accuracy, summed on the device in batched folds (see the
trainer's module doc for why the hot loop does no per-step device work for them)."""

from __future__ import annotations

import torch

__all__ = ["EpochSums"]


class EpochSums:
    """The epoch's training loss sum and correct count, on the device, fed in batches.

    The loop appends each full batch's detached mean loss to `losses` and each step's detached
    output to `outs` (plain list appends: no device work per step); `fold()` turns what was kept
    into a few batched kernels. Outputs are matched to their targets by position: step k's output
    belongs to rows [k*bs, k*bs+nb) of the epoch's permuted targets `y_epoch`.
    """

    def __init__(self, device: torch.device, batch_size: int, y_epoch: torch.Tensor, fold_steps: int):
        self.batch_size = batch_size
        self.y_epoch = y_epoch
        self.fold_steps = fold_steps
        self.losses: list[torch.Tensor] = []
        self.outs: list[torch.Tensor] = []
        self.loss_acc = torch.zeros((), device=device, dtype=torch.float32)  # sum of loss * rows
        self.correct = torch.zeros((), device=device, dtype=torch.int64)
        self.rows_counted = 0  # rows of y_epoch already compared

    def add_partial_loss(self, loss: torch.Tensor, rows: int) -> None:
        self.loss_acc.add_(loss.float(), alpha=rows)

    def fold(self) -> None:
        if self.losses:
            kept = self.losses[0] if len(self.losses) == 1 else torch.stack(self.losses)
            self.loss_acc.add_(kept.float().sum(), alpha=self.batch_size)
            self.losses.clear()
        if self.outs:
            out = self.outs[0] if len(self.outs) == 1 else torch.cat(self.outs)
            self.outs.clear()
            n = out.shape[0]
            # a 1-wide output (BCEWithLogits, 2 classes) predicts class 1 when its logit is > 0
            pred = out.argmax(1) if out.ndim == 2 and out.shape[1] > 1 else out.reshape(n, -1)[:, 0] > 0
            a = self.rows_counted
            self.correct.add_((pred == self.y_epoch[a:a + n]).sum())
            self.rows_counted = a + n

    def loss_sum(self) -> float:
        self.fold()
        return self.loss_acc.item()

    def correct_count(self) -> int:
        self.fold()
        return int(self.correct.item())
