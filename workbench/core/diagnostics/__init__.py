"""Diagnostics: the pre-flight check, the learning-rate range finder, loss surfaces and the
optimizer race. (The health monitor runs inside every training run, so it lives in training.)

    for result in preflight(spec, base_dir=...): ...        # CheckResult: pass / warn / fail
    found = find_lr(spec, base_dir=...)                      # LRFinderResult: suggestion, steepest, minimum
    paths = race(SURFACES["rosenbrock"], racers, steps=300)  # optimizers on a 2-D loss surface
    surface = run_slice(store, 7)                            # a finished run's model, for the race

The result types load without torch; the names that need it load on first use (PEP 562), as in
the training package.
"""

from __future__ import annotations

from workbench.core.diagnostics.results import (
    STATUSES,
    Cancelled,
    CheckResult,
    Status,
    worst_status,
)
from workbench.core.lazy import lazy_attributes

# name -> submodule; these import torch, so they load when first asked for
_NEEDS_TORCH = {
    "preflight": "checks", "CHECK_TITLES": "checks",
    "majority_baseline": "data_checks",
    "find_lr": "lr_finder", "find_lr_steps": "lr_finder", "lr_range_steps": "lr_finder",
    "lr_range_test": "lr_finder", "suggestions": "lr_finder",
    "valley": "lr_finder",
    "LRFinderResult": "lr_finder", "LRFinderError": "lr_finder", "LRFinderCancelled": "lr_finder",
    "Surface": "surfaces", "SURFACES": "surfaces",
    "Racer": "racing", "RacePath": "racing", "race": "racing", "racer_problems": "racing", "DEFAULT_RACERS": "racing",
    "MODEL_RACERS": "racing", "default_racers": "racing", "RaceCost": "racing", "race_cost": "racing",
    "ModelSlice": "landscape", "model_slice": "landscape", "run_slice": "landscape", "filter_normalized_direction": "landscape",
    "Probe": "probe", "make_probe": "probe",
}

__all__ = ["CheckResult", "Cancelled", "Status", "STATUSES", "worst_status", *_NEEDS_TORCH]


__getattr__ = lazy_attributes(__name__, globals(), _NEEDS_TORCH)
