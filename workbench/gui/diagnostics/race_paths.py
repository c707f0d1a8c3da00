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


def compute_race(surface, racers, steps: int, need_grid: bool, report):
    """On the background thread: the surface's loss grid when `need_grid` (for the contours) and
    every racer's path; `report` says which of the two is being computed."""
    from workbench.core.diagnostics import race

    grid = None
    if need_grid:
        report("grid")
        grid = surface.grid(25 if surface.key == MODEL_KEY else 161)
    report("race")
    return grid, race(surface, racers, steps=steps)


def final_losses(paths) -> dict[str, float]:
    """name -> last loss (inf when it diverged)."""
    return {p.name: (math.inf if p.diverged_at is not None else float(p.loss[-1])) for p in paths}
