"""The small modules the layer catalog needs beyond torch.nn (all TorchScript/ONNX friendly).

Kept apart from layers.py so that the palette (names, parameters, help) can be imported
without torch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Embedding(nn.Embedding):
    """nn.Embedding that casts its (float) input to integer ids first."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002 - PyTorch's name
        return F.embedding(input.long(), self.weight, self.padding_idx, self.max_norm,
                           self.norm_type, self.scale_grad_by_freq, self.sparse)


class LSTMLastStep(nn.Module):
    """LSTM over (N, steps, features); returns the last layer's final hidden state
    (N, hidden_size * directions): forward direction's last step, backward direction's first."""

    def __init__(self, rnn: nn.LSTM):
        super().__init__()
        self.rnn = rnn
        self.bidirectional = rnn.bidirectional

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.rnn(x)
        if self.bidirectional:
            return torch.cat([h[-2], h[-1]], dim=1)
        return h[-1]


class GRULastStep(nn.Module):
    """GRU over (N, steps, features); returns the last layer's final hidden state
    (N, hidden_size * directions)."""

    def __init__(self, rnn: nn.GRU):
        super().__init__()
        self.rnn = rnn
        self.bidirectional = rnn.bidirectional

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h = self.rnn(x)
        if self.bidirectional:
            return torch.cat([h[-2], h[-1]], dim=1)
        return h[-1]


class Residual(nn.Module):
    """x -> projection(x) + body(x); projection is Identity when the shapes already match."""

    def __init__(self, body: nn.Sequential, projection: nn.Module | None = None):
        super().__init__()
        self.body = body
        self.projection = projection if projection is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(x) + self.body(x)
