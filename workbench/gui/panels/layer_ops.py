"""Edits of a layer list (plain dicts, as in the spec) addressed by paths, and the templates.

A path is a tuple of indices: (2,) is the third top-level layer, (2, 0) the first inner layer of
that (Residual) layer. Every function returns a new list; the input is never changed.
No Qt here, so the model panel's logic is testable on its own.
"""

from __future__ import annotations

import copy
from typing import Any

Path = tuple[int, ...]
Layers = list[dict[str, Any]]


def _children(layers: Layers, parent: Path) -> Layers:
    node = layers
    for i in parent:
        layer = node[i]
        if layer.get("layers") is None:
            layer["layers"] = []
        node = layer["layers"]
    return node


def get(layers: Layers, path: Path) -> dict[str, Any]:
    node = layers
    for i in path[:-1]:
        node = node[i]["layers"]
    return node[path[-1]]


def exists(layers: Layers, path: Path) -> bool:
    try:
        get(layers, path)
        return bool(path)
    except (IndexError, KeyError, TypeError):
        return False


def siblings_count(layers: Layers, parent: Path) -> int:
    return len(_children(copy.deepcopy(layers), parent))


def _find(layers: Layers, target: object, prefix: Path = ()) -> Path | None:
    for i, layer in enumerate(layers):
        if layer is target:
            return (*prefix, i)
        inner = layer.get("layers")
        if inner:
            found = _find(inner, target, (*prefix, i))
            if found is not None:
                return found
    return None


def insert(layers: Layers, parent: Path, row: int, layer: dict[str, Any]) -> tuple[Layers, Path]:
    out = copy.deepcopy(layers)
    siblings = _children(out, parent)
    row = max(0, min(row, len(siblings)))
    siblings.insert(row, copy.deepcopy(layer))
    return out, (*parent, row)


def remove(layers: Layers, path: Path) -> tuple[Layers, Path | None]:
    """Remove the layer at `path`; returns the path to select next (its neighbour), if any."""
    out = copy.deepcopy(layers)
    siblings = _children(out, path[:-1])
    del siblings[path[-1]]
    if siblings:
        return out, (*path[:-1], min(path[-1], len(siblings) - 1))
    return out, (path[:-1] or None)


def replace(layers: Layers, path: Path, layer: dict[str, Any]) -> Layers:
    out = copy.deepcopy(layers)
    _children(out, path[:-1])[path[-1]] = copy.deepcopy(layer)
    return out


def duplicate(layers: Layers, path: Path) -> tuple[Layers, Path]:
    """A copy of the layer right after it."""
    return insert(layers, path[:-1], path[-1] + 1, get(layers, path))


def move(layers: Layers, source: Path, parent: Path, row: int) -> tuple[Layers, Path] | None:
    """Move the layer at `source` to position `row` of `parent` (row counted before the move).
    None when impossible (a block into itself)."""
    if parent[: len(source)] == source:
        return None
    out = copy.deepcopy(layers)
    moving = get(out, source)
    marker: dict[str, Any] = {"type": "__marker__"}
    target = _children(out, parent)
    target.insert(max(0, min(row, len(target))), marker)
    old_path = _find(out, moving)  # found by identity: the marker may have shifted its path
    if old_path is None:
        return None
    old_siblings = _children(out, old_path[:-1])
    del old_siblings[old_path[-1]]
    target[target.index(marker)] = moving
    new_path = _find(out, moving)
    return (out, new_path) if new_path is not None else None


def shift(layers: Layers, path: Path, delta: int) -> tuple[Layers, Path] | None:
    """Move a layer up (delta -1) or down (+1) among its siblings; None at the end."""
    siblings = _children(copy.deepcopy(layers), path[:-1])
    new_index = path[-1] + delta
    if not 0 <= new_index < len(siblings):
        return None
    out = copy.deepcopy(layers)
    sib = _children(out, path[:-1])
    sib[path[-1]], sib[new_index] = sib[new_index], sib[path[-1]]
    return out, (*path[:-1], new_index)


