"""What a run is called when the person has not named the experiment: after its data and its
model, e.g. "customers.csv · MLP 64-3", "digits · MLP 128-10", "shapes · CNN 16-32-32-4".

A spec's own `name` is the experiment's name when a person gave it one; an empty name (the
app's fresh experiment) or pydantic's placeholder "experiment" means "name it for me".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.core.spec import ExperimentSpec

__all__ = ["experiment_name", "is_named", "model_short_name", "data_short_name", "UNNAMED"]

UNNAMED = ("", "experiment")  # names that mean "not named by a person"
SIZE_PARAMS = ("out_features", "out_channels", "hidden_size")
FAMILIES = (("Conv", "CNN"), ("LSTM", "LSTM"), ("GRU", "GRU"), ("Residual", "Residual MLP"))


def is_named(spec: "ExperimentSpec") -> bool:
    """Whether a person named this experiment (else runs are named after data and model)."""
    return spec.name.strip() not in UNNAMED


def data_short_name(source: str) -> str:
    """'sample:digits' -> 'digits'; '/data/customers.csv' -> 'customers.csv'; a folder -> its name."""
    source = source.strip()
    if source.startswith("sample:"):
        return source.removeprefix("sample:").strip()
    return Path(source.rstrip("/\\")).name or source


def _sizes(layers: list[Any], out_width: int | None) -> list[str]:
    sizes: list[str] = []
    for layer in layers:
        if layer.type == "Residual" and layer.layers:
            sizes += _sizes(layer.layers, None)
            continue
        size = next((layer.params[p] for p in SIZE_PARAMS if p in layer.params), None)
        if size is not None:
            sizes.append(str(out_width) if size == "auto" and out_width else str(size))
    return sizes


def model_short_name(spec: "ExperimentSpec", out_width: int | None = None) -> str:
    """'MLP 64-64-2' (Linear layers' widths, "auto" as `out_width` when known), 'Linear 3' for a
    single layer, 'CNN 16-32-4', 'LSTM 64-1'; '' without layers."""
    layers = spec.model.layers
    if not layers:
        return ""
    types = {layer.type for layer in layers}
    family = next((name for prefix, name in FAMILIES if any(t.startswith(prefix) for t in types)), None)
    sizes = _sizes(layers, out_width)
    if family is None:
        family = "Linear" if sum(layer.type == "Linear" for layer in layers) == 1 else "MLP"
    return f"{family} {'-'.join(sizes)}".strip()


def experiment_name(spec: "ExperimentSpec", meta: Any = None) -> str:
    """The experiment's name when a person gave it one, else '<data> · <model>'. `meta` (the
    loaded dataset's) fills in the output width of an "auto" last layer."""
    if is_named(spec):
        return spec.name.strip()
    out_width = getattr(meta, "target_width", None) if meta is not None else None
    parts = [data_short_name(getattr(meta, "source", None) or spec.data.source), model_short_name(spec, out_width)]
    return " · ".join(p for p in parts if p)
