"""A sweep's Optuna study: settings, storage (SQLite or any RDB URL), sampler and pruner, creating
a study that holds the base spec, the space and the settings (grid points enqueued), reopening
and listing stored sweeps, and failing the trials a killed sweep process left running."""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from workbench.core.catalog import metric_direction
from workbench.core.locations import user_data_dir
from workbench.core.processes import HOST, proc_start_token, process_alive
from workbench.core.spec import ExperimentSpec, parse_spec
from workbench.core.sweep.grid import spread
from workbench.core.sweep.space import SearchSpace, parse_space
from workbench.core.sweep.grid import expand_grid

T = TypeVar("T")

STRATEGIES = ("grid", "random", "tpe")
PRUNERS = ("none", "median", "halving")
STUDY_ATTR = "workbench"  # study user attr holding {"spec": ..., "space": ..., "settings": ...}


class SweepError(ValueError):
    """A sweep that cannot start (bad settings, unknown study, storage unreachable)."""


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
    """'auto': the metric's direction in the catalog (maximize accuracy, r2, f1, ...; minimize losses)."""
    if direction in ("minimize", "maximize"):
        return direction
    if direction not in ("auto", "min", "max"):
        raise SweepError(f"direction must be auto, minimize or maximize (got {direction!r})")
    if direction in ("min", "max"):
        return direction + "imize"
    return metric_direction(metric) + "imize"


def default_storage(store_path: str | os.PathLike | None = None) -> str:
    """SQLite file `sweeps.db` beside the run store (default store: the user data folder)."""
    if store_path is None:
        folder = user_data_dir()
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
    study.set_user_attr(STUDY_ATTR, {
        "spec": spec.to_dict(), "space": space.to_json(), "settings": asdict(settings) | {"direction": direction},
        "created": time.time(), "version": 1,
    })
    for pt in points:
        study.enqueue_trial(pt, skip_if_exists=False)
    return study


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


def load_study(storage: str, study_name: str):
    optuna = _optuna()
    rdb = open_storage(storage)
    try:
        study = optuna.load_study(study_name=study_name, storage=rdb)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(rdb, include_best_trial=False)]
        raise SweepError(f"no sweep named {study_name!r} in {public_url(storage)}; "
                         f"it has: {', '.join(names) or 'none'}") from None
    attrs = study.user_attrs.get(STUDY_ATTR)
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


def best_of(items: Iterable[T], value: Callable[[T], float | None], direction: str) -> T | None:
    """The item with the best finite value ("minimize" or "maximize"): the one rule for the best
    trial, used by the study and by the app's live trial table alike. None if there is none."""
    scored = [(v, item) for item in items if (v := value(item)) is not None and math.isfinite(v)]
    if not scored:
        return None
    pick = max if direction == "maximize" else min
    return pick(scored, key=lambda pair: pair[0])[1]


def best_trial(study: Any, metric: str) -> dict[str, Any] | None:
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    t = best_of(done, lambda t: t.value, study.direction.name.lower())
    if t is None:
        return None
    run_ids = list(t.user_attrs.get("run_ids", []))
    return {"trial": t.number, "params": dict(t.params), "value": t.value, "metric": metric,
            "run_id": run_ids[0] if run_ids else None, "run_ids": run_ids}


def open_sweep(storage: str, study_name: str) -> SweepRecord:
    """Reopen a stored sweep (for the GUI's sweep panel, or to look at results)."""
    study, spec, space, settings = load_study(storage, study_name)
    return SweepRecord(study_name, storage, spec, space, settings,
                       [_trial_record(t) for t in study.get_trials(deepcopy=False)], best_trial(study, settings.metric))


def list_sweeps(storage: str) -> list[dict[str, Any]]:
    """The Workbench sweeps in a storage: name, created, trial count, metric, best value."""
    optuna = _optuna()
    out = []
    for s in optuna.get_all_study_summaries(open_storage(storage), include_best_trial=True):
        attrs = s.user_attrs.get(STUDY_ATTR)
        if not attrs:
            continue
        out.append({"study": s.study_name, "created": attrs.get("created"), "n_trials": s.n_trials,
                    "metric": attrs["settings"].get("metric"), "direction": attrs["settings"].get("direction"),
                    "best_value": s.best_trial.value if s.best_trial else None})
    return out


def host_and_pid() -> dict[str, Any]:
    """Who runs a trial: this host, this process and its start time (a recycled pid is told apart)."""
    pid = os.getpid()
    return {"host": HOST, "pid": pid, "pid_token": proc_start_token(pid)}


def fail_interrupted_trials(study: Any) -> int:
    """Trials left RUNNING by a sweep process of this host that is gone (killed) -> FAIL."""
    from optuna.trial import TrialState

    n = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        attrs = t.user_attrs
        if attrs.get("host") == HOST and not process_alive(int(attrs.get("pid") or 0), attrs.get("pid_token")):
            try:
                study._storage.set_trial_user_attr(t._trial_id, "error", "interrupted: the sweep process ended")
                study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
                n += 1
            except Exception:  # noqa: BLE001 - another process may have just done it
                pass
    return n
