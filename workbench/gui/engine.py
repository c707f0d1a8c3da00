"""PyTorch, imported off the GUI thread once the window is up.

`import torch` takes seconds (2-3 s on a small machine). The spec, the catalog and the data
loaders do not need it, so the window shows with the data and the layer list first; what needs
torch in this process (the model summary, the device list) waits for `warm_up()`, which runs on
a background thread (Session starts it). Until then those places show placeholders and Train
waits, with the reason next to it; the rest of the window works.

The GUI thread must never be the one that imports torch: an import in progress on another
thread would make it wait on the import lock for the rest of it, so `is_ready()` is False until
torch has finished importing.
"""

from __future__ import annotations

import sys
import threading

_ready = threading.Event()
_devices: list[tuple[str, str]] | None = None
_LOADING = "Loading PyTorch…"


def loading_message() -> str:
    return _LOADING


def is_ready() -> bool:
    """True once torch is fully imported (by warm_up, or by anyone: tests import it up front)."""
    if not _ready.is_set():
        module = sys.modules.get("torch")
        spec = getattr(module, "__spec__", None)
        if module is not None and spec is not None and not getattr(spec, "_initializing", False):
            _ready.set()
    return _ready.is_set()


def warm_up() -> list[tuple[str, str]]:
    """Import torch and the model code the GUI thread will use; returns the available devices.

    Runs on a background thread. Safe to call more than once (later calls return at once)."""
    global _devices
    import torch  # noqa: F401

    from workbench.core.catalog import layer_modules, loss_modules  # noqa: F401

    from workbench.core.training import available_devices

    if _devices is None:
        _devices = available_devices()  # CUDA's first query can take a while, so here
    _ready.set()
    return list(_devices)


def devices() -> list[tuple[str, str]]:
    """available_devices(), cached; call only when is_ready() (it may query CUDA)."""
    global _devices
    if _devices is None:
        from workbench.core.training import available_devices

        _devices = available_devices()
    return list(_devices)
