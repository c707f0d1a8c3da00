"""Peak (min/max) decimation of a growing series, kept up to date as points append.

pyqtgraph's own peak downsampling redoes its work over the whole dataset on every setData (a
finite scan and a reduction of all points: ~10 ms per 1e6-point curve), so a live curve that
grows by a few points each frame would cost O(n) per frame. Here each series keeps a pyramid of
levels: level k holds the min and the max of y over buckets of 2**(k+1) consecutive points, and
appending m points updates O(m) buckets (each level is built from the one below, two buckets
into one). A frame then picks the finest level that has at most about one bucket per pixel
column of the visible x range and hands pyqtgraph those (min, max) pairs: O(pixels), whatever n.

NaN is ignored inside a bucket (np.fmin/fmax); a bucket with nothing but NaN stays NaN, which
the curve draws as a gap (connect="finite").
"""

from __future__ import annotations

import numpy as np


class _Level:
    """Bucket mins and maxes of one level in a doubling (2, capacity) array."""

    __slots__ = ("data", "count")

    def __init__(self, capacity: int):
        self.data = np.empty((2, max(capacity, 16)))
        self.count = 0

    def put(self, start: int, mins: np.ndarray, maxs: np.ndarray) -> None:
        end = start + mins.size
        if end > self.data.shape[1]:
            grown = np.empty((2, max(end, 2 * self.data.shape[1])))
            grown[:, :start] = self.data[:, :start]
            self.data = grown
        self.data[0, start:end] = mins
        self.data[1, start:end] = maxs
        self.count = end


class PeakPyramid:
    """Min/max of buckets of 2, 4, 8, ... points of one growing array.

    >>> p = PeakPyramid(); y = np.arange(10.0); p.update(y)
    >>> x, v = p.decimate(np.arange(10.0), y, 0, 10, max_buckets=3)
    >>> v.tolist()  # buckets of 4 points (complete ones) and the tail
    [0.0, 3.0, 4.0, 7.0, 8.0, 9.0]
    """

    def __init__(self) -> None:
        self._levels: list[_Level] = []
        self._n = 0  # points seen by the last update

    def __len__(self) -> int:
        return self._n

    def clear(self) -> None:
        self._levels.clear()
        self._n = 0

    def update(self, y: np.ndarray) -> None:
        """Take in the points of y past the ones already seen (y only ever grows)."""
        n = y.size
        if n < self._n:  # shrank: a different series now (callers clear() first; be safe)
            self.clear()
        if n == self._n:
            return
        self._n = n
        lo_mins = lo_maxs = y  # the level below: raw points to start with
        below = n
        k = 0
        while below >= 2:
            count = below // 2
            if k == len(self._levels):
                self._levels.append(_Level(count * 2))
            level = self._levels[k]
            done = level.count
            if count > done:
                a, b = 2 * done, 2 * count
                level.put(done, np.fmin(lo_mins[a:b:2], lo_mins[a + 1 : b : 2]),
                          np.fmax(lo_maxs[a:b:2], lo_maxs[a + 1 : b : 2]))
            lo_mins, lo_maxs = level.data[0, :count], level.data[1, :count]
            below = count
            k += 1

    def decimate(self, x: np.ndarray, y: np.ndarray, i0: int, i1: int,
                 max_buckets: int) -> tuple[np.ndarray, np.ndarray]:
        """Points to draw for y[i0:i1] (x[i0:i1] increasing): the raw points if there are at
        most 2 * max_buckets of them, else (min, max) pairs of at most max_buckets buckets
        (plus one bucket for the tail not yet in a complete bucket), each pair at the x of its
        bucket's first point. x and y are the arrays given to `update` (or views of them)."""
        n = i1 - i0
        max_buckets = max(int(max_buckets), 1)
        if n <= 2 * max_buckets or not self._levels:
            return x[i0:i1], y[i0:i1]
        k = 0
        while k + 1 < len(self._levels) and n / (2 << k) > max_buckets:
            k += 1
        size = 2 << k  # points per bucket at level k
        level = self._levels[k]
        j0 = i0 // size
        j1 = min(-(-i1 // size), level.count)
        mins = level.data[0, j0:j1]
        maxs = level.data[1, j0:j1]
        xs = x[j0 * size : j1 * size : size]
        tail = j1 * size
        if tail < i1:  # points past the last complete bucket (a growing curve's newest ones)
            rest = y[tail:i1]
            mins = np.append(mins, np.fmin.reduce(rest))
            maxs = np.append(maxs, np.fmax.reduce(rest))
            xs = np.append(xs, x[tail])
        out_y = np.empty(2 * mins.size)
        out_y[0::2] = mins
        out_y[1::2] = maxs
        return np.repeat(xs, 2), out_y


def visible_slice(x: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
    """Index range of increasing x that covers [lo, hi], with one point beyond each end so the
    line runs to the edges of the view."""
    n = x.size
    i0 = max(int(np.searchsorted(x, lo, side="left")) - 1, 0)
    i1 = min(int(np.searchsorted(x, hi, side="right")) + 1, n)
    return i0, max(i1, i0)


class MonotonicCheck:
    """Whether a growing array has never decreased (checked over new points only)."""

    def __init__(self) -> None:
        self.checked = 0
        self.ok = True

    def clear(self) -> None:
        self.checked, self.ok = 0, True

    def update(self, x: np.ndarray) -> bool:
        n = x.size
        if n < self.checked:
            self.clear()
        if self.ok and n > self.checked:
            part = x[max(self.checked - 1, 0) : n]
            with np.errstate(invalid="ignore"):
                self.ok = bool(np.all(part[1:] >= part[:-1]))  # (nan fails: no binary search)
            self.checked = n
        return self.ok
