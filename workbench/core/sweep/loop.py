"""Sweeps: vary spec fields over a search space, run trials in parallel, keep the best.

    for event in run_sweep(spec, space, strategy="tpe", n_trials=20, parallel=2):
        ...   # SweepStarted, TrialStarted, TrialEpoch, TrialFinished, TrialFailed, SweepFinished

The GUI's sweep panel and the CLI consume the same generator (the GUI on a worker thread).
A sweep is an Optuna study (SQLite file `sweeps.db` next to the run store by default, or any
RDB URL) whose user attrs hold the base spec, the space and the settings, so it can be
reopened (`open_sweep`), continued (`continue_sweep`) and joined from other machines
(`join_sweep`, the `workbench sweep-worker` command). Each trial's runs are ordinary runs in
the RunStore with `sweep_id` = the study name, recorded like any run (epochs with step and
elapsed time, events, checkpoints in runs/<id>/), so they can be resumed and branched.

The study lives in the sweep process: it asks for a point (ask/tell), hands its runs to worker
processes (core.execution.WorkerPool), reports each streamed epoch of the first repeat to the
pruner and stops a worker whose trial is pruned. Strategies: grid (every point enqueued in the
study, so other machines share the same grid), random and TPE (seeded). Repeats run the point
with train.seed = base + k; the point's value is the mean over its repeats. One trial's failure
(bad params, a crash, a dead worker) marks that trial failed with its message and the sweep
goes on.

This module runs sweeps (run_sweep, continue_sweep, join_sweep and the loop they share); the
events are in events.py, the study (settings, storage, create/open/list) in study.py, the
metrics a sweep can optimise in metrics.py and a running point's bookkeeping in points.py.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections import deque
from typing import Any, Iterator

from workbench.core.spec import ExperimentSpec, SpecError
from workbench.core.sweep.events import (
    SweepEvent,
    SweepFinished,
    SweepStarted,
    TrialEpoch,
    TrialFailed,
    TrialFinished,
    TrialStarted,
    json_line,
    trial_label,
)
from workbench.core.execution import DEFAULT_TRAIN, Job, WorkerPool, WorkerStartError, default_parallel
from workbench.core.training import EpochEnd, RunRecorded, TerminalEvent
from workbench.core.sweep.metrics import check_metric, spec_task
from workbench.core.sweep.points import mean_metrics, not_needed, Point, set_trial_attr, tell_trial
from workbench.core.sweep.space import SearchSpace, SpaceError, parse_space
from workbench.core.sweep.apply import apply_params, sample_params
from workbench.core.sweep.study import (
    STUDY_ATTR,
    PRUNERS,
    STRATEGIES,
    SweepError,
    SweepRecord,
    SweepSettings,
    best_trial,
    host_and_pid,
    load_study,
    create_sweep,
    default_storage,
    fail_interrupted_trials,
    list_sweeps,
    make_pruner,
    make_sampler,
    open_sweep,
    public_url,
    report_epoch,
    resolve_direction,
)


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


# ---- the sweep loop ----------------------------------------------------------------------------


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
    study, spec, space, settings = load_study(storage, study_name)
    fail_interrupted_trials(study)
    existing = len(study.get_trials(deepcopy=False))
    if settings.strategy == "grid":
        from optuna.trial import TrialState

        waiting = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
        settings.n_trials = existing - waiting + min(n_trials, waiting)
    else:
        settings.n_trials = existing + n_trials
    attrs = dict(study.user_attrs[STUDY_ATTR])
    attrs["settings"] = {**attrs["settings"], "n_trials": settings.n_trials}
    study.set_user_attr(STUDY_ATTR, attrs)
    return _drive(study, storage, spec, space, settings, parallel=parallel or default_parallel(), limit=None,
                  store_path=store_path, control=control, train_target=train_target, threads=threads,
                  existing=existing)


def join_sweep(storage: str, study_name: str, *, parallel: int | None = None, store_path: str | None = None,
               control: SweepControl | None = None, train_target: str = DEFAULT_TRAIN,
               threads: int | None = None, base_dir: str | None = None) -> Iterator[SweepEvent]:
    """Take trials of a sweep started elsewhere until its target is reached (sweep-worker)."""
    study, spec, space, settings = load_study(storage, study_name)
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

    pool = WorkerPool(parallel, train_target=train_target, threads=threads)
    points: dict[int, Point] = {}
    jobs: dict[int, tuple[Point, int]] = {}
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

    def finish(pt: Point) -> Iterator[SweepEvent]:
        points.pop(pt.number, None)
        run_ids = [pt.run_ids[k] for k in sorted(pt.run_ids)]
        duration = pt.run_seconds or (time.monotonic() - pt.started)
        try:
            pt.trial.set_user_attr("run_ids", run_ids)
        except Exception:  # noqa: BLE001
            pass
        if pt.failed is not None and not pt.pruned:
            counts["failed"] += 1
            set_trial_attr(pt.trial, "error", pt.failed)
            tell_trial(study, pt.trial, state=TrialState.FAIL)
            yield TrialFailed(pt.number, pt.failed, pt.params, run_ids, pt.details)
            return
        metrics = mean_metrics(pt.metrics)
        if pt.pruned:
            counts["pruned"] += 1
            tell_trial(study, pt.trial, state=TrialState.PRUNED)
            yield TrialFinished(pt.number, "pruned", pt.reported, metrics, run_ids[0] if run_ids else None,
                                pt.params, run_ids, [pt.values[k] for k in sorted(pt.values)], duration)
            return
        if pt.stopped or len(pt.values) < settings.repeats:
            set_trial_attr(pt.trial, "error", "stopped with the sweep")
            tell_trial(study, pt.trial, state=TrialState.FAIL)
            yield TrialFinished(pt.number, "stopped", None, metrics, run_ids[0] if run_ids else None,
                                pt.params, run_ids, [pt.values[k] for k in sorted(pt.values)], duration)
            return
        values = [pt.values[k] for k in sorted(pt.values)]
        value = statistics.fmean(values)
        set_trial_attr(pt.trial, "metrics", metrics)
        if len(values) > 1:
            set_trial_attr(pt.trial, "values", values)
        tell_trial(study, pt.trial, values=value)
        counts["complete"] += 1
        yield TrialFinished(pt.number, "complete", value, metrics, run_ids[0] if run_ids else None,
                            pt.params, run_ids, values, duration)

    def end_point_early(pt: Point) -> None:
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
                    if not_needed(trial, settings):
                        # another process took the last trial between can_ask() and ask(): the
                        # study keeps exactly its target (this one is told, never trained)
                        set_trial_attr(trial, "error", "not needed: the sweep already has its trials")
                        tell_trial(study, trial, state=TrialState.FAIL)
                        exhausted = True
                        continue
                    for key, value in host_and_pid().items():
                        set_trial_attr(trial, key, value)
                    try:
                        params = sample_params(space, spec, trial)
                        point_spec, params = apply_params(spec, params)
                    except (SpecError, SpaceError, ValueError) as exc:
                        counts["failed"] += 1
                        msg = f"these values make an invalid spec: {exc}"
                        set_trial_attr(trial, "error", msg)
                        tell_trial(study, trial, state=TrialState.FAIL)
                        yield TrialStarted(trial.number, trial._trial_id, dict(trial.params))
                        yield TrialFailed(trial.number, msg, dict(trial.params))
                        continue
                    pt = Point(trial, trial.number, params, point_spec, deque(range(settings.repeats)))
                    points[pt.number] = pt
                    yield TrialStarted(pt.number, trial._trial_id, params)
                    continue
                pt, repeat = job_for
                run_spec = pt.spec
                if settings.repeats > 1:
                    run_spec = run_spec.with_values({"train.seed": pt.spec.train.seed + repeat})
                suffix = f" seed {repeat + 1}/{settings.repeats}" if settings.repeats > 1 else ""
                job = Job(next_job, run_spec.to_dict(), base_dir=settings.base_dir, store_path=store_path,
                          name=f"{study_name} #{trial_label(pt.number)}{suffix}", sweep_id=study_name, tags=("sweep",),
                          train_target=train_target)
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
            for job_id, event, sent_at in messages:
                if job_id not in jobs:
                    continue
                pt, repeat = jobs[job_id]
                if isinstance(event, RunRecorded):
                    pt.run_ids[repeat] = event.run_id
                elif isinstance(event, EpochEnd):
                    logs = dict(event.logs)
                    pt.last_logs[repeat] = logs
                    yield TrialEpoch(pt.number, event.epoch, logs, repeat, pt.run_ids.get(repeat), sent_at)
                    if repeat == 0 and not (pt.pruned or pt.stopped) and settings.pruner != "none":
                        value = logs.get(metric)
                        try:
                            prune = report_epoch(pt.trial, event.epoch, value)
                        except Exception:  # noqa: BLE001 - storage hiccup: keep training
                            prune = False
                        if value is not None and math.isfinite(value):
                            pt.reported = float(value)
                        if prune:
                            pt.pruned = True
                            end_point_early(pt)
                elif isinstance(event, TerminalEvent):
                    del jobs[job_id]
                    pt.running.pop(job_id, None)
                    if pt.run_ended(repeat, event, metric):
                        end_point_early(pt)
                    if not pt.running and not pt.pending:
                        yield from finish(pt)
    finally:
        # Close the pool whether the sweep ended, failed or the consumer went away; runs that
        # were still going are stopped (their epochs are already in the store).
        pool.close()
        for pt in list(points.values()):
            pt.stopped = True
            if pt.failed is None and not pt.pruned:
                set_trial_attr(pt.trial, "error", "stopped with the sweep")
            tell_trial(study, pt.trial, state=TrialState.PRUNED if pt.pruned else TrialState.FAIL)

    status = "failed" if broken else "stopped" if stopping_since is not None else "finished"
    yield SweepFinished(status, best_trial(study, metric), counts["complete"], counts["pruned"], counts["failed"],
                        study_name, broken)


__all__ = [
    "SweepEvent", "SweepStarted", "TrialStarted", "TrialEpoch", "TrialFinished", "TrialFailed", "SweepFinished",
    "SweepControl", "SweepSettings", "SweepError", "SweepRecord", "run_sweep", "continue_sweep", "join_sweep",
    "open_sweep", "list_sweeps", "create_sweep", "default_storage", "resolve_direction", "report_epoch",
    "make_pruner", "make_sampler", "fail_interrupted_trials", "json_line", "STRATEGIES", "PRUNERS",
]