def flatten_paths(layers: Layers, prefix: Path = ()) -> list[Path]:
    """Every path, depth first, in display order."""
    paths: list[Path] = []
    for i, layer in enumerate(layers):
        paths.append((*prefix, i))
        if layer.get("layers"):
            paths.extend(flatten_paths(layer["layers"], (*prefix, i)))
    return paths


def output_index(layers: Layers) -> int | None:
    """The top-level output layer: the last one sized "auto" (one output per class or target),
    else the last one with a size (Linear, Conv…, LSTM…); None when there is neither."""
    sized = [i for i, layer in enumerate(layers) if any(name in layer for name in _SIZE_PARAMS)]
    auto = [i for i in sized if any(layer_value == "auto" for layer_value in layers[i].values())]
    return (auto or sized or [None])[-1]


def after_output(layers: Layers) -> list[int]:
    """Top-level layers that follow the output layer (their output is the model's)."""
    out = output_index(layers)
    return list(range(out + 1, len(layers))) if out is not None else []


def output_note(layers: Layers) -> str:
    """A warning when layers follow the output layer, naming them (numbered from 1), else ''."""
    late = after_output(layers)
    if not late:
        return ""
    out = output_index(layers)
    names = ", ".join(f"{i + 1} ({layers[i]['type']})" for i in late)
    word = "Layer" if len(late) == 1 else "Layers"
    return (f"{word} {names} come{'s' if len(late) == 1 else ''} after the output layer "
            f"(layer {out + 1}, {label(layers[out])}): the model's predictions pass through "
            f"{'it' if len(late) == 1 else 'them'}. Move {'it' if len(late) == 1 else 'them'} above the output "
            "layer unless that is what you want.")


TUNING_KEYS = ("frozen", "lr_mult")  # fine-tuning settings of a layer: not catalog parameters


def params_of(layer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in layer.items() if k not in ("type", "layers", *TUNING_KEYS)}


def with_tuning(layer: dict[str, Any], frozen: bool, lr_mult: float | None) -> dict[str, Any]:
    """The layer with its lock and learning-rate multiplier set (unset ones left out)."""
    out = {k: v for k, v in layer.items() if k not in TUNING_KEYS}
    if frozen:
        out["frozen"] = True
    if lr_mult is not None and lr_mult != 1.0:
        out["lr_mult"] = float(lr_mult)
    return out


# The size parameter of a layer reads best bare, the geometry of a convolution or pooling as
# a short code: "Linear 64", "Conv2d 16, k3, p1", "MaxPool2d k2", "Dropout p=0.5".
_SIZE_PARAMS = ("out_features", "out_channels", "hidden_size", "embedding_dim", "output_size", "unflattened_size")
_CODES = {"kernel_size": "k", "stride": "s", "padding": "p", "dilation": "d"}
_ALWAYS = ("kernel_size", "p")  # shown even when left at the catalog default


def _defaults(layer_type: str) -> dict[str, Any]:
    try:
        from workbench.core import catalog

        return {p.name: p.default for p in catalog.get_entry("layer", layer_type).params}
    except Exception:  # an unknown type: only what the spec says
        return {}


def label(layer: dict[str, Any]) -> str:
    """What a person reads in the stack: the type, its size and what differs from the
    defaults, compactly ("Conv2d 16, k3, p1"); `full_label` spells it out."""
    params = params_of(layer)
    defaults = _defaults(layer["type"])
    for name in (*_SIZE_PARAMS, *_ALWAYS):
        if name not in params and defaults.get(name) is not None:
            params[name] = defaults[name]
    size = next((params.pop(name) for name in _SIZE_PARAMS if name in params), None)
    parts = []
    for name, value in params.items():
        if name in _CODES:
            parts.append(f"{_CODES[name]}{_short(value, sep='×')}")
        elif isinstance(value, bool):
            parts.append(name if value else f"no {name}")
        else:
            parts.append(f"{name}={_short(value)}")
    if size is not None:
        return ", ".join([f"{layer['type']} {_short(size, sep='×')}", *parts])
    return f"{layer['type']} {', '.join(parts)}" if parts else layer["type"]


