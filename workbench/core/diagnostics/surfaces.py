"""2-D loss surfaces for the optimizer race: the textbook test functions (Rosenbrock, Beale, a
saddle, Rastrigin, an ill-conditioned quadratic). The person's own model's surface is a
ModelSlice (landscape.py) with the same interface:

    surface.loss(p)          a differentiable scalar at p = tensor([x, y])
    surface.grid(n)          (xs, ys, Z) numpy arrays for contour lines (Z[j, i] at xs[i], ys[j])
    surface.x_range, y_range, start, minimum, log_scale, title, description
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

__all__ = ["Surface", "SURFACES"]


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface for the race: its function, where racers start, the plotted box and where its
    minimum is."""
    key: str
    title: str
    description: str
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # elementwise f(x, y)
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    start: tuple[float, float]
    minimum: tuple[float, float] | None
    log_scale: bool = False  # contour levels spaced on a log scale (steep valleys)
    stochastic: bool = False  # mini-batches change the loss (model slices only)

    def loss(self, p: torch.Tensor, batch: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """The loss at p = (x, y), a tensor torch.optim can step on (`batch` and `generator` matter
        only on a model slice)."""
        return self.fn(p[0], p[1])

    def grid(self, n: int = 161, progress: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The loss on an n × n grid over the plotted box: (xs, ys, z) for the contour lines
        (`progress` is for a model slice's grid; this one is one vectorised call)."""
        xs = torch.linspace(*self.x_range, n, dtype=torch.float64)
        ys = torch.linspace(*self.y_range, n, dtype=torch.float64)
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")
        with torch.no_grad():
            z = self.fn(xx, yy)
        return xs.numpy(), ys.numpy(), z.numpy()


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def _saddle(x, y):
    return x ** 2 - y ** 2


def _rastrigin(x, y):
    return 20 + x ** 2 - 10 * torch.cos(2 * math.pi * x) + y ** 2 - 10 * torch.cos(2 * math.pi * y)


_C, _S = math.cos(math.radians(30)), math.sin(math.radians(30))


def _ill_conditioned(x, y):
    u, v = _C * x + _S * y, -_S * x + _C * y  # axes turned 30°: no optimizer gets the axes for free
    return 0.5 * (u ** 2 + 50 * v ** 2)


SURFACES: dict[str, Surface] = {s.key: s for s in (
    Surface("rosenbrock", "Rosenbrock", "A long, curved, flat-bottomed valley: easy to reach, slow to follow "
            "to the minimum at (1, 1). Momentum helps; plain SGD crawls.",
            _rosenbrock, (-2.0, 2.0), (-1.0, 3.0), (-1.5, 2.5), (1.0, 1.0), log_scale=True),
    Surface("beale", "Beale", "Flat plateaus and steep ridges; the minimum is at (3, 0.5). Adaptive methods "
            "(Adam, RMSprop) cope with the very different slopes.",
            _beale, (-4.5, 4.5), (-4.5, 4.5), (0.7, 1.4), (3.0, 0.5), log_scale=True),
    Surface("saddle", "Saddle", "x² − y²: a saddle point at the origin. Started almost on the ridge, plain "
            "gradient descent lingers; momentum and adaptive steps escape faster.",
            _saddle, (-2.0, 2.0), (-2.0, 2.0), (-1.8, 0.001), None),
    Surface("rastrigin", "Rastrigin", "Many local minima around the global one at (0, 0): where an optimizer "
            "ends up depends on its step size and momentum.",
            _rastrigin, (-5.12, 5.12), (-5.12, 5.12), (-3.8, 4.3), (0.0, 0.0)),
    Surface("ill_conditioned", "Ill-conditioned bowl", "A quadratic 50× steeper across than along (condition "
            "number 50), turned 30°: SGD zig-zags across the valley; momentum and adaptive scaling do not.",
            _ill_conditioned, (-3.0, 3.0), (-3.0, 3.0), (-2.5, 2.0), (0.0, 0.0), log_scale=True),
)}
