"""The model as it leaves the app: raw inputs in, outputs in the target's own units.

`RawInputModel` folds the standardisation fitted on the training split into the graph
((x - mean) / std, per feature for tables, per channel for images) and, for a standardised
regression target, turns the outputs back into the target's units (y * std + mean). So an
exported file takes the numbers of a CSV row (after one-hot encoding) or an image's pixels
scaled to [0, 1], and nothing else needs to be known to use it.

`describe_inputs` is the small JSON that travels beside every export: class names, the raw
columns and their one-hot maps, image size and mode, and what the output means.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["RawInputModel", "raw_input_model", "describe_inputs", "output_kind"]


class RawInputModel(nn.Module):
    """`model` behind the input standardisation and in front of the target's inverse scaling."""

    def __init__(self, model: nn.Module, input_shape: tuple[int, ...], kind: str,
                 input_mean: list[float] | None = None, input_std: list[float] | None = None,
                 target_mean: list[float] | None = None, target_std: list[float] | None = None):
        super().__init__()
        self.model = model
        self.standardize = input_mean is not None
        self.unscale = target_mean is not None
        if self.standardize:
            shape = _stat_shape(input_shape, kind, len(input_mean))
            self.register_buffer("input_mean", torch.tensor(input_mean, dtype=torch.float32).reshape(shape))
            self.register_buffer("input_std", torch.tensor(input_std, dtype=torch.float32).reshape(shape))
        if self.unscale:
            self.register_buffer("target_mean", torch.tensor(target_mean, dtype=torch.float32).reshape(1, -1))
            self.register_buffer("target_std", torch.tensor(target_std, dtype=torch.float32).reshape(1, -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.standardize:
            x = (x - self.input_mean) / self.input_std
        y = self.model(x)
        if self.unscale:
            y = y * self.target_std + self.target_mean
        return y


def _stat_shape(input_shape: tuple[int, ...], kind: str, n: int) -> tuple[int, ...]:
    """Broadcast shape of the per-feature (tables) or per-channel (images) statistics."""
    if kind == "image" and len(input_shape) >= 2:
        return (1, n, *([1] * (len(input_shape) - 1)))
    if n == int(np.prod(input_shape)):
        return (1, *input_shape)
    return (1, n)


def raw_input_model(model: nn.Module, meta: Any, preprocessing: dict[str, Any]) -> RawInputModel:
    """Wrap a trained model (which takes standardised inputs) for raw inputs; eval mode."""
    target = preprocessing.get("target") or {}
    wrapped = RawInputModel(
        model, tuple(meta.input_shape), meta.kind,
        preprocessing.get("input_mean"), preprocessing.get("input_std"),
        target.get("mean"), target.get("std"),
    )
    return wrapped.eval()


def output_kind(meta: Any, out_width: int) -> str:
    """What the exported output holds: "logits" (one score per class; softmax gives
    probabilities), "logit" (one score for class 1 of two; sigmoid gives its probability) or
    "values" (regression targets in their own units)."""
    if meta.task == "regression":
        return "values"
    return "logit" if out_width == 1 else "logits"


def describe_inputs(meta: Any, spec: Any, out_width: int) -> dict[str, Any]:
    """The JSON that goes beside an export: what goes in, what comes out."""
    info: dict[str, Any] = {
        "format": 1,
        "name": spec.name,
        "task": meta.task,
        "kind": meta.kind,
        "input_name": "input",
        "output_name": "output",
        "input_shape": ["batch", *[int(d) for d in meta.input_shape]],
        "output": output_kind(meta, out_width),
        "class_names": list(meta.class_names),
        "target_name": meta.target_name,
        "standardization": "inside the model (raw inputs in)" if spec.data.standardize else "none",
    }
    if meta.kind == "image":
        info["image"] = {"size": int(spec.data.image_size), "mode": spec.data.color_mode,
                         "channels": int(meta.input_shape[0]),
                         "scale": "pixels / 255 (0 to 1)", "layout": "NCHW"}
    else:
        info["feature_names"] = list(meta.feature_names)
        columns = getattr(meta, "input_columns", None)
        if columns:
            info["columns"] = [dict(c) for c in columns]
    return info
