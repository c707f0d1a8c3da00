"""Growing numpy buffers for live curves.

A live plot receives a few points at a time for as long as a run lasts, and redraws the whole
series ~30 times a second. Keeping the series in Python lists would cost an object per point
and a list -> array copy per redraw; here each series is one float64 array that doubles when
full (amortised O(1) append), and a redraw reads a view of the filled part (no copy).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np


class RowBuffer:
    """Rows of named float columns in one preallocated (capacity, n_columns) array.

    >>> b = RowBuffer(("step", "loss"))
    >>> b.append((1, 0.5)); b.append((2, float("nan")))
    >>> b.column("loss").tolist()
    [0.5, nan]
    """

    def __init__(self, columns: Sequence[str], capacity: int = 256):
        self.columns = tuple(columns)
        self._index = {name: i for i, name in enumerate(self.columns)}
        # Column-major so that column(name) is a contiguous view (what pyqtgraph wants).
        self._data = np.empty((len(self.columns), max(int(capacity), 1)), dtype=np.float64)
        self._n = 0
        self._nonfinite = np.zeros(len(self.columns), dtype=bool)

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        return self._data.shape[1]

    def _reserve(self, n: int) -> None:
        if n <= self.capacity:
            return
        new_cap = self.capacity
        while new_cap < n:
            new_cap *= 2
        grown = np.empty((len(self.columns), new_cap), dtype=np.float64)
        grown[:, : self._n] = self._data[:, : self._n]
        # Views handed out earlier keep the old array alive and stay valid (they are never
        # written again), so a redraw in progress never sees a half-copied buffer.
        self._data = grown

    def append(self, row: Sequence[float]) -> None:
        """Append one row given in column order (missing values as nan)."""
        n = self._n
        if n == self._data.shape[1]:
            self._reserve(n + 1)
        self._data[:, n] = row
        # (math.isfinite per value: a few numpy calls per row cost more than the row itself)
        try:
            finite = all(map(math.isfinite, row))
        except TypeError:
            finite = False
        if not finite:
            self._nonfinite |= ~np.isfinite(self._data[:, n])
        self._n = n + 1

    def append_dict(self, values: dict[str, float]) -> None:
        """Append one row from a mapping; columns it does not name are nan."""
        self.append([_as_float(values.get(name)) for name in self.columns])

    def extend(self, rows: Iterable[Sequence[float]] | np.ndarray) -> None:
        """Append many rows: an (n, n_columns) array or an iterable of rows."""
        arr = np.asarray(rows if isinstance(rows, np.ndarray) else list(rows), dtype=np.float64)
        if arr.size == 0:
            return
        arr = arr.reshape(-1, len(self.columns))
        k = arr.shape[0]
        self._reserve(self._n + k)
        self._data[:, self._n : self._n + k] = arr.T
        self._nonfinite |= ~np.isfinite(arr).all(axis=0)
        self._n += k

    def column(self, name: str) -> np.ndarray:
        """The filled part of a column, as a read-only view (no copy)."""
        view = self._data[self._index[name], : self._n]
        view.flags.writeable = False
        return view

    def has_nonfinite(self, name: str) -> bool:
        """True once any nan/inf was appended to the column (lets plots skip the finite check)."""
        return bool(self._nonfinite[self._index[name]])

    def last(self, name: str) -> float:
        return float(self._data[self._index[name], self._n - 1]) if self._n else float("nan")

    def clear(self) -> None:
        """Forget all rows. A new array is used so views handed out earlier stay intact."""
        self._data = np.empty((len(self.columns), 256), dtype=np.float64)
        self._n = 0
        self._nonfinite[:] = False


def _as_float(value: object) -> float:
    if value is None:
        return float("nan")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
