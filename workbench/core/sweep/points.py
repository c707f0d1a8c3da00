"""One point of a running sweep (an Optuna trial and its repeats in flight) and the small steps
the sweep loop takes with it: averaging repeats, telling the study, recording a dead run."""

from __future__ import annotations

import statistics
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.core.spec import ExperimentSpec

if TYPE_CHECKING:
    from workbench.core.sweep.study import SweepSettings


@dataclass
class Point:
    trial: Any  # optuna.Trial (ask/tell)
    number: int
    params: dict[str, Any]
    spec: ExperimentSpec
    pending: deque = field(default_factory=deque)  # repeats not yet started
    running: dict[int, int] = field(default_factory=dict)  # job_id -> repeat
    values: dict[int, float] = field(default_factory=dict)
    metrics: dict[int, dict[str, float]] = field(default_factory=dict)
    run_ids: dict[int, int] = field(default_factory=dict)
    last_logs: dict[int, dict[str, float]] = field(default_factory=dict)
    reported: float | None = None
    failed: str | None = None
    details: str = ""
    pruned: bool = False
    stopped: bool = False
    started: float = field(default_factory=time.monotonic)
    run_seconds: float = 0.0  # summed over repeats, as measured in the workers


def not_needed(trial: Any, settings: SweepSettings) -> bool:
    """A trial beyond the sweep's target: for grid, one that is not an enqueued grid point; for
    random/TPE, one numbered past n_trials (numbers are given out in order, from 0)."""
    if settings.strategy == "grid":
        fixed = getattr(trial, "_fixed_params", None)
        return fixed is not None and not fixed
    return trial.number >= settings.n_trials


def record_dead_run(store_path: str | None, run_id: int | None, message: str) -> None:
    """The worker died mid-run: its run would read as "interrupted"; say what happened."""
    if store_path is None or run_id is None:
        return
    try:
        from workbench.core.runs import RunStore

        store = RunStore(store_path)
        try:
            store.finish_run(run_id, "failed", {}, 0.0, message)
        finally:
            store.close()
    except Exception:  # noqa: BLE001 - the store is a record; the sweep goes on
        pass


def mean_metrics(per_repeat: dict[int, dict[str, float]]) -> dict[str, float]:
    if not per_repeat:
        return {}
    keys = set.intersection(*(set(m) for m in per_repeat.values()))
    return {k: statistics.fmean(m[k] for m in per_repeat.values()) for k in sorted(keys)}


def set_trial_attr(trial: Any, key: str, value: Any) -> None:
    try:
        trial.set_user_attr(key, value)
    except Exception:  # noqa: BLE001 - a finished trial or a storage hiccup must not end the sweep
        pass


def tell_trial(study: Any, trial: Any, **kwargs: Any) -> None:
    try:
        study.tell(trial, skip_if_finished=True, **kwargs)
    except Exception:  # noqa: BLE001 - e.g. told already by the cleanup path
        pass
