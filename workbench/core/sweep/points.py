"""One point of a running sweep (an Optuna trial and its repeats in flight) and the small steps
the sweep loop takes with it: taking a run's outcome, averaging repeats, telling the study."""

from __future__ import annotations

import math
import statistics
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.core.spec import ExperimentSpec
from workbench.core.training import RunFailed, RunStopped, TerminalEvent

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

    def run_ended(self, repeat: int, event: TerminalEvent, metric: str) -> bool:
        """Take the terminal event of one of the point's runs; True when its other runs should
        stop (the point failed: a failed run, a run the trainer stopped, no usable value)."""
        if isinstance(event, RunFailed):
            if self.failed is None and not (self.pruned or self.stopped):
                self.failed, self.details = event.message or "the run failed", event.details
                return True
            return False
        self.run_seconds += event.duration
        if isinstance(event, RunStopped):
            if self.failed is None and not (self.pruned or self.stopped):
                # stopped by the trainer itself (NaN loss): no usable value
                self.failed = event.reason or "the run stopped before finishing"
                return True
            return False
        metrics = {k: float(v) for k, v in event.metrics.items() if isinstance(v, (int, float))}
        self.metrics[repeat] = metrics
        value = metrics.get(metric, self.last_logs.get(repeat, {}).get(metric))
        if value is not None and math.isfinite(value):
            self.values[repeat] = float(value)
            return False
        if self.failed is None:
            have = sorted(set(metrics) | set(self.last_logs.get(repeat, {})))
            self.failed = (f"the run reported no finite {metric!r} (got {value!r}); "
                           f"it has: {', '.join(have) or 'nothing'}. Choose one with --metric")
            return True
        return False


def not_needed(trial: Any, settings: SweepSettings) -> bool:
    """A trial beyond the sweep's target: for grid, one that is not an enqueued grid point; for
    random/TPE, one numbered past n_trials (numbers are given out in order, from 0)."""
    if settings.strategy == "grid":
        fixed = getattr(trial, "_fixed_params", None)
        return fixed is not None and not fixed
    return trial.number >= settings.n_trials


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
