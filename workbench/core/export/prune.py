"""Pruning: global magnitude pruning (masks) and structured pruning that really shrinks a model.

Magnitude pruning zeroes the smallest weights of every Linear and Conv layer together (one
global threshold, torch.nn.utils.prune). The zeros are still stored and still multiplied: the
file and the time stay the same; only compression (zip) or sparse kernels would profit.

Structured pruning removes whole neurons (Linear outputs) or channels (Conv outputs) with the
smallest L2 norm, together with what depends on them (the BatchNorm entries after them and the
inputs of the next Linear/Conv, across a Flatten too), so the model has fewer parameters, a
smaller file and less work. A layer is left whole when something between it and the next
weighted layer mixes its outputs (LayerNorm, Softmax, a Residual block, a recurrent layer),
and the last weighted layer (the outputs) is never pruned.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

__all__ = ["prunable_weights", "magnitude_prune", "make_permanent", "weight_sparsity",
           "StructuredResult", "structured_prune", "CURVE_SPARSITIES"]

PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d)
CURVE_SPARSITIES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
# layers between two weighted layers that keep each neuron/channel separate
_PASS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.Identity, nn.Dropout,
         nn.Dropout2d, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)
_NORM = (nn.BatchNorm1d, nn.BatchNorm2d)


def prunable_weights(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """(module, "weight") of every Linear and Conv layer."""
    return [(m, "weight") for m in model.modules() if isinstance(m, PRUNABLE)]


def magnitude_prune(model: nn.Module, sparsity: float) -> nn.Module:
    """A copy with the `sparsity` fraction of smallest-magnitude Linear/Conv weights (over all such
    layers together) zeroed. The masks stay attached (training keeps the zeros) until
    make_permanent()."""
    pruned = copy.deepcopy(model)
    if sparsity > 0:
        torch_prune.global_unstructured(prunable_weights(pruned), pruning_method=torch_prune.L1Unstructured,
                                        amount=float(sparsity))
    return pruned


def make_permanent(model: nn.Module) -> nn.Module:
    """Fold the masks into the weights (plain zeros, no hooks)."""
    for module, name in prunable_weights(model):
        if torch_prune.is_pruned(module) and hasattr(module, f"{name}_mask"):
            torch_prune.remove(module, name)
    return model


def weight_sparsity(model: nn.Module) -> float:
    """Fraction of zeros among the Linear/Conv weights."""
    weights = [getattr(m, n) for m, n in prunable_weights(model)]
    total = sum(w.numel() for w in weights)
    return sum(int((w == 0).sum()) for w in weights) / total if total else 0.0


@dataclass
class StructuredResult:
    model: nn.Sequential
    notes: list[str] = field(default_factory=list)  # "Layer 1 (Linear): 64 → 32 neurons", and what stayed whole
    params_before: int = 0
    params_after: int = 0


def _output_shapes(model: nn.Sequential, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    shapes = []
    x = torch.zeros((2, *input_shape))
    was = model.training
    model.eval()
    with torch.no_grad():
        for m in model:
            x = m(x)
            shapes.append(tuple(x.shape[1:]))
    model.train(was)
    return shapes


def _keep_indices(weight: torch.Tensor, fraction: float) -> torch.Tensor:
    n = weight.shape[0]
    keep = max(1, n - int(math.floor(n * fraction)))
    norms = weight.detach().reshape(n, -1).norm(dim=1)
    return torch.sort(torch.topk(norms, keep).indices).values


def _slice_outputs(m: nn.Module, idx: torch.Tensor) -> nn.Module:
    if isinstance(m, nn.Linear):
        new = nn.Linear(m.in_features, len(idx), bias=m.bias is not None)
    else:
        new = type(m)(m.in_channels, len(idx), m.kernel_size, stride=m.stride, padding=m.padding,
                      dilation=m.dilation, groups=m.groups, bias=m.bias is not None, padding_mode=m.padding_mode)
    with torch.no_grad():
        new.weight.copy_(m.weight[idx])
        if m.bias is not None:
            new.bias.copy_(m.bias[idx])
    return new


def _slice_inputs(m: nn.Module, columns: torch.Tensor) -> nn.Module:
    if isinstance(m, nn.Linear):
        new = nn.Linear(len(columns), m.out_features, bias=m.bias is not None)
    else:
        new = type(m)(len(columns), m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding,
                      dilation=m.dilation, groups=m.groups, bias=m.bias is not None, padding_mode=m.padding_mode)
    with torch.no_grad():
        new.weight.copy_(m.weight[:, columns])
        if m.bias is not None:
            new.bias.copy_(m.bias)
    return new


def _slice_norm(m: nn.Module, idx: torch.Tensor) -> nn.Module:
    new = type(m)(len(idx), eps=m.eps, momentum=m.momentum, affine=m.affine,
                  track_running_stats=m.track_running_stats)
    with torch.no_grad():
        if m.affine:
            new.weight.copy_(m.weight[idx])
            new.bias.copy_(m.bias[idx])
        if m.track_running_stats:
            new.running_mean.copy_(m.running_mean[idx])
            new.running_var.copy_(m.running_var[idx])
            new.num_batches_tracked.copy_(m.num_batches_tracked)
    return new


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def structured_prune(model: nn.Module, input_shape: tuple[int, ...], fraction: float) -> StructuredResult:
    """Remove `fraction` of the neurons/channels of each hidden Linear/Conv layer (smallest L2
    norm first). `model` is the engine's nn.Sequential; it is not changed."""
    if not isinstance(model, nn.Sequential):
        raise ValueError("structured pruning needs the model as an nn.Sequential of layers")
    layers = [copy.deepcopy(m) for m in model]
    shapes = _output_shapes(model, input_shape)
    weighted = [i for i, m in enumerate(layers) if any(True for _ in m.parameters()) and not isinstance(m, _NORM)]
    last = weighted[-1] if weighted else -1
    notes: list[str] = []
    for i, producer in enumerate(layers):
        if not isinstance(producer, PRUNABLE) or i == last or getattr(producer, "groups", 1) != 1:
            continue
        norms, flatten_at, consumer = [], None, None
        for j in range(i + 1, len(layers)):
            m = layers[j]
            if isinstance(m, _NORM):
                norms.append(j)
            elif isinstance(m, nn.Flatten) and flatten_at is None:
                if isinstance(producer, (nn.Conv1d, nn.Conv2d)):
                    flatten_at = j  # the next Linear sees each channel as a block of columns
            elif isinstance(m, PRUNABLE) and getattr(m, "groups", 1) == 1:
                consumer = j
                break
            elif not isinstance(m, _PASS):
                notes.append(f"Layer {i + 1} ({type(producer).__name__}) kept whole: Layer {j + 1} "
                             f"({type(m).__name__}) after it mixes its outputs")
                break
        if consumer is None:
            continue
        idx = _keep_indices(producer.weight, fraction)
        n_out = producer.weight.shape[0]
        if len(idx) == n_out:
            continue
        layers[i] = _slice_outputs(producer, idx)
        for j in norms:
            layers[j] = _slice_norm(layers[j], idx)
        columns = idx
        if flatten_at is not None:
            per_channel = math.prod(shapes[flatten_at - 1][1:])
            columns = (idx[:, None] * per_channel + torch.arange(per_channel)[None, :]).reshape(-1)
        layers[consumer] = _slice_inputs(layers[consumer], columns)
        unit = "neurons" if isinstance(producer, nn.Linear) else "channels"
        notes.append(f"Layer {i + 1} ({type(producer).__name__}): {n_out} → {len(idx)} {unit}")
    pruned = nn.Sequential(*layers)
    pruned.train(model.training)
    return StructuredResult(pruned, notes, _count(model), _count(pruned))
