"""Sweeps: vary spec fields over a search space, run trials in parallel, keep the best.

    for event in run_sweep(spec, space, strategy="tpe", n_trials=20, parallel=2):
        ...   # SweepStarted, TrialStarted, TrialEpoch, TrialFinished, TrialFailed, SweepFinished

The GUI's sweep panel and the CLI consume the same generator (the GUI on a worker thread).
A sweep is an Optuna study (SQLite file `sweeps.db` next to the run store by default, or any
RDB URL) whose user attrs hold the base spec, the space and the settings, so it can be
reopened (`open_sweep`), continued (`continue_sweep`) and joined from other machines
(`join_sweep`, the `workbench sweep-worker` command). Each trial's runs are ordinary runs in
the RunStore with `sweep_id` = the study name.

The study lives in the sweep process: it asks for a point (ask/tell), hands its runs to worker
processes (sweep_exec.WorkerPool), reports each streamed epoch of the first repeat to the
pruner and stops a worker whose trial is pruned. Strategies: grid (every point enqueued in the
study, so other machines share the same grid), random and TPE (seeded). Repeats run the point
with train.seed = base + k; the point's value is the mean over its repeats. One trial's failure
(bad params, a crash, a dead worker) marks that trial failed with its message and the sweep
goes on.
"""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from workbench.core.spec import ExperimentSpec, SpecError, parse_spec
from workbench.core.sweep_exec import DEFAULT_TRAIN, Job, WorkerPool, WorkerStartError, default_parallel
from workbench.core.sweep_space import SearchSpace, SpaceError, apply_params, expand_grid, parse_space, sample_params

STRATEGIES = ("grid", "random", "tpe")
PRUNERS = ("none", "median", "halving")
_ATTR = "workbench"  # study user attr holding {"spec": ..., "space": ..., "settings": ...}
_MAXIMIZE_HINTS = ("accuracy", "acc", "r2", "f1", "precision", "recall", "auc")


class SweepError(ValueError):
    """A sweep that cannot start (bad settings, unknown study, storage unreachable)."""


# ---- events ------------------------------------------------------------------------------------


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


# ---- control -----------------------------------------------------------------------------------


