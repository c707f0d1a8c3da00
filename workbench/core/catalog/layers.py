"""Layer entries of the catalog.

A layer factory is `factory(params, in_shape, ctx) -> nn.Module` where `params` already holds
the defaults, `in_shape` is the per-sample input shape (no batch dimension) and `ctx` is a
`LayerContext`. In-feature sizes (in_features, in_channels, num_features, normalized_shape,
input_size) are never parameters: they come from `in_shape`. A factory raises `ShapeProblem`
with a sentence fragment ("receives images of shape (1, 28, 28); add a Flatten layer before
it") when the layer cannot take its input; model.py prefixes it with "Layer N (Type)".

Per-sample shapes: tabular (features,), images (channels, height, width), sequences
(steps, features), 1-D signals (channels, length).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from workbench.core.catalog.registry import Entry, Param, register

# The small modules the catalog needs beyond torch.nn live in layer_modules.py: importing this
# file (the palette and its parameters) must not import torch, which takes seconds.


def _nn():
    """torch.nn, imported when the first layer is built."""
    from torch import nn

    return nn


class ShapeProblem(ValueError):
    """A layer cannot accept its input; the message says why and what to change."""


@dataclass
class LayerContext:
    target_width: int                     # what "auto" out_features resolves to
    flattened_at: int | None = None       # 0-based index of an earlier Flatten, if any
    notes: list[str] = field(default_factory=list)


def describe_shape(shape: tuple[int, ...]) -> str:
    """Words for a per-sample shape, used in error messages."""
    s = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    if len(shape) == 1:
        return f"flat features of shape {s}"
    if len(shape) == 3:
        return f"images of shape {s}"
    if len(shape) == 2:
        return f"2-D data of shape {s}"
    return f"data of shape {s}"


# ---- shape checks -------------------------------------------------------------------------


def _need_flat_or_seq(name: str, in_shape, ctx: LayerContext) -> None:
    if len(in_shape) == 3:
        raise ShapeProblem(f"receives {describe_shape(in_shape)}; add a Flatten layer before it")


def _need_rank(name: str, in_shape, ctx: LayerContext, rank: int) -> None:
    if len(in_shape) == rank:
        return
    if rank == 3:
        want = "images (channels, height, width)"
        if len(in_shape) == 1 and ctx.flattened_at is not None:
            fix = (f"Layer {ctx.flattened_at + 1} (Flatten) flattened them; move {name} before the Flatten"
                   " layer")
        elif len(in_shape) == 1:
            fix = "this data is tabular: use Linear layers (or load an image dataset)"
        else:
            fix = f"{name} works on image data only"
    else:
        want = "2-D input (channels, length)"
        if len(in_shape) == 1 and ctx.flattened_at is not None:
            fix = (f"Layer {ctx.flattened_at + 1} (Flatten) flattened it; move {name} before the Flatten"
                   " layer")
        elif len(in_shape) == 1:
            fix = "for tabular data use Linear layers; for token ids add an Embedding layer first"
        else:
            fix = f"use {name.replace('1d', '2d')} for images"
    raise ShapeProblem(f"needs {want} but receives {describe_shape(in_shape)}; {fix}")


def _as_tuple(v: Any, n: int) -> tuple[int, ...]:
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return tuple(v) * n
        if len(v) != n:
            raise ShapeProblem(f"has {len(v)} values {list(v)} for {n} spatial dimension(s); give one value or {n}")
        return tuple(v)
    return (v,) * n


def _check_window(name: str, in_shape, kernel, stride, padding, dilation, what: str = "kernel_size") -> None:
    spatial = tuple(in_shape[1:])
    n = len(spatial)
    k = _as_tuple(kernel, n)
    d = _as_tuple(dilation, n)
    p = (0,) * n if padding in ("same", "valid") else _as_tuple(padding, n)
    for size, kk, dd, pp in zip(spatial, k, d, p):
        eff = dd * (kk - 1) + 1
        if eff > size + 2 * pp:
            dims = " x ".join(str(s) for s in spatial)
            extra = f" (dilation {dd} makes it span {eff})" if dd > 1 else ""
            raise ShapeProblem(
                f"has {what} {kernel}, larger than its input ({dims}{', plus padding ' + str(pp) if pp else ''})"
                f"{extra}; use a smaller {what}, add padding, or remove a pooling/striding layer before it"
            )


# ---- factories ------------------------------------------------------------------------------


def _auto(v: Any, ctx: LayerContext) -> int:
    return ctx.target_width if v == "auto" else int(v)


def make_linear(p, in_shape, ctx):
    _need_flat_or_seq("Linear", in_shape, ctx)
    return _nn().Linear(in_shape[-1], _auto(p["out_features"], ctx), bias=p["bias"])


def _conv(dim: int):
    name = "Conv1d" if dim == 1 else "Conv2d"

    def make(p, in_shape, ctx):
        cls = getattr(_nn(), name)
        _need_rank(name, in_shape, ctx, dim + 1)
        _check_window(name, in_shape, p["kernel_size"], p["stride"], p["padding"], p["dilation"])
        return cls(in_shape[0], p["out_channels"], _ints(p["kernel_size"]), stride=_ints(p["stride"]),
                   padding=_ints(p["padding"]), dilation=_ints(p["dilation"]), bias=p["bias"])

    return make


def _ints(v):
    return tuple(v) if isinstance(v, list) else v


def _pool(name: str, dim: int):
    def make(p, in_shape, ctx):
        cls = getattr(_nn(), name)
        _need_rank(name, in_shape, ctx, dim + 1)
        dilation = p.get("dilation", 1)
        _check_window(name, in_shape, p["kernel_size"], p["stride"], p["padding"], dilation)
        kw = dict(stride=_ints(p["stride"]), padding=_ints(p["padding"]))
        if "dilation" in p:
            kw["dilation"] = _ints(dilation)
        return cls(_ints(p["kernel_size"]), **kw)

    return make


def make_adaptive_avg_pool2d(p, in_shape, ctx):
    _need_rank("AdaptiveAvgPool2d", in_shape, ctx, 3)
    return _nn().AdaptiveAvgPool2d(_ints(p["output_size"]))


def make_flatten(p, in_shape, ctx):
    return _nn().Flatten()


def make_unflatten(p, in_shape, ctx):
    size = p["unflattened_size"]
    size = tuple(size) if isinstance(size, (list, tuple)) else (size,)
    if len(in_shape) != 1:
        raise ShapeProblem(f"needs flat features but receives {describe_shape(in_shape)}; put it where the data is "
                           "still one row of numbers (first, or after a Flatten)")
    n = in_shape[0]
    if math.prod(size) != n:
        side = math.isqrt(n)
        hint = f", e.g. [1, {side}, {side}] for one-channel {side}x{side} images" if side * side == n else ""
        raise ShapeProblem(f"turns {n} features into {list(size)} = {math.prod(size)} values; the product of "
                           f"unflattened_size must be {n}{hint}")
    return _nn().Unflatten(1, size)


def make_dropout2d(p, in_shape, ctx):
    _need_rank("Dropout2d", in_shape, ctx, 3)
    return _nn().Dropout2d(p["p"])


def make_batchnorm1d(p, in_shape, ctx):
    if len(in_shape) not in (1, 2):
        raise ShapeProblem(f"needs flat features or (channels, length) but receives {describe_shape(in_shape)};"
                           " use BatchNorm2d for images")
    return _nn().BatchNorm1d(in_shape[0], eps=p["eps"], momentum=p["momentum"], affine=p["affine"])


def make_batchnorm2d(p, in_shape, ctx):
    _need_rank("BatchNorm2d", in_shape, ctx, 3)
    return _nn().BatchNorm2d(in_shape[0], eps=p["eps"], momentum=p["momentum"], affine=p["affine"])


def make_layernorm(p, in_shape, ctx):
    # whole sample for flat features and images; each step for sequences (steps, features)
    shape = list(in_shape[-1:]) if len(in_shape) == 2 else list(in_shape)
    return _nn().LayerNorm(shape, eps=p["eps"], elementwise_affine=p["elementwise_affine"])


def make_embedding(p, in_shape, ctx):
    if len(in_shape) != 1:
        raise ShapeProblem(f"needs a row of integer token ids (steps,) but receives {describe_shape(in_shape)};"
                           " use Embedding as the first layer on integer-coded data")
    from workbench.core.catalog.layer_modules import Embedding

    return Embedding(p["num_embeddings"], p["embedding_dim"])


def _rnn(name: str, wrapper_name: str):
    def make(p, in_shape, ctx):
        from workbench.core.catalog import layer_modules

        cls, wrapper = getattr(_nn(), name), getattr(layer_modules, wrapper_name)
        if len(in_shape) != 2:
            if len(in_shape) == 1:
                fix = ("add an Embedding layer before it (for token ids), or use Linear layers for tabular "
                       "data")
            else:
                fix = f"{name} works on sequences only"
            raise ShapeProblem(f"needs sequences (steps, features) but receives {describe_shape(in_shape)}; {fix}")
        dropout = p["dropout"]
        if dropout and p["num_layers"] == 1:
            ctx.notes.append(f"{name}: dropout applies between stacked layers only; ignored with num_layers 1")
            dropout = 0.0
        rnn = cls(in_shape[1], p["hidden_size"], num_layers=p["num_layers"], bias=p["bias"],
                  batch_first=True, dropout=dropout, bidirectional=p["bidirectional"])
        return wrapper(rnn)

    return make


def _plain(name: str, **fixed):
    def make(p, in_shape, ctx):
        return getattr(_nn(), name)(**p, **fixed)

    return make


def make_softmax(p, in_shape, ctx):
    dim = p["dim"]
    if dim != -1 and not (-len(in_shape) - 1 <= dim <= len(in_shape)):
        raise ShapeProblem(f"dim {dim} does not exist for {describe_shape(in_shape)} (plus the batch dimension 0);"
                           " use -1 (the last dimension)")
    if dim == 0:
        raise ShapeProblem("dim 0 is the batch dimension; use -1 (the last dimension)")
    return _nn().Softmax(dim=dim)


# ---- parameter definitions -------------------------------------------------------------------

_BIAS = Param("bias", "bool", True, "learn an additive bias")
_KERNEL = Param("kernel_size", "ints", 3, "size of the sliding window (one value or one per dimension)", 1, 64)
_STRIDE = Param("stride", "ints", 1, "step of the window; 2 halves the size", 1, 64)
_DILATION = Param("dilation", "ints", 1, "spacing between kernel elements", 1, 16)
_CONV_PADDING = Param("padding", "ints", 0, "zeros added on each side; 'same' keeps the size (stride 1 only)",
                      0, 64, choices=("same", "valid"))
_P = Param("p", "float", 0.5, "probability of zeroing an element during training", 0.0, 0.99)
_EPS = Param("eps", "float", 1e-5, "added to the variance for numerical stability", 1e-12, 1e-1, log=True)


def _check_conv(p):
    if p.get("padding") == "same" and p.get("stride", 1) not in (1, [1], [1, 1]):
        return [("padding", "'same' padding needs stride 1; set padding to a number or stride to 1")]
    return []


def _check_pool(p):
    ks = p["kernel_size"] if isinstance(p["kernel_size"], list) else [p["kernel_size"]]
    pads = p["padding"] if isinstance(p["padding"], list) else [p["padding"]]
    if any(pad * 2 > min(ks) for pad in pads):
        return [("padding", f"must be at most half the kernel_size ({min(ks) // 2})")]
    return []


def _conv_params(out_channels: int):
    return (
        Param("out_channels", "int", out_channels, "number of filters (output channels)", 1, 4096),
        _KERNEL, _STRIDE, _CONV_PADDING, _DILATION, _BIAS,
    )


def _pool_params(kernel: int, with_dilation: bool):
    ps = [
        Param("kernel_size", "ints", kernel, "size of the pooling window", 1, 64),
        Param("stride", "ints", None, "step of the window; empty = kernel_size", 1, 64, nullable=True),
        Param("padding", "ints", 0, "implicit padding on each side (at most half the kernel)", 0, 32),
    ]
    if with_dilation:
        ps.append(_DILATION)
    return tuple(ps)


def _rnn_params():
    return (
        Param("hidden_size", "int", 32, "features in the hidden state", 1, 4096),
        Param("num_layers", "int", 1, "stacked recurrent layers", 1, 8),
        Param("bidirectional", "bool", False, "also read the sequence backwards (doubles the output)"),
        Param("dropout", "float", 0.0, "dropout between stacked layers (num_layers > 1)", 0.0, 0.99),
        _BIAS,
    )


def _layer(name, group, help_, params=(), factory=None, **info):
    register(Entry(name=name, kind="layer", group=group, help=help_, params=tuple(params), factory=factory,
                   info=info))


# Core
_layer("Linear", "Core", "Fully connected layer: y = x Wᵀ + b over the last dimension",
       (Param("out_features", "int_or_auto", 16,
              "output size; 'auto' = one per class (classification) or per target (regression)", 1, 65536),
        _BIAS), make_linear, accepts="features")
_layer("Flatten", "Core", "Flattens each sample to one vector (e.g. images before Linear)", (), make_flatten,
       accepts="any")
_layer("Unflatten", "Core",
       "Reshapes flat features into images (channels, height, width) or sequences (steps, features), e.g. 64 pixel "
       "columns of a CSV into (1, 8, 8) for Conv2d",
       (Param("unflattened_size", "ints", [1, 8, 8],
              "the shape of each sample afterwards; its product must equal the number of features", 1, 65536),),
       make_unflatten, accepts="features")
_layer("Embedding", "Core",
       "Looks up a learned vector for each integer id (input is cast to integers); output (steps, embedding_dim)",
       (Param("num_embeddings", "int", 1000, "number of distinct ids (ids must be 0 … num_embeddings-1)", 1,
              10_000_000),
        Param("embedding_dim", "int", 32, "size of each vector", 1, 65536)), make_embedding, accepts="tokens")
# Convolution
_layer("Conv1d", "Convolution", "1-D convolution over (channels, length)", _conv_params(16), _conv(1),
       accepts="signal", check=_check_conv)
_layer("Conv2d", "Convolution", "2-D convolution over images (channels, height, width)", _conv_params(16),
       _conv(2), accepts="image", check=_check_conv)
# Pooling
_layer("MaxPool1d", "Pooling", "Maximum over sliding windows of (channels, length)", _pool_params(2, True),
       _pool("MaxPool1d", 1), accepts="signal", check=_check_pool)
_layer("MaxPool2d", "Pooling", "Maximum over sliding windows of an image", _pool_params(2, True),
       _pool("MaxPool2d", 2), accepts="image", check=_check_pool)
_layer("AvgPool2d", "Pooling", "Average over sliding windows of an image", _pool_params(2, False),
       _pool("AvgPool2d", 2), accepts="image", check=_check_pool)
_layer("AdaptiveAvgPool2d", "Pooling", "Averages each channel down to a fixed output_size (1 = global average)",
       (Param("output_size", "ints", 1, "output height/width", 1, 256),), make_adaptive_avg_pool2d,
       accepts="image")
# Normalization
_layer("BatchNorm1d", "Normalization", "Normalises each feature over the batch (flat or (channels, length))",
       (_EPS, Param("momentum", "float", 0.1, "update rate of the running statistics", 0.0, 1.0),
        Param("affine", "bool", True, "learn a scale and shift")), make_batchnorm1d, accepts="features")
_layer("BatchNorm2d", "Normalization", "Normalises each image channel over the batch",
       (_EPS, Param("momentum", "float", 0.1, "update rate of the running statistics", 0.0, 1.0),
        Param("affine", "bool", True, "learn a scale and shift")), make_batchnorm2d, accepts="image")
_layer("LayerNorm", "Normalization",
       "Normalises each sample (each step of a sequence) to zero mean and unit variance",
       (_EPS, Param("elementwise_affine", "bool", True, "learn a scale and shift")), make_layernorm,
       accepts="any")
# Regularization
_layer("Dropout", "Regularization", "Randomly zeroes elements during training", (_P,), _plain("Dropout"),
       accepts="any")
_layer("Dropout2d", "Regularization", "Randomly zeroes whole image channels during training", (_P,),
       make_dropout2d, accepts="image")
# Recurrent
_layer("LSTM", "Recurrent", "Long short-term memory over (steps, features); outputs the final hidden state",
       _rnn_params(), _rnn("LSTM", "LSTMLastStep"), accepts="sequence")
_layer("GRU", "Recurrent", "Gated recurrent unit over (steps, features); outputs the final hidden state",
       _rnn_params(), _rnn("GRU", "GRULastStep"), accepts="sequence")
# Activation
_layer("ReLU", "Activation", "max(0, x)", (), _plain("ReLU"), accepts="any")
_layer("LeakyReLU", "Activation", "x if x > 0 else negative_slope·x",
       (Param("negative_slope", "float", 0.01, "slope for negative inputs", 0.0, 1.0),), _plain("LeakyReLU"),
       accepts="any")
_layer("ELU", "Activation", "x if x > 0 else alpha·(eˣ − 1)",
       (Param("alpha", "float", 1.0, "saturation value for negative inputs", 0.0, 10.0),), _plain("ELU"),
       accepts="any")
_layer("GELU", "Activation", "Gaussian error linear unit (smooth ReLU, used in transformers)",
       (Param("approximate", "choice", "none", "'tanh' uses the faster tanh approximation",
              choices=("none", "tanh")),), _plain("GELU"), accepts="any")
_layer("SiLU", "Activation", "x·sigmoid(x) (also called swish)", (), _plain("SiLU"), accepts="any")
_layer("Tanh", "Activation", "tanh(x), output in (−1, 1)", (), _plain("Tanh"), accepts="any")
_layer("Sigmoid", "Activation", "1 / (1 + e⁻ˣ), output in (0, 1)", (), _plain("Sigmoid"), accepts="any")
_layer("Softmax", "Activation",
       "Turns scores into probabilities along dim (not needed before CrossEntropyLoss, which applies it itself)",
       (Param("dim", "int", -1, "dimension to normalise (-1 = last)", -4, 4),), make_softmax, accepts="any")
_layer("Identity", "Activation", "Passes its input through unchanged", (), _plain("Identity"), accepts="any")
# Composite
_layer("Residual", "Composite",
       "Adds the block's input to the output of its inner layers (x + f(x)); a projection is added when the"
       " shapes differ", (), None, accepts="any", composite=True)
