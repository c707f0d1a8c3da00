"""The optimizer race: optimizers from the catalog, each with its own settings, start from the
same point of a 2-D loss surface and take the same number of steps. Each racer is the real
torch.optim optimizer over one 2-element parameter, so what the race shows is what training
does. On a model slice a racer may take mini-batch steps (`batch` rows a step) to show
gradient noise beside full-batch gradient descent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch

from workbench.core import catalog
from workbench.core.diagnostics.probe import optimizer_step
from workbench.core.diagnostics.results import Cancelled
from workbench.core.spec import OptimizerSpec

__all__ = ["Racer", "RacePath", "RaceCost", "race", "race_cost", "racer_problems", "default_racers", "DEFAULT_RACERS",
           "MODEL_RACERS"]

ESCAPE = 4.0  # a path leaving the plot by this many times its size has diverged


@dataclass(frozen=True)
class Racer:
    """One contestant: a catalog optimizer with its parameters (lr included)."""

    name: str
    optimizer: dict[str, Any]  # {"type": "SGD", "lr": 0.001, "momentum": 0.9, ...}
    batch: int | None = None  # rows per step on a model slice; None = the full batch


@dataclass
class RacePath:
    """One racer's path on a surface: positions and losses per step, and the step it diverged at (if it
    did)."""
    name: str
    xy: np.ndarray  # (steps + 1, 2), the start first
    loss: np.ndarray  # (steps + 1,)
    diverged_at: int | None = None  # the step where it left the surface or became NaN
    final_loss: float = math.nan
    extra: dict[str, Any] = field(default_factory=dict)


def _field(lrs: tuple[float, float, float, float, float, float]) -> tuple[Racer, ...]:
    sgd, momentum, nesterov, adagrad, rmsprop, adam = lrs
    return (
        Racer("SGD", {"type": "SGD", "lr": sgd}),
        Racer("Momentum", {"type": "SGD", "lr": momentum, "momentum": 0.9}),
        Racer("Nesterov", {"type": "SGD", "lr": nesterov, "momentum": 0.9, "nesterov": True}),
        Racer("Adagrad", {"type": "Adagrad", "lr": adagrad}),
        Racer("RMSprop", {"type": "RMSprop", "lr": rmsprop}),
        Racer("Adam", {"type": "Adam", "lr": adam}),
    )


# learning rates at which each racer moves visibly without leaving the plot (checked by a test)
_FIELDS = {
    "rosenbrock": (1e-3, 1e-3, 1e-3, 0.3, 0.01, 0.1),
    "beale": (1e-3, 3e-4, 3e-4, 0.3, 0.01, 0.03),
    "saddle": (1e-3, 3e-4, 3e-4, 0.03, 3e-3, 0.01),
    "rastrigin": (3e-3, 3e-3, 3e-3, 0.3, 0.01, 0.1),
    "ill_conditioned": (0.03, 1e-3, 1e-3, 0.3, 0.01, 0.1),
}
DEFAULT_RACERS = _field(_FIELDS["rosenbrock"])
MODEL_RACERS = (  # on a model slice: full-batch gradient descent against mini-batch noise
    Racer("GD (full batch)", {"type": "SGD", "lr": 0.01}),
    Racer("SGD (8 rows)", {"type": "SGD", "lr": 0.01}, batch=8),
    Racer("Momentum (8 rows)", {"type": "SGD", "lr": 0.01, "momentum": 0.9}, batch=8),
    Racer("Adam (8 rows)", {"type": "Adam", "lr": 0.01}, batch=8),
)


def default_racers(surface_key: str) -> tuple[Racer, ...]:
    """A field of racers with learning rates that suit the surface ("model": a model slice)."""
    if surface_key == "model":
        return MODEL_RACERS
    return _field(_FIELDS.get(surface_key, _FIELDS["rosenbrock"]))


def racer_problems(racer: Racer) -> list[str]:
    """Why a racer's optimizer settings are not usable (catalog validation), in words."""
    opt = dict(racer.optimizer)
    kind = opt.pop("type", None)
    if kind not in catalog.REGISTRY["optimizer"]:
        return [catalog.unknown_entry_message("optimizer", str(kind))]
    problems = [f"{racer.name}: {p or kind}: {m}" for p, m in catalog.param_problems("optimizer", kind, opt)]
    if racer.batch is not None and racer.batch < 1:
        problems.append(f"{racer.name}: batch must be ≥ 1 row (or full)")
    return problems


