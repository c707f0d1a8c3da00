"""The loss wrapper modules built by the loss catalog (see losses.py for the conventions).

Kept apart from losses.py so that the loss palette can be imported without torch; losses.py
imports them when a loss is built.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TaskLoss(nn.Module):
    """Base of the wrappers: forward(model_output, y_as_stored) -> scalar loss."""

    name = "loss"


class RegressionLoss(TaskLoss):
    def __init__(self, criterion: nn.Module, name: str):
        super().__init__()
        self.criterion = criterion
        self.name = name

    def forward(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        target = y.to(output.dtype)
        if target.shape != output.shape:
            target = target.reshape(output.shape)
        return self.criterion(output, target)


class ClassIndexLoss(TaskLoss):
    """CrossEntropyLoss / NLLLoss on (N, C) logits with int class indices."""

    def __init__(self, criterion: nn.Module, name: str, log_softmax: bool = False):
        super().__init__()
        self.criterion = criterion
        self.name = name
        self.log_softmax = log_softmax

    def forward(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        w = getattr(self.criterion, "weight", None)
        if w is not None and w.device != output.device:
            self.criterion.to(output.device)
        if self.log_softmax:
            output = F.log_softmax(output, dim=1)
        return self.criterion(output, y.reshape(-1).long())


class BinaryLogitsLoss(TaskLoss):
    """BCEWithLogitsLoss: (N, 1) output for 2 classes, or (N, C) output with one-hot targets."""

    def __init__(self, pos_weight: torch.Tensor | None):
        super().__init__()
        self.name = "BCEWithLogitsLoss"
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        idx = y.reshape(-1).long()
        if output.shape[1] == 1:
            target = idx.to(output.dtype).reshape(-1, 1)
            pw = self.pos_weight[1:2] if self.pos_weight is not None else None
        else:
            target = F.one_hot(idx, output.shape[1]).to(output.dtype)
            pw = self.pos_weight
        if pw is not None and pw.device != output.device:
            self.pos_weight = self.pos_weight.to(output.device)
            pw = pw.to(output.device)
        return F.binary_cross_entropy_with_logits(output, target, pos_weight=pw)
