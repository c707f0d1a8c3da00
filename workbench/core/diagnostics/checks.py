"""The pre-flight check: seconds on the real model and data before a long run, each item pass /
warn / fail in plain words with the fix.

    for result in preflight(spec, base_dir=...):   # CheckResult, one at a time (the app shows each)
        ...

Data checks come first (they need no model), then the model checks on a fresh copy of the
model with the run's initial weights. A check that cannot run reports a failure saying why
instead of stopping the others; a model that cannot be built is reported as the "model" item.
Bad spec or unreadable data raise as training would (SpecError, DataError).
"""

from __future__ import annotations

import time
import traceback
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator

from workbench.core.diagnostics import data_checks, model_checks
from workbench.core.diagnostics.probe import load_prepared, make_probe
from workbench.core.diagnostics.results import CheckResult
from workbench.core.spec import ExperimentSpec

__all__ = ["preflight", "CHECK_TITLES"]

DATA_CHECKS: list[tuple[str, str, Callable]] = [
    ("duplicates", "Duplicated rows", data_checks.duplicate_rows),
    ("target_leakage", "Target leakage", data_checks.target_leakage),
    ("constant_columns", "Constant columns", data_checks.constant_columns),
    ("class_balance", "Class balance", data_checks.class_balance),
]
MODEL_CHECKS: list[tuple[str, str, Callable]] = [
    ("initial_loss", "Initial loss", model_checks.initial_loss),
    ("gradients", "Gradients", model_checks.gradient_flow),
    ("overfit_batch", "Overfit one batch", model_checks.overfit_batch),
    ("input_baseline", "Inputs matter", model_checks.input_baseline),
]
CHECK_TITLES = {key: title for key, title, _ in DATA_CHECKS + MODEL_CHECKS}


def _guarded(key: str, title: str, fn: Callable, arg: Any) -> CheckResult | None:
    t0 = time.perf_counter()
    try:
        return fn(arg)
    except Exception as exc:  # noqa: BLE001 — one broken check must not hide the others
        return CheckResult(key, title, "fail", f"The check could not run: {type(exc).__name__}: {exc}",
                           time.perf_counter() - t0, {"traceback": traceback.format_exc()})


def preflight(spec: ExperimentSpec, *, data: Any = None, base_dir: str | Path | None = None,
              device: str | None = None) -> Iterator[CheckResult]:
    """Run every check on `spec` (its data loaded from base_dir unless `data` is given)."""
    import torch

    from workbench.core.training import DeviceError, ModelError

    prepared = load_prepared(spec, data, base_dir)
    for key, title, fn in DATA_CHECKS:
        result = _guarded(key, title, fn, prepared)
        if result is not None:
            yield result
    t0 = time.perf_counter()
    try:
        probe = make_probe(spec, prepared, device=device)
    except (ModelError, DeviceError) as exc:
        yield CheckResult("model", "Model", "fail", f"The model cannot be built: {exc}", time.perf_counter() - t0)
        return
    rng = torch.get_rng_state()
    try:
        done: dict[str, CheckResult] = {}
        for key, title, fn in MODEL_CHECKS:
            if key == "input_baseline":  # read in the light of overfit one batch (they must not contradict)
                fn = partial(fn, overfit=done.get("overfit_batch"))
            done[key] = _guarded(key, title, fn, probe)
            yield done[key]
    finally:
        torch.set_rng_state(rng)
