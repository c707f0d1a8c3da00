"""TrainControl: how the outside asks a running trainer to pause, resume, stop or change LR.

The trainer calls `poll()` between steps. Thread-safe, so a GUI thread or the runner's pipe
reader can drive it while the training loop runs.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any


class TrainControl:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self._resume.set()
        self._stop = threading.Event()
        self._pending: deque[tuple[str, Any]] = deque()

    # ---- asked from outside ---------------------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            self._resume.clear()

    def resume(self) -> None:
        with self._lock:
            self._resume.set()

    def stop(self) -> None:
        self._stop.set()
        self._resume.set()  # a paused run must wake up to stop

    def set_lr(self, lr: float) -> None:
        if not (lr > 0):
            raise ValueError(f"learning rate must be > 0 (got {lr!r})")
        with self._lock:
            self._pending.append(("set_lr", float(lr)))

    def apply(self, command: str, value: Any = None) -> None:
        """Apply a command by name (used by the process runner's pipe reader)."""
        if command == "pause":
            self.pause()
        elif command == "resume":
            self.resume()
        elif command == "stop":
            self.stop()
        elif command == "set_lr":
            self.set_lr(value)
        else:
            raise ValueError(f"unknown control command {command!r}")

    # ---- read by the trainer --------------------------------------------------------------
    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    def take_pending(self) -> list[tuple[str, Any]]:
        with self._lock:
            items = list(self._pending)
            self._pending.clear()
        return items

    def wait_resumed(self, timeout: float | None = None) -> bool:
        """Block while paused; True once resumed (or stopping)."""
        return self._resume.wait(timeout)
