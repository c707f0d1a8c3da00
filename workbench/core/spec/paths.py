"""Addressing a plain spec dict by dotted path ("optimizer.lr", "model.layers.0.out_features")
and resolving a spec's data source against the spec's folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from workbench.core.spec.errors import SpecError

__all__ = ["get_dotted", "set_dotted", "resolve_source"]


def get_dotted(raw: Any, dotted: str) -> Any:
    """The value at a dotted path of a plain spec dict (KeyError/IndexError when absent)."""
    node = raw
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def set_dotted(raw: dict, dotted: str, value: Any) -> None:
    """Set a value in a plain spec dict by dotted path; KeyError/IndexError name the path."""
    parts = dotted.split(".")
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        here = ".".join(parts[: i + 1])
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError):
            raise SpecError([(dotted, f"'{here}' does not exist in this spec")]) from None
        if node is None:
            raise SpecError([(dotted, f"'{here}' is empty (null); set it first")])
    last = parts[-1]
    if isinstance(node, list):
        try:
            node[int(last)] = value
        except (IndexError, ValueError):
            raise SpecError([(dotted, f"index {last} does not exist")]) from None
    else:
        node[last] = value


def resolve_source(source: str, base_dir: str | os.PathLike | None) -> str:
    """`sample:<name>` stays; a relative path is taken relative to base_dir (the spec's folder)."""
    if source.startswith("sample:"):
        return source
    p = Path(source).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    return str(p)
