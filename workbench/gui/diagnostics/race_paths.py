"""What the race page computes off the GUI thread (the loss grid for the contours and every
racer's path) and reads from it (contour levels, each racer's final loss)."""

from __future__ import annotations

import math

import numpy as np

CONTOURS = 18
MODEL_KEY = "model"


def contour_levels(z: np.ndarray, log: bool) -> tuple[np.ndarray, list[float]]:
    """The values the image and contour lines use (log-compressed for steep valleys) and the
    contour levels, evenly spread over the finite range."""
    lo = float(np.nanmin(z))
    shown = np.log10(z - lo + 1e-3) if log else z
    finite = shown[np.isfinite(shown)]
    qs = np.quantile(finite, np.linspace(0.02, 0.98, CONTOURS)) if finite.size else []
    return shown, sorted(set(float(q) for q in qs))


def grid_size(surface) -> int:
    """Points per side of the loss grid under the contours (a model's loss costs a forward pass)."""
    return 25 if surface.key == MODEL_KEY else 161


def compute_race(surface, racers, steps: int, need_grid: bool, report):
    """On the background thread: the surface's loss grid when `need_grid` (for the contours) and
    every racer's path. `report` gets ("estimate", seconds) first, measured on the surface, then
    ("progress", fraction done) as it goes; when it returns False the work stops (Cancelled)."""
    from workbench.core.diagnostics import Cancelled, race, race_cost

    n = grid_size(surface)
    cost = race_cost(surface, racers, steps, n * n if need_grid else 0)
    if report(("estimate", cost.seconds)) is False:
        raise Cancelled("the race was cancelled")
    share = cost.grid_seconds / cost.seconds if cost.seconds > 0 else 0.0
    grid = None
    if need_grid:
        grid = surface.grid(n, progress=lambda f: report(("progress", f * share)))
    return grid, race(surface, racers, steps=steps, progress=lambda f: report(("progress", share + f * (1 - share))))


def duration_words(seconds: float) -> str:
    """'8 s', '2 min 40 s', '1 h 5 min': a time to wait, rounded as a person would say it."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        m, s = divmod(s, 60)
        return f"{m} min {s} s" if s and m < 10 else f"{m} min"
    h, m = divmod(s // 60, 60)
    return f"{h} h {m} min" if m else f"{h} h"


def final_losses(paths) -> dict[str, float]:
    """name -> last loss (inf when it diverged)."""
    return {p.name: (math.inf if p.diverged_at is not None else float(p.loss[-1])) for p in paths}
