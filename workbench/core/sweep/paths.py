"""Where a dotted sweep path points in a spec: a catalog parameter of a layer (also inside
Residual blocks), the loss, the optimizer or the schedule, or a plain spec field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

_CONTAINERS = {"loss": "loss", "optimizer": "optimizer", "schedule": "schedule"}


def types_first(paths: Iterable[str]) -> list[str]:
    """Type fields first (shallowest first): they decide which parameters apply."""
    return sorted(paths, key=lambda p: (0, p.count(".")) if p.endswith(".type") else (1, 0))


@dataclass(frozen=True)
class FieldRef:
    """Where a dotted path points. For catalog parameters: the entry kind and the container's
    dotted path (e.g. "model.layers.2" / "optimizer"), and the parameter name."""

    path: str
    entry_kind: str | None  # "layer" | "loss" | "optimizer" | "schedule" | None (plain spec field)
    container: str | None
    name: str


def field_ref(path: str) -> FieldRef:
    parts = path.split(".")
    if parts[0] in _CONTAINERS and len(parts) == 2:
        return FieldRef(path, _CONTAINERS[parts[0]], parts[0], parts[1])
    if parts[0] == "model" and len(parts) >= 4 and parts[1] == "layers":
        # model.layers.I(.layers.J)*.name
        body = parts[2:-1]
        ok = len(body) % 2 == 1 and body[0].isdigit() and all(
            body[i] == "layers" and body[i + 1].isdigit() for i in range(1, len(body) - 1, 2)
        )
        if ok:
            return FieldRef(path, "layer", ".".join(parts[:-1]), parts[-1])
    return FieldRef(path, None, None, parts[-1])


def catalog_entry(kind: str, name: str):
    from workbench.core import catalog

    return catalog.REGISTRY.get(kind, {}).get(name)


def _layer_words(layers: list[dict]) -> str:
    if not layers:
        return "the model has no layers yet"
    names = ", ".join(f"{i}: {layer.get('type')}" for i, layer in enumerate(layers))
    return f"the model has {len(layers)} layer{'s' if len(layers) != 1 else ''} ({names})"


def resolve_container(raw_spec: dict, ref: FieldRef) -> tuple[dict | None, str | None]:
    """The container dict (layer/optimizer/...) of a catalog path, or a message why not."""
    assert ref.container is not None
    parts = ref.container.split(".")
    if ref.entry_kind != "layer":
        node = raw_spec.get(parts[0])
        if node is None:
            return None, f"the spec has no {parts[0]}; set one first (a sweep varies fields that exist)"
        return node, None
    node: Any = raw_spec["model"]
    where = "model"
    for i in range(1, len(parts), 2):
        layers = node.get("layers") if isinstance(node, dict) else None
        idx = int(parts[i + 1])
        if not layers:
            return None, f"{where} has no inner layers" if where != "model" else "the model has no layers yet"
        if idx >= len(layers):
            if where == "model":
                return None, f"there is no layer {idx}; {_layer_words(layers)}"
            return None, f"{where} has no inner layer {idx}; it has {len(layers)} ({', '.join(str(l.get('type')) for l in layers)})"
        node = layers[idx]
        where = ".".join(parts[: i + 2])
    return node, None
