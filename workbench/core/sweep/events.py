"""What a sweep yields: SweepStarted, TrialStarted, TrialEpoch, TrialFinished, TrialFailed and
SweepFinished (the GUI's sweep panel and the CLI consume the same events), and json_line, the
CLI's --json object for an event."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def trial_label(number: int) -> str:
    """The number a person reads for a trial: counted from 1. Optuna counts from 0, and that is
    what is stored and what --json gives; only what people read is shifted."""
    return str(int(number) + 1)


@dataclass(frozen=True)
class SweepEvent:
    def to_dict(self) -> dict[str, Any]:
        return {"event": type(self).__name__, **asdict(self)}


@dataclass(frozen=True)
class SweepStarted(SweepEvent):
    study: str
    storage: str  # URL (credentials removed)
    strategy: str
    pruner: str
    metric: str
    direction: str  # "minimize" | "maximize"
    n_trials: int  # the study's target number of trials
    parallel: int
    repeats: int
    space: dict[str, Any]
    existing: int  # trials already in the study (reopened / joined)
    grid_points: int = 0  # grid: points in the whole grid (n_trials may run a spread-out subset)


@dataclass(frozen=True)
class TrialStarted(SweepEvent):
    trial: int  # the Optuna trial number (unique within the study)
    trial_id: int  # Optuna's storage-wide id
    params: dict[str, Any]


@dataclass(frozen=True)
class TrialEpoch(SweepEvent):
    trial: int
    epoch: int
    logs: dict[str, float]
    repeat: int = 0
    run_id: int | None = None
    sent_at: float = 0.0  # worker wall clock when the epoch ended (for delay measurements)


@dataclass(frozen=True)
class TrialFinished(SweepEvent):
    trial: int
    status: str  # "complete" | "pruned" | "stopped"
    value: float | None  # mean over repeats (pruned: last reported value)
    metrics: dict[str, float]  # final metrics, mean over repeats
    run_id: int | None  # the first repeat's run
    params: dict[str, Any] = field(default_factory=dict)
    run_ids: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)  # per repeat
    duration: float = 0.0  # seconds of training, summed over repeats


@dataclass(frozen=True)
class TrialFailed(SweepEvent):
    trial: int
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    run_ids: list[int] = field(default_factory=list)
    details: str = ""


@dataclass(frozen=True)
class SweepFinished(SweepEvent):
    status: str  # "finished" | "stopped" | "failed"
    best: dict[str, Any] | None  # {"trial", "params", "value", "metric", "run_id", "run_ids"}
    n_complete: int = 0
    n_pruned: int = 0
    n_failed: int = 0
    study: str = ""
    message: str = ""  # why a sweep "failed" (its workers could not start)


def json_line(event: SweepEvent) -> dict[str, Any] | None:
    """The CLI's --json object for an event (one per finished trial, and the final one)."""
    if isinstance(event, TrialFinished):
        return {"trial": event.trial, "status": event.status, "value": event.value, "params": event.params,
                "metrics": event.metrics, "run_id": event.run_id, "run_ids": event.run_ids,
                "values": event.values, "duration": round(event.duration, 3)}
    if isinstance(event, TrialFailed):
        return {"trial": event.trial, "status": "failed", "message": event.message, "params": event.params,
                "run_ids": event.run_ids}
    if isinstance(event, SweepFinished):
        return {"status": event.status, "best": event.best, "study": event.study, "complete": event.n_complete,
                "pruned": event.n_pruned, "failed": event.n_failed}
    return None
