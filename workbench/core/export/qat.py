"""Quantisation-aware fine-tuning without torch.ao.quantization (deprecated).

Each Linear/Conv layer is wrapped so that, during training, its weights and its inputs pass
through a fake int8 quantiser (round to the int8 grid and back, with a straight-through
gradient), simulating what onnxruntime's int8 kernels will do: weights symmetric int8 (per
output channel for static quantisation, per tensor for dynamic), inputs asymmetric uint8 over
the batch's range. A few epochs of this let the weights settle where rounding hurts less; the
float weights are then quantised by onnxruntime as usual.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["FakeQuantized", "with_fake_quant", "without_fake_quant"]


def _round_ste(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


def fake_quant_weight(w: torch.Tensor, per_channel: bool) -> torch.Tensor:
    if per_channel:
        top = w.detach().abs().reshape(w.shape[0], -1).amax(dim=1).reshape(-1, *([1] * (w.dim() - 1)))
    else:
        top = w.detach().abs().amax()
    scale = (top / 127.0).clamp(min=1e-12)
    return torch.clamp(_round_ste(w / scale), -127, 127) * scale


def fake_quant_input(x: torch.Tensor) -> torch.Tensor:
    lo = torch.clamp(x.detach().amin(), max=0.0)
    hi = torch.clamp(x.detach().amax(), min=0.0)
    scale = ((hi - lo) / 255.0).clamp(min=1e-12)
    zero = torch.round(-lo / scale)
    return (torch.clamp(_round_ste(x / scale) + zero, 0, 255) - zero) * scale


class FakeQuantized(nn.Module):
    """A Linear or Conv layer computed with fake-quantised weights and inputs."""

    def __init__(self, layer: nn.Module, per_channel: bool):
        super().__init__()
        self.layer = layer
        self.per_channel = per_channel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = fake_quant_weight(self.layer.weight, self.per_channel)
        x = fake_quant_input(x)
        if isinstance(self.layer, nn.Linear):
            return F.linear(x, w, self.layer.bias)
        return self.layer._conv_forward(x, w, self.layer.bias)


def _swap(module: nn.Module, wrap: bool, per_channel: bool) -> None:
    for name, child in module.named_children():
        if wrap and isinstance(child, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            setattr(module, name, FakeQuantized(child, per_channel))
        elif not wrap and isinstance(child, FakeQuantized):
            setattr(module, name, child.layer)
        else:
            _swap(child, wrap, per_channel)


def with_fake_quant(model: nn.Module, per_channel: bool) -> nn.Module:
    """A copy of `model` whose Linear/Conv layers train with fake int8 quantisation."""
    wrapped = copy.deepcopy(model)
    _swap(wrapped, True, per_channel)
    return wrapped


def without_fake_quant(model: nn.Module) -> nn.Module:
    """The plain model again (same module objects, same state-dict keys as before wrapping)."""
    _swap(model, False, False)
    return model
