"""Names a package loads on first use (PEP 562), so that importing the package does not import
torch: the app draws its window before torch has loaded."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, namespace: dict[str, Any], modules: dict[str, str]) -> Callable[[str], Any]:
    """A module-level `__getattr__` for `package`: `modules` maps a public name to the submodule
    that defines it; the first access imports that submodule and keeps the value in `namespace`."""

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    return __getattr__
