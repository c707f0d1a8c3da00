"""Progress and cancel for long loads (a million-row table, a folder of 60,000 images).

    def show(p: LoadProgress): print(p.text())          # "412,000 of about 1,000,000 rows · 380,000 rows/s"
    cancel = threading.Event()
    load_dataset(spec.data, on_progress=show, cancel=cancel)   # raises LoadCancelled once cancel is set

The loaders call `Progress.update` as they go; it calls back at most every `interval` seconds
(on the loading thread: a GUI hands it on with a queued signal) and raises LoadCancelled as soon
as `cancel` is set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


class LoadCancelled(Exception):
    """The load was cancelled (by the person, through the cancel event)."""


@dataclass(frozen=True)
class LoadProgress:
    done: int  # rows or images read so far
    total: int | None  # how many there are (an estimate for tables); None when unknown
    unit: str  # "rows", "images", ...
    elapsed: float  # seconds since this stage began

    @property
    def rate(self) -> float:
        """Rows (images) per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None

    def text(self) -> str:
        unit = self.unit
        of = f" of about {self.total:,}" if self.total and unit.startswith("rows") else (
            f" of {self.total:,}" if self.total else "")
        word = unit.split(" ")[0]
        return f"{self.done:,}{of} {unit} · {self.rate:,.0f} {word}/s"


class Progress:
    """What loaders report to; see the module doc."""

    def __init__(self, callback: Callable[[LoadProgress], None] | None = None, cancel=None,
                 interval: float = 0.1, unit: str = "rows") -> None:
        self.callback = callback
        self.cancel = cancel  # anything with is_set(): threading.Event, multiprocessing.Event
        self.interval = interval
        self.unit = unit
        self._t0 = time.perf_counter()
        self._next = self._t0

    def check(self) -> None:
        """Raise LoadCancelled if the load was cancelled."""
        if self.cancel is not None and self.cancel.is_set():
            raise LoadCancelled("the load was cancelled")

    def restart(self, unit: str) -> None:
        """A new stage (e.g. reading the file again carefully): the rate starts over."""
        self.unit = unit
        self._t0 = self._next = time.perf_counter()

    def update(self, done: int, total: int | None = None, force: bool = False) -> None:
        self.check()
        if self.callback is None:
            return
        now = time.perf_counter()
        if force or now >= self._next:
            self._next = now + self.interval
            self.callback(LoadProgress(int(done), None if total is None else int(total), self.unit, now - self._t0))