@dataclass(frozen=True)
class RaceCost:
    """What a race will take, measured on the surface: seconds for a loss grid and for the paths."""

    grid_seconds: float
    race_seconds: float

    @property
    def seconds(self) -> float:
        return self.grid_seconds + self.race_seconds


def race_cost(surface: Any, racers: Sequence[Racer], steps: int, grid_points: int = 0, repeats: int = 3) -> RaceCost:
    """Time a few of the surface's loss evaluations and of each racer's gradient steps (full batch
    or its mini-batch), and scale them to `grid_points` evaluations and `steps` steps per racer:
    an estimate from this machine and this model, not a guess."""
    p = torch.tensor([float(v) for v in surface.start], dtype=torch.float64, requires_grad=True)
    gen = torch.Generator().manual_seed(0)

    def timed(fn) -> float:
        fn()  # the first call pays for warming up
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        return (time.perf_counter() - t0) / repeats

    with torch.no_grad():
        evaluation = timed(lambda: surface.loss(p.detach()))
    gradient = {b: timed(lambda b=b: surface.loss(p, b, gen).backward()) for b in {r.batch for r in racers}}
    return RaceCost(grid_points * evaluation, sum(steps * (gradient[r.batch] + evaluation) for r in racers))


def race(surface: Any, racers: Sequence[Racer], steps: int = 300, start: tuple[float, float] | None = None,
         seed: int = 0, progress: Callable[[float], bool | None] | None = None) -> list[RacePath]:
    """Run every racer `steps` steps from `start` (default: the surface's) and return the paths.
    `progress(fraction done)` about a hundred times over the race; when it returns False the race
    stops (Cancelled). Raises ValueError naming a racer whose settings the catalog rejects."""
    problems = [p for r in racers for p in racer_problems(r)]
    if problems:
        raise ValueError("; ".join(problems))
    x0, y0 = start or surface.start
    (xa, xb), (ya, yb) = surface.x_range, surface.y_range
    wide = ESCAPE * max(xb - xa, yb - ya)
    paths = []
    every = max(1, len(racers) * steps // 100)
    for k, racer in enumerate(racers):
        p = torch.tensor([float(x0), float(y0)], dtype=torch.float64, requires_grad=True)
        opt_spec = OptimizerSpec(**racer.optimizer)
        opt = catalog.make_optimizer(opt_spec, [p])
        gen = torch.Generator().manual_seed(seed + k)
        xy = [(float(x0), float(y0))]
        with torch.no_grad():
            losses = [float(surface.loss(p.detach()))]
        diverged = None
        for step in range(1, steps + 1):
            optimizer_step(opt, lambda: surface.loss(p, racer.batch, gen))  # noqa: B023 (used at once)
            x, y = p.detach().tolist()
            with torch.no_grad():
                value = float(surface.loss(p.detach()))
            if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(value)) or \
                    abs(x - (xa + xb) / 2) > wide or abs(y - (ya + yb) / 2) > wide:
                diverged = step
                break
            xy.append((x, y))
            losses.append(value)
            if progress is not None and step % every == 0 and \
                    progress((k * steps + step) / (len(racers) * steps)) is False:
                raise Cancelled("the race was cancelled")
        paths.append(RacePath(racer.name, np.asarray(xy), np.asarray(losses), diverged, losses[-1]))
    return paths
