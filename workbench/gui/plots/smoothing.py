"""Debiased exponential moving average, as TensorBoard smooths scalar curves.

    last  = w * last + (1 - w) * x            (last starts at 0)
    shown = last / (1 - w ** n)               (n = finite points seen so far)

The division removes the pull towards the zero start, so the first smoothed point equals the
first raw point. Non-finite points are passed through (they stay gaps) and do not enter the
average. The work is vectorised in blocks so a million points smooth in a few milliseconds, and
an `Ema` keeps its state so points arriving during a run are smoothed incrementally.
"""

from __future__ import annotations

import math

import numpy as np

MAX_WEIGHT = 0.999


class Ema:
    """Incremental debiased EMA: feed new points with `update`, get their smoothed values."""

    def __init__(self, weight: float):
        self.weight = min(max(float(weight), 0.0), MAX_WEIGHT)
        self.last = 0.0
        self.count = 0

    def reset(self) -> None:
        self.last = 0.0
        self.count = 0

    def update(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        out = values.copy()
        w = self.weight
        if w == 0.0 or values.size == 0:
            return out
        finite = np.isfinite(values)
        x = values[finite] if not finite.all() else values
        if x.size == 0:
            return out
        smoothed = self._smooth_finite(x)
        if x is values:
            return smoothed
        out[finite] = smoothed
        return out


    def _smooth_finite(self, x: np.ndarray) -> np.ndarray:
        # Blocks of B points, all blocks at once: within a block, with zero carry,
        #   L_t = (1 - w) * w^t * cumsum(x_i * w^-i)
        # then each block's carry-in (the EMA at the end of the previous block) adds
        # w^(t+1) * carry. Only the carries are a Python loop (n / B scalars).
        # w^-B must stay finite: B <= 460 / -ln(w)  (w^-B <= 1e200).
        w, n = self.weight, x.size
        log_w = math.log(w)
        b = max(1, min(n, int(460.0 / -log_w)))
        nb = -(-n // b)
        padded = np.zeros(nb * b)
        padded[:n] = x
        blocks = padded.reshape(nb, b)
        w_pow = np.exp(np.arange(b) * log_w)  # w^t
        local = np.cumsum(blocks / w_pow, axis=1)
        local *= (1.0 - w) * w_pow
        carries = np.empty(nb)
        carry, w_b, ends = self.last, w_pow[-1] * w, local[:, -1].tolist()
        for i, end in enumerate(ends):
            carries[i] = carry
            carry = w_b * carry + end
        local += np.outer(carries, w_pow * w)
        ema = local.reshape(-1)[:n]
        self.last = float(ema[-1])
        # Debias: divide by 1 - w^(count + t + 1); only the first points where w^n is not
        # negligible need it.
        m = min(n, max(0, int(40.0 / -log_w) - self.count + 1))
        if m > 0:
            ema[:m] /= 1.0 - np.exp((self.count + 1 + np.arange(m)) * log_w)
        self.count += n
        return ema


def debiased_ema(values: np.ndarray, weight: float) -> np.ndarray:
    """Smooth a whole series (a new array; the input is not changed)."""
    return Ema(weight).update(values)


def debiased_ema_reference(values, weight: float) -> list[float]:
    """The plain loop (TensorBoard's), kept for tests of the vectorised version."""
    last, n, out = 0.0, 0, []
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        n += 1
        out.append(last / (1 - weight**n) if weight else last)
    return out