def full_label(layer: dict[str, Any]) -> str:
    """The type with every parameter the spec sets, by name (a tooltip)."""
    params = params_of(layer)
    if not params:
        return f"{layer['type']} (default parameters)"
    return f"{layer['type']}: " + ", ".join(f"{k}={_short(v)}" for k, v in params.items())


def _short(value: Any, sep: str | None = None) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        if sep is not None:
            return sep.join(_short(v) for v in value)
        return "(" + ", ".join(_short(v) for v in value) + ")"
    if value is None:
        return "none"
    return str(value)


# ---- new layers -----------------------------------------------------------------------------
def new_layer(name: str, in_shape: tuple[int, ...] | None = None) -> dict[str, Any]:
    """A layer from the palette. Parameters stay implicit (the catalog defaults) except that a
    Residual block starts with inner layers that keep the shape of what flows into it."""
    if name != "Residual":
        return {"type": name}
    if in_shape is not None and len(in_shape) == 3:
        inner = [{"type": "Conv2d", "out_channels": int(in_shape[0]), "kernel_size": 3, "padding": 1},
                 {"type": "ReLU"}]
    else:
        width = int(in_shape[0]) if in_shape and len(in_shape) == 1 else 32
        inner = [{"type": "Linear", "out_features": width}, {"type": "ReLU"}]
    return {"type": "Residual", "layers": inner}


# ---- templates ----------------------------------------------------------------------------------
TEMPLATES: dict[str, str] = {
    "linear": "Linear / logistic regression",
    "mlp": "MLP (2 hidden layers)",
    "cnn": "Small CNN (LeNet-style, images)",
    "residual_mlp": "Residual MLP",
}

TEMPLATE_HELP: dict[str, str] = {
    "linear": "One Linear layer: linear regression with MSELoss, logistic regression with CrossEntropyLoss.",
    "mlp": "Two hidden layers of 64 with ReLU, then an output layer sized to the data.",
    "cnn": "Two convolution + pooling stages, then a small MLP head. For image data.",
    "residual_mlp": "A hidden layer of 64 and two residual blocks (x + f(x)), then the output layer.",
}


def template(name: str, image_input: bool = False) -> Layers:
    """The layers of a template. The last Linear uses out_features='auto' so the template fits
    any dataset; a Flatten goes first when the input is images (except for the CNN)."""
    out: Layers
    if name == "linear":
        out = [{"type": "Linear", "out_features": "auto"}]
    elif name == "mlp":
        out = [{"type": "Linear", "out_features": 64}, {"type": "ReLU"},
               {"type": "Linear", "out_features": 64}, {"type": "ReLU"},
               {"type": "Linear", "out_features": "auto"}]
    elif name == "cnn":
        return [{"type": "Conv2d", "out_channels": 6, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
                {"type": "MaxPool2d", "kernel_size": 2},
                {"type": "Conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
                {"type": "MaxPool2d", "kernel_size": 2},
                {"type": "Flatten"},
                {"type": "Linear", "out_features": 120}, {"type": "ReLU"},
                {"type": "Linear", "out_features": 84}, {"type": "ReLU"},
                {"type": "Linear", "out_features": "auto"}]
    elif name == "residual_mlp":
        block = {"type": "Residual", "layers": [{"type": "Linear", "out_features": 64}, {"type": "ReLU"},
                                                 {"type": "Linear", "out_features": 64}]}
        out = [{"type": "Linear", "out_features": 64}, {"type": "ReLU"},
               copy.deepcopy(block), {"type": "ReLU"},
               copy.deepcopy(block), {"type": "ReLU"},
               {"type": "Linear", "out_features": "auto"}]
    else:
        raise KeyError(f"unknown template {name!r}; allowed: {', '.join(TEMPLATES)}")
    return ([{"type": "Flatten"}] + out) if image_input else out
