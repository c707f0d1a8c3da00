"""Repeated runs (same spec, different seeds): mean ± std curves, and whether two groups differ
by more than their seed noise (Welch's t-test, with the t distribution computed here so core
needs no scipy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Group:
    """Repeated runs of one configuration: a label and each run's epoch logs."""

    label: str
    runs: list[list[dict]] = field(default_factory=list)


def metric_keys(runs_epoch_logs: Sequence[Sequence[dict]]) -> list[str]:
    """Numeric log keys (other than "epoch") in the order first seen, val_ keys first."""
    keys: dict[str, None] = {}
    for run in runs_epoch_logs:
        for logs in run:
            for k, v in logs.items():
                if k != "epoch" and isinstance(v, (int, float)) and not isinstance(v, bool):
                    keys.setdefault(k)
    return sorted(keys, key=lambda k: not k.startswith("val_"))


def per_run_values(runs_epoch_logs: Sequence[Sequence[dict]], key: str, *,
                   higher_is_better: bool, reduce: str = "best") -> list[float]:
    """One number per run for comparing groups: its best (or "final") finite value of `key`."""
    out = []
    for run in runs_epoch_logs:
        values = [float(l[key]) for l in run if l.get(key) is not None and math.isfinite(l[key])]
        if values:
            out.append(values[-1] if reduce == "final" else (max(values) if higher_is_better else min(values)))
    return out


def group_stats(runs_epoch_logs: Sequence[Sequence[dict]], key: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-epoch (epochs, mean, std, n) of `key` over repeated runs.

    Each run is a list of epoch logs ({"epoch": 1, "val_loss": ...}); runs may have different
    lengths (early stopping), so each epoch's statistics cover the runs that reached it with a
    finite value, and `n` says how many. `std` is the sample std (ddof=1), 0 where n == 1.
    """
    per_epoch: dict[int, list[float]] = {}
    for run in runs_epoch_logs:
        for i, logs in enumerate(run):
            value = logs.get(key)
            if value is None:
                continue
            value = float(value)
            if not math.isfinite(value):
                continue
            epoch = int(logs.get("epoch", i + 1))
            per_epoch.setdefault(epoch, []).append(value)
    epochs = np.array(sorted(per_epoch), dtype=float)
    mean = np.empty(len(epochs))
    std = np.zeros(len(epochs))
    n = np.empty(len(epochs), dtype=int)
    for j, epoch in enumerate(epochs):
        values = np.asarray(per_epoch[int(epoch)])
        mean[j] = values.mean()
        n[j] = len(values)
        if len(values) > 1:
            std[j] = values.std(ddof=1)
    return epochs, mean, std, n


# ---- t distribution ------------------------------------------------------------------------

def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    # Modified Lentz's method (Numerical Recipes, betacf); converges fast for x < (a+1)/(a+b+2).
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be in [0, 1] (got {x})")
    if x in (0.0, 1.0):
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t distribution with `df` (> 0, may be fractional) degrees of freedom."""
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))  # P(T > |t|)
    return 1.0 - tail if t > 0 else tail


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|)."""
    if math.isinf(t):
        return 0.0
    return betainc(df / 2.0, 0.5, df / (df + t * t))


# ---- comparing two groups ------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    diff: float            # mean(a) - mean(b)
    pooled_std: float      # the seed noise: pooled std of the per-seed values
    se: float              # standard error of `diff` (Welch)
    t: float
    df: float
    p_value: float | None  # None when a group has fewer than 2 values
    significant: bool
    text: str


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1e-3 or abs(v) >= 1e4 else f"{v:.3f}".rstrip("0").rstrip(".") or "0"


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def compare_groups(a_values: Sequence[float], b_values: Sequence[float], *,
                   higher_is_better: bool = True, alpha: float = 0.05,
                   labels: tuple[str, str] = ("A", "B")) -> Comparison:
    """Welch's t-test on one final (or best) metric per seed: is A vs B more than seed noise?

    `text` reads e.g. "A is better by 0.031 ± 0.012 (p = 0.02): larger than seed noise" or
    "difference 0.004 is within seed noise (p = 0.61)"; ± is the standard error of the difference.
    """
    a = np.asarray([v for v in a_values if v is not None and math.isfinite(v)], dtype=float)
    b = np.asarray([v for v in b_values if v is not None and math.isfinite(v)], dtype=float)
    la, lb = labels
    if len(a) < 2 or len(b) < 2:
        diff = float(a.mean() - b.mean()) if len(a) and len(b) else math.nan
        return Comparison(diff, math.nan, math.nan, math.nan, math.nan, None, False,
                          "needs at least 2 seeds per group to compare with seed noise "
                          f"({la}: {len(a)}, {lb}: {len(b)})")
    na, nb = len(a), len(b)
    va, vb = float(a.var(ddof=1)), float(b.var(ddof=1))
    diff = float(a.mean() - b.mean())
    pooled = math.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
    se2 = va / na + vb / nb
    se = math.sqrt(se2)
    if se == 0.0:
        t = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        df = float(na + nb - 2)
        p = 1.0 if diff == 0 else 0.0
    else:
        t = diff / se
        df = float(se2) ** 2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
        p = t_two_sided_p(t, df)
    significant = bool(p < alpha)
    if significant:
        a_better = (diff > 0) == higher_is_better
        better, worse = (la, lb) if a_better else (lb, la)
        text = (f"{better} is better than {worse} by {_fmt(abs(diff))} ± {_fmt(se)} "
                f"({_fmt_p(p)}): larger than seed noise")
    else:
        text = f"difference {_fmt(abs(diff))} is within seed noise ({_fmt_p(p)})"
    return Comparison(diff, pooled, se, t, df, p, significant, text)