class SweepControl:
    """Stop or pause a sweep from another thread (the GUI) or a signal handler (the CLI)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._paused = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()


# ---- settings, storage, study ------------------------------------------------------------------


@dataclass
class SweepSettings:
    strategy: str = "tpe"
    pruner: str = "none"
    metric: str = "val_loss"
    direction: str = "auto"
    repeats: int = 1
    seed: int = 0
    n_trials: int = 20  # the study's target; grid: the number of grid points
    base_dir: str | None = None
    grid_points: int = 0  # grid: points in the whole grid

    def resolved_direction(self) -> str:
        return resolve_direction(self.metric, self.direction)


def resolve_direction(metric: str, direction: str = "auto") -> str:
    """'auto': maximize accuracy / r2 / f1 / precision / recall / auc, minimize everything else."""
    if direction in ("minimize", "maximize"):
        return direction
    if direction not in ("auto", "min", "max"):
        raise SweepError(f"direction must be auto, minimize or maximize (got {direction!r})")
    if direction in ("min", "max"):
        return direction + "imize"
    name = metric.lower().removeprefix("val_").removeprefix("test_")
    return "maximize" if any(name == h or name.endswith("_" + h) for h in _MAXIMIZE_HINTS) else "minimize"


def default_storage(store_path: str | os.PathLike | None = None) -> str:
    """SQLite file `sweeps.db` beside the run store (default store: the user data folder)."""
    if store_path is None:
        from platformdirs import user_data_dir

        folder = Path(user_data_dir("workbench"))
    else:
        folder = Path(store_path).expanduser().resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'sweeps.db'}"


def public_url(url: Any) -> str:
    """The storage URL without a password, for display and logs."""
    if not isinstance(url, str):
        return type(url).__name__
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def _optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_storage(url: Any):
    """An Optuna RDB storage. SQLite waits on locks (several processes write one file).
    An Optuna storage object (e.g. InMemoryStorage, for tests) is used as it is."""
    optuna = _optuna()
    if not isinstance(url, str):
        return url
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 60}}
    try:
        return optuna.storages.RDBStorage(url, **kwargs)
    except Exception as exc:  # noqa: BLE001 - sqlalchemy/driver errors vary; say which storage
        raise SweepError(f"cannot open the sweep storage {public_url(url)}: {type(exc).__name__}: {exc}") from None


def make_sampler(strategy: str, seed: int | None, parallel: int = 1):
    optuna = _optuna()
    if strategy == "tpe":
        # constant_liar: running trials count as pessimistic results so parallel workers
        # do not all try the same promising region
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if strategy in ("random", "grid"):
        # grid points are enqueued in the study; random only fills in values a point lacks
        return optuna.samplers.RandomSampler(seed=seed)
    raise SweepError(f"unknown strategy {strategy!r}; use one of: {', '.join(STRATEGIES)}")


def make_pruner(name: str):
    optuna = _optuna()
    if name in ("none", "", None):
        return optuna.pruners.NopPruner()
    if name == "median":
        # prune a trial whose epoch value is worse than the median of earlier trials at the
        # same epoch, once 3 trials finished and from epoch 2 on (epochs are 1-based steps;
        # Optuna prunes from step n_warmup_steps on)
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    raise SweepError(f"unknown pruner {name!r}; use one of: {', '.join(PRUNERS)}")


def report_epoch(trial: Any, epoch: int, value: float | None) -> bool:
    """Report one epoch's metric to the pruner; True when the trial should be pruned.
    A missing or non-finite value reports nothing (NaN runs are stopped by the trainer)."""
    if value is None or not math.isfinite(value):
        return False
    trial.report(float(value), int(epoch))
    return bool(trial.should_prune())


def _new_study_name() -> str:
    return time.strftime("sweep-%Y%m%d-%H%M%S")


def create_sweep(spec: ExperimentSpec, space: SearchSpace | dict, settings: SweepSettings, *,
                 storage: str | None = None, study_name: str | None = None,
                 store_path: str | None = None, parallel: int = 1):
    """A new study holding the spec, space and settings; grid points are enqueued."""
    optuna = _optuna()
    if not isinstance(space, SearchSpace):
        space = parse_space(space, spec)
    if settings.strategy not in STRATEGIES:
        raise SweepError(f"unknown strategy {settings.strategy!r}; use one of: {', '.join(STRATEGIES)}")
    if settings.pruner not in PRUNERS:
        raise SweepError(f"unknown pruner {settings.pruner!r}; use one of: {', '.join(PRUNERS)}")
    if settings.repeats < 1:
        raise SweepError(f"repeats must be ≥ 1 (got {settings.repeats})")
    url = storage or default_storage(store_path)
    name = study_name or _new_study_name()
    rdb = open_storage(url)
    direction = settings.resolved_direction()
    points = expand_grid(space, spec) if settings.strategy == "grid" else []
    if settings.strategy == "grid":
        settings.grid_points = len(points)
        settings.n_trials = min(settings.n_trials, len(points)) if settings.n_trials else len(points)
        points = spread(points, settings.n_trials)
    try:
        study = optuna.create_study(
            storage=rdb, study_name=name, direction=direction,
            sampler=make_sampler(settings.strategy, settings.seed, parallel), pruner=make_pruner(settings.pruner),
        )
    except optuna.exceptions.DuplicatedStudyError:
        raise SweepError(f"a sweep named {name!r} already exists in {public_url(url)}; "
                         "continue it (same --study without a spec) or choose another name") from None
    study.set_user_attr(_ATTR, {
        "spec": spec.to_dict(), "space": space.to_json(), "settings": asdict(settings) | {"direction": direction},
        "created": time.time(), "version": 1,
    })
    for pt in points:
        study.enqueue_trial(pt, skip_if_exists=False)
    return study


def spread(points: list, n: int) -> list:
    """n of the points, evenly strided over their order (first and last included), so a grid
    cut short still covers its whole range instead of only its first corner."""
    k = len(points)
    if n >= k:
        return list(points)
    if n <= 1:
        return list(points[:n])
    return [points[int(i * (k - 1) / (n - 1) + 0.5)] for i in range(n)]


# ---- metrics a sweep can optimise ---------------------------------------------------------------

SWEEP_METRICS = {
    "classification": ("val_loss", "val_accuracy", "val_precision", "val_recall", "val_f1", "loss", "accuracy"),
    "regression": ("val_loss", "val_mae", "val_rmse", "val_r2", "loss"),
}


def spec_task(spec: ExperimentSpec, base_dir: str | None = None, *, load: bool = True) -> str | None:
    """classification | regression for this spec: from data.task, a built-in sample, a loss that
    serves one task only, or (load=True) by loading the data once; None when it cannot be told."""
    if spec.data.task in SWEEP_METRICS:
        return spec.data.task
    source = spec.data.source
    if source.startswith("sample:"):
        try:
            from workbench.core.data import SAMPLES

            info = SAMPLES.get(source.split(":", 1)[1])
            if info is not None and getattr(info, "task", None) in SWEEP_METRICS:
                return info.task
        except Exception:  # noqa: BLE001 - a guess only
            pass
    try:
        from workbench.core import catalog

        tasks = catalog.get_entry("loss", spec.loss.type).info.get("tasks", ())
        if len(tasks) == 1 and tasks[0] in SWEEP_METRICS:
            return tasks[0]
    except Exception:  # noqa: BLE001
        pass
    if load:
        try:
            from workbench.core.data import load_dataset

            return load_dataset(spec.data, base_dir).meta.task
        except Exception:  # noqa: BLE001 - a data problem shows up in the first trial, with its message
            pass
    return None


def check_metric(metric: str, task: str | None) -> None:
    """SweepError unless `metric` is one the runs of this task report."""
    if task in SWEEP_METRICS:
        valid = SWEEP_METRICS[task]
        words = f"a {task} run"
    else:
        valid = tuple(dict.fromkeys(m for ms in SWEEP_METRICS.values() for m in ms))
        words = "any run"
    if metric in valid:
        return
    from workbench.core.catalog import did_you_mean

    other = next((t for t, ms in SWEEP_METRICS.items() if metric in ms), None)
    hint = f"it is a {other} metric; " if other else did_you_mean(metric, valid)
    raise SweepError(f"metric {metric!r} is not reported by {words}; {hint}valid names: {', '.join(valid)}")


@dataclass
class SweepRecord:
    """A stored sweep, for reopening: its spec, space, settings and trials."""

    study: str
    storage: str
    spec: ExperimentSpec
    space: SearchSpace
    settings: SweepSettings
    trials: list[dict[str, Any]]  # see _trial_record
    best: dict[str, Any] | None


def _load(storage: str, study_name: str):
    optuna = _optuna()
    rdb = open_storage(storage)
    try:
        study = optuna.load_study(study_name=study_name, storage=rdb)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(rdb, include_best_trial=False)]
        raise SweepError(f"no sweep named {study_name!r} in {public_url(storage)}; "
                         f"it has: {', '.join(names) or 'none'}") from None
    attrs = study.user_attrs.get(_ATTR)
    if not attrs:
        raise SweepError(f"study {study_name!r} was not made by Workbench (no spec/space stored in it)")
    spec = parse_spec(attrs["spec"])
    space = parse_space(attrs["space"], spec)
    s = dict(attrs["settings"])
    settings = SweepSettings(**{k: s[k] for k in SweepSettings.__dataclass_fields__ if k in s})
    study.sampler = make_sampler(settings.strategy, None)  # a reopened study must not replay the seed
    study.pruner = make_pruner(settings.pruner)
    return study, spec, space, settings


def _trial_record(t: Any) -> dict[str, Any]:
    return {
        "trial": t.number, "state": t.state.name.lower(), "params": dict(t.params), "value": t.value,
        "run_ids": list(t.user_attrs.get("run_ids", [])), "metrics": dict(t.user_attrs.get("metrics", {})),
        "error": t.user_attrs.get("error", ""), "host": t.user_attrs.get("host", ""), "pid": t.user_attrs.get("pid"),
        "intermediate": {int(k): v for k, v in t.intermediate_values.items()},
        "started": t.datetime_start.timestamp() if t.datetime_start else None,
        "finished": t.datetime_complete.timestamp() if t.datetime_complete else None,
    }


def _best(study: Any, metric: str) -> dict[str, Any] | None:
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        return None
    pick = min if study.direction.name == "MINIMIZE" else max
    t = pick(done, key=lambda t: t.value)
    run_ids = list(t.user_attrs.get("run_ids", []))
    return {"trial": t.number, "params": dict(t.params), "value": t.value, "metric": metric,
            "run_id": run_ids[0] if run_ids else None, "run_ids": run_ids}


def open_sweep(storage: str, study_name: str) -> SweepRecord:
    """Reopen a stored sweep (for the GUI's sweep panel, or to look at results)."""
    study, spec, space, settings = _load(storage, study_name)
    return SweepRecord(study_name, storage, spec, space, settings,
                       [_trial_record(t) for t in study.get_trials(deepcopy=False)], _best(study, settings.metric))


def list_sweeps(storage: str) -> list[dict[str, Any]]:
    """The Workbench sweeps in a storage: name, created, trial count, metric, best value."""
    optuna = _optuna()
    out = []
    for s in optuna.get_all_study_summaries(open_storage(storage), include_best_trial=True):
        attrs = s.user_attrs.get(_ATTR)
        if not attrs:
            continue
        out.append({"study": s.study_name, "created": attrs.get("created"), "n_trials": s.n_trials,
                    "metric": attrs["settings"].get("metric"), "direction": attrs["settings"].get("direction"),
                    "best_value": s.best_trial.value if s.best_trial else None})
    return out


# ---- the sweep loop ----------------------------------------------------------------------------


@dataclass
class _Point:
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


def _host_pid() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_interrupted_trials(study: Any) -> int:
    """Trials left RUNNING by a sweep process of this host that is gone (killed) -> FAIL."""
    from optuna.trial import TrialState

    n = 0
    me = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if t.user_attrs.get("host") == me and not _pid_alive(int(t.user_attrs.get("pid", -1))):
            try:
                study._storage.set_trial_user_attr(t._trial_id, "error", "interrupted: the sweep process ended")
                study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
                n += 1
            except Exception:  # noqa: BLE001 - another process may have just done it
                pass
    return n


def run_sweep(spec: ExperimentSpec, space: SearchSpace | dict, *, strategy: str = "tpe", n_trials: int = 20,
              parallel: int | None = None, pruner: str = "none", repeats: int = 1, metric: str = "val_loss",
              direction: str = "auto", seed: int = 0, store_path: str | None = None, storage: str | None = None,
              study_name: str | None = None, base_dir: str | None = None, control: SweepControl | None = None,
              train_target: str = DEFAULT_TRAIN, threads: int | None = None) -> Iterator[SweepEvent]:
    """Start a new sweep and run it; yields SweepEvents (see module doc).

    Raises SpaceError / SweepError before the first event for a bad space or settings; after
    that, problems are events (TrialFailed), never exceptions."""
    if not isinstance(space, SearchSpace):
        space = parse_space(space, spec)
    if parallel is not None and parallel < 0:
        raise SweepError(f"parallel must be ≥ 1 worker (got {parallel})")
    if strategy != "grid" and n_trials < 1:
        raise SweepError(f"the number of trials must be ≥ 1 (got {n_trials})")
    check_metric(metric, spec_task(spec, base_dir))
    parallel = parallel or default_parallel()
    settings = SweepSettings(strategy=strategy, pruner=pruner, metric=metric, direction=direction,
                             repeats=repeats, seed=seed, n_trials=n_trials,
                             base_dir=str(base_dir) if base_dir is not None else None)
    url = storage or default_storage(store_path)
    study = create_sweep(spec, space, settings, storage=url, study_name=study_name, parallel=parallel)
    return _drive(study, url, spec, space, settings, parallel=parallel, limit=None, store_path=store_path,
                  control=control, train_target=train_target, threads=threads, existing=0)


def continue_sweep(storage: str, study_name: str, *, n_trials: int, parallel: int | None = None,
                   store_path: str | None = None, control: SweepControl | None = None,
                   train_target: str = DEFAULT_TRAIN, threads: int | None = None) -> Iterator[SweepEvent]:
    """Run `n_trials` more trials of a stored sweep (its target grows by n_trials)."""
    study, spec, space, settings = _load(storage, study_name)
    fail_interrupted_trials(study)
    existing = len(study.get_trials(deepcopy=False))
    if settings.strategy == "grid":
        from optuna.trial import TrialState

        waiting = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
        settings.n_trials = existing - waiting + min(n_trials, waiting)
    else:
        settings.n_trials = existing + n_trials
    attrs = dict(study.user_attrs[_ATTR])
    attrs["settings"] = {**attrs["settings"], "n_trials": settings.n_trials}
    study.set_user_attr(_ATTR, attrs)
    return _drive(study, storage, spec, space, settings, parallel=parallel or default_parallel(), limit=None,
                  store_path=store_path, control=control, train_target=train_target, threads=threads,
                  existing=existing)


def join_sweep(storage: str, study_name: str, *, parallel: int | None = None, store_path: str | None = None,
               control: SweepControl | None = None, train_target: str = DEFAULT_TRAIN,
               threads: int | None = None, base_dir: str | None = None) -> Iterator[SweepEvent]:
    """Take trials of a sweep started elsewhere until its target is reached (sweep-worker)."""
    study, spec, space, settings = _load(storage, study_name)
    if base_dir is not None:
        settings.base_dir = str(base_dir)
    existing = len(study.get_trials(deepcopy=False))
    return _drive(study, storage, spec, space, settings, parallel=parallel or default_parallel(), limit=None,
                  store_path=store_path, control=control, train_target=train_target, threads=threads,
                  existing=existing)


def _drive(study: Any, url: str, spec: ExperimentSpec, space: SearchSpace, settings: SweepSettings, *,
           parallel: int, limit: int | None, store_path: str | None, control: SweepControl | None,
           train_target: str, threads: int | None, existing: int) -> Iterator[SweepEvent]:
    from optuna.trial import TrialState

    control = control or SweepControl()
    metric = settings.metric
    direction = settings.resolved_direction()
    study_name = study.study_name
    yield SweepStarted(study_name, public_url(url), settings.strategy, settings.pruner, metric, direction,
                       settings.n_trials, parallel, settings.repeats, space.to_json(), existing,
                       settings.grid_points)

    pool = WorkerPool(parallel, train_target=train_target, store_path=store_path, threads=threads)
    points: dict[int, _Point] = {}
    jobs: dict[int, tuple[_Point, int]] = {}
    next_job = 0
    counts = {"complete": 0, "pruned": 0, "failed": 0}
    stopping_since: float | None = None
    paused = False
    exhausted = False
    asked = 0
    broken = ""

    def can_ask() -> bool:
        nonlocal exhausted
        if exhausted or (limit is not None and asked >= limit):
            return False
        all_trials = study.get_trials(deepcopy=False)
        if settings.strategy == "grid":
            waiting = any(t.state == TrialState.WAITING for t in all_trials)
            exhausted = not waiting
        else:
            exhausted = sum(1 for t in all_trials if t.state != TrialState.WAITING) >= settings.n_trials
        return not exhausted

    def finish(pt: _Point) -> Iterator[SweepEvent]:
        points.pop(pt.number, None)
        run_ids = [pt.run_ids[k] for k in sorted(pt.run_ids)]
        duration = pt.run_seconds or (time.monotonic() - pt.started)
        try:
            pt.trial.set_user_attr("run_ids", run_ids)
        except Exception:  # noqa: BLE001
            pass
        if pt.failed is not None and not pt.pruned:
            counts["failed"] += 1
            _safe_attr(pt.trial, "error", pt.failed)
            _tell(study, pt.trial, state=TrialState.FAIL)
            yield TrialFailed(pt.number, pt.failed, pt.params, run_ids, pt.details)
            return
        metrics = _mean_metrics(pt.metrics)
        if pt.pruned:
            counts["pruned"] += 1
            _tell(study, pt.trial, state=TrialState.PRUNED)
            yield TrialFinished(pt.number, "pruned", pt.reported, metrics, run_ids[0] if run_ids else None,
                                pt.params, run_ids, [pt.values[k] for k in sorted(pt.values)], duration)
            return
        if pt.stopped or len(pt.values) < settings.repeats:
            _safe_attr(pt.trial, "error", "stopped with the sweep")
            _tell(study, pt.trial, state=TrialState.FAIL)
            yield TrialFinished(pt.number, "stopped", None, metrics, run_ids[0] if run_ids else None,
                                pt.params, run_ids, [pt.values[k] for k in sorted(pt.values)], duration)
            return
        values = [pt.values[k] for k in sorted(pt.values)]
        value = statistics.fmean(values)
        _safe_attr(pt.trial, "metrics", metrics)
        if len(values) > 1:
            _safe_attr(pt.trial, "values", values)
        _tell(study, pt.trial, values=value)
        counts["complete"] += 1
        yield TrialFinished(pt.number, "complete", value, metrics, run_ids[0] if run_ids else None,
                            pt.params, run_ids, values, duration)

    def end_point_early(pt: _Point) -> None:
        pt.pending.clear()
        for job_id in pt.running:
            pool.stop_job(job_id)

    pool.start()
    try:
        while True:
            # ---- control ---------------------------------------------------------------------
            if control.stop_requested and stopping_since is None:
                stopping_since = time.monotonic()
                for pt in list(points.values()):
                    pt.stopped = True
                    end_point_early(pt)
                if paused:
                    pool.resume()  # a paused run must wake up to stop
                    paused = False
            if stopping_since is None and control.paused != paused:
                paused = control.paused
                pool.pause() if paused else pool.resume()
            for pt in [p for p in points.values() if not p.running and not p.pending]:
                yield from finish(pt)  # ended (stopped, pruned, failed) before any run started
            if stopping_since is not None and time.monotonic() - stopping_since > 15:
                for job_id in list(jobs):
                    pool.kill_job(job_id)  # runs that ignore stop: poll() reports them as died
                stopping_since = time.monotonic()

            # ---- hand out work ---------------------------------------------------------------
            while stopping_since is None and not paused and pool.idle():
                job_for = next(((pt, pt.pending.popleft()) for pt in sorted(points.values(), key=lambda p: p.number)
                                if pt.pending), None)
                if job_for is None:
                    if not can_ask():
                        break
                    trial = study.ask()
                    asked += 1
                    if _not_needed(trial, settings):
                        # another process took the last trial between can_ask() and ask(): the
                        # study keeps exactly its target (this one is told, never trained)
                        _safe_attr(trial, "error", "not needed: the sweep already has its trials")
                        _tell(study, trial, state=TrialState.FAIL)
                        exhausted = True
                        continue
                    for key, value in _host_pid().items():
                        _safe_attr(trial, key, value)
                    try:
                        params = sample_params(space, spec, trial)
                        point_spec, params = apply_params(spec, params)
                    except (SpecError, SpaceError, ValueError) as exc:
                        counts["failed"] += 1
                        msg = f"these values make an invalid spec: {exc}"
                        _safe_attr(trial, "error", msg)
                        _tell(study, trial, state=TrialState.FAIL)
                        yield TrialStarted(trial.number, trial._trial_id, dict(trial.params))
                        yield TrialFailed(trial.number, msg, dict(trial.params))
                        continue
                    pt = _Point(trial, trial.number, params, point_spec, deque(range(settings.repeats)))
                    points[pt.number] = pt
                    yield TrialStarted(pt.number, trial._trial_id, params)
                    continue
                pt, repeat = job_for
                run_spec = pt.spec
                if settings.repeats > 1:
                    run_spec = run_spec.with_values({"train.seed": pt.spec.train.seed + repeat})
                suffix = f" seed {repeat + 1}/{settings.repeats}" if settings.repeats > 1 else ""
                job = Job(next_job, pt.number, repeat, run_spec.to_json(indent=0),
                          f"{study_name} #{pt.number}{suffix}", study_name, settings.base_dir)
                next_job += 1
                jobs[job.job_id] = (pt, repeat)
                pt.running[job.job_id] = repeat
                pool.submit(job)

            if not jobs and not points and (stopping_since is not None or not can_ask()):
                break
            if not jobs and paused:
                time.sleep(0.05)

            # ---- results ---------------------------------------------------------------------
            try:
                messages = pool.poll(0.05)
            except WorkerStartError as exc:
                broken = str(exc)
                for pt in list(points.values()):
                    pt.failed = pt.failed or broken
                    pt.running.clear()
                    pt.pending.clear()
                    yield from finish(pt)
                jobs.clear()
                break
            for msg in messages:
                kind, job_id = msg[0], msg[1]
                if job_id not in jobs:
                    continue
                pt, repeat = jobs[job_id]
                if kind == "requeue":
                    del jobs[job_id]
                    pt.running.pop(job_id, None)
                    pt.pending.appendleft(repeat)
                elif kind == "started":
                    if msg[2] is not None:
                        pt.run_ids[repeat] = msg[2]
                elif kind == "epoch":
                    _, _, epoch, logs, sent_at = msg
                    pt.last_logs[repeat] = logs
                    yield TrialEpoch(pt.number, epoch, logs, repeat, pt.run_ids.get(repeat), sent_at)
                    if repeat == 0 and not (pt.pruned or pt.stopped) and settings.pruner != "none":
                        value = logs.get(metric)
                        try:
                            prune = report_epoch(pt.trial, epoch, value)
                        except Exception:  # noqa: BLE001 - storage hiccup: keep training
                            prune = False
                        if value is not None and math.isfinite(value):
                            pt.reported = float(value)
                        if prune:
                            pt.pruned = True
                            end_point_early(pt)
                elif kind in ("done", "died"):
                    del jobs[job_id]
                    pt.running.pop(job_id, None)
                    if kind == "died":
                        status, metrics, message, details = "failed", {}, msg[2], ""
                        _record_dead_run(store_path, pt.run_ids.get(repeat), message)
                    else:
                        _, _, status, metrics, message, details, run_seconds = msg
                        pt.run_seconds += run_seconds
                    if status == "failed":
                        if pt.failed is None and not (pt.pruned or pt.stopped):
                            pt.failed = message or "the run failed"
                            pt.details = details
                            end_point_early(pt)
                    elif status == "stopped" and not (pt.pruned or pt.stopped):
                        # stopped by the trainer itself (NaN loss): no usable value
                        if pt.failed is None:
                            pt.failed = message or "the run stopped before finishing"
                            end_point_early(pt)
                    elif status == "finished":
                        pt.metrics[repeat] = metrics
                        value = metrics.get(metric, pt.last_logs.get(repeat, {}).get(metric))
                        if value is None or not math.isfinite(value):
                            have = sorted(set(metrics) | set(pt.last_logs.get(repeat, {})))
                            if pt.failed is None:
                                pt.failed = (f"the run reported no finite {metric!r} (got {value!r}); "
                                             f"it has: {', '.join(have) or 'nothing'}. Choose one with --metric")
                                end_point_early(pt)
                        else:
                            pt.values[repeat] = float(value)
                    if not pt.running and not pt.pending:
                        yield from finish(pt)
    finally:
        # Close the pool whether the sweep ended, failed or the consumer went away; runs that
        # were still going are stopped (their epochs are already in the store).
        pool.close()
        for pt in list(points.values()):
            pt.stopped = True
            if pt.failed is None and not pt.pruned:
                _safe_attr(pt.trial, "error", "stopped with the sweep")
            _tell(study, pt.trial, state=TrialState.PRUNED if pt.pruned else TrialState.FAIL)

    status = "failed" if broken else "stopped" if stopping_since is not None else "finished"
    yield SweepFinished(status, _best(study, metric), counts["complete"], counts["pruned"], counts["failed"],
                        study_name, broken)


def _not_needed(trial: Any, settings: SweepSettings) -> bool:
    """A trial beyond the sweep's target: for grid, one that is not an enqueued grid point; for
    random/TPE, one numbered past n_trials (numbers are given out in order, from 0)."""
    if settings.strategy == "grid":
        fixed = getattr(trial, "_fixed_params", None)
        return fixed is not None and not fixed
    return trial.number >= settings.n_trials


def _record_dead_run(store_path: str | None, run_id: int | None, message: str) -> None:
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


def _mean_metrics(per_repeat: dict[int, dict[str, float]]) -> dict[str, float]:
    if not per_repeat:
        return {}
    keys = set.intersection(*(set(m) for m in per_repeat.values()))
    return {k: statistics.fmean(m[k] for m in per_repeat.values()) for k in sorted(keys)}


def _safe_attr(trial: Any, key: str, value: Any) -> None:
    try:
        trial.set_user_attr(key, value)
    except Exception:  # noqa: BLE001 - a finished trial or a storage hiccup must not end the sweep
        pass


def _tell(study: Any, trial: Any, **kwargs: Any) -> None:
    try:
        study.tell(trial, skip_if_finished=True, **kwargs)
    except Exception:  # noqa: BLE001 - e.g. told already by the cleanup path
        pass


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


__all__ = [
    "SweepEvent", "SweepStarted", "TrialStarted", "TrialEpoch", "TrialFinished", "TrialFailed", "SweepFinished",
    "SweepControl", "SweepSettings", "SweepError", "SweepRecord", "run_sweep", "continue_sweep", "join_sweep",
    "open_sweep", "list_sweeps", "create_sweep", "default_storage", "resolve_direction", "report_epoch",
    "make_pruner", "make_sampler", "fail_interrupted_trials", "json_line", "STRATEGIES", "PRUNERS",
]
