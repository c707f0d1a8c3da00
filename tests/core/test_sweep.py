"""Sweeps: studies, strategies, pruning decisions, the parallel executor, failure and kill paths.

Trials that need no real training run the scripted trainer in sweep_fake_trainer.py (in the
worker processes), so values and curves are known; its workers never import torch, so they are
ready in well under a second. One test runs the real trainer (torch in the worker, the worker's
data cache) on a tiny problem. Scripted delays are as short as each test's timing allows.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from workbench.core.runs import RunStore
from workbench.core.spec import parse_spec
from workbench.core.sweep import (
    SweepControl,
    SweepFinished,
    SweepSettings,
    SweepStarted,
    TrialEpoch,
    TrialFailed,
    TrialFinished,
    continue_sweep,
    create_sweep,
    make_pruner,
    open_sweep,
    report_epoch,
    resolve_direction,
    run_sweep,
)
from workbench.core.sweep import parse_space
from workbench.core.sweep import sample_params

FAKE = str(Path(__file__).with_name("sweep_fake_trainer.py")) + ":train"
sys.path.insert(0, str(Path(__file__).parent))
from sweep_fake_trainer import curve  # noqa: E402


def fake_spec(directives: str = "", epochs: int = 4):
    return parse_spec({"name": f"fake {directives}", "train": {"epochs": epochs},
                       "model": {"layers": [{"type": "Linear", "out_features": "auto"}]},
                       "optimizer": {"type": "Adam", "lr": 0.01}})


def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'sweeps.db'}"


def collect(events):
    return list(events)


def of(events, cls):
    return [e for e in events if isinstance(e, cls)]


# ---- studies, strategies, directions (no workers) ----------------------------------------------


def test_direction_auto():
    assert resolve_direction("val_loss") == "minimize"
    assert resolve_direction("val_accuracy") == "maximize"
    assert resolve_direction("val_r2") == "maximize"
    assert resolve_direction("val_rmse") == "minimize"
    assert resolve_direction("val_accuracy", "minimize") == "minimize"


def test_study_creation_and_reopen(tmp_path):
    spec = fake_spec()
    space = {"optimizer.lr": {"log_uniform": [0.001, 0.1]}, "optimizer.type": {"choices": ["Adam", "SGD"]}}
    settings = SweepSettings(strategy="random", metric="val_accuracy", n_trials=7, repeats=2, seed=3)
    study = create_sweep(spec, space, settings, storage=url(tmp_path), study_name="s1")
    assert study.direction.name == "MAXIMIZE"
    rec = open_sweep(url(tmp_path), "s1")
    assert rec.spec == spec and rec.space.to_json() == parse_space(space, spec).to_json()
    assert (rec.settings.strategy, rec.settings.metric, rec.settings.n_trials, rec.settings.repeats) == \
        ("random", "val_accuracy", 7, 2)
    assert rec.trials == [] and rec.best is None
    with pytest.raises(ValueError, match="no sweep named 'nope'.*it has: s1"):
        open_sweep(url(tmp_path), "nope")
    with pytest.raises(ValueError, match="already exists"):
        create_sweep(spec, space, settings, storage=url(tmp_path), study_name="s1")


def test_random_and_tpe_sampling_is_seeded(tmp_path):
    spec = fake_spec()
    space = parse_space({"optimizer.lr": {"log_uniform": [0.001, 0.1]}, "train.batch_size": {"choices": [16, 32, 64]}}, spec)

    def draws(strategy, seed, name):
        study = create_sweep(spec, space, SweepSettings(strategy=strategy, seed=seed, n_trials=12),
                             storage=optuna.storages.InMemoryStorage(), study_name=name)
        out = []
        for i in range(12):
            t = study.ask()
            out.append(sample_params(space, spec, t))
            study.tell(t, i * 0.1)
        return out

    for strategy in ("random", "tpe"):
        a, b, c = draws(strategy, 1, f"{strategy}a"), draws(strategy, 1, f"{strategy}b"), draws(strategy, 2, f"{strategy}c")
        assert a == b and a != c
        assert all(0.001 <= p["optimizer.lr"] <= 0.1 and p["train.batch_size"] in (16, 32, 64) for p in a)


def test_grid_points_are_enqueued_in_the_study(tmp_path):
    spec = fake_spec()
    space = {"optimizer.lr": {"choices": [0.01, 0.02]}, "optimizer.type": {"choices": ["Adam", "SGD"]},
             "optimizer.momentum": {"choices": [0.0, 0.5]}}
    study = create_sweep(spec, space, SweepSettings(strategy="grid", n_trials=0), storage=url(tmp_path), study_name="g")
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert len(waiting) == 2 + 4  # Adam × 2 lr; SGD × 2 lr × 2 momentum
    assert open_sweep(url(tmp_path), "g").settings.n_trials == 6


def test_grid_subset_is_spread_over_the_grid(tmp_path):
    from workbench.core.sweep import spread

    assert spread(list(range(10)), 3) == [0, 5, 9] and spread(list(range(10)), 10) == list(range(10))
    assert spread(list(range(4)), 1) == [0] and spread(list(range(7)), 4) == [0, 2, 4, 6]
    spec = fake_spec()
    space = {"optimizer.lr": {"choices": [0.01, 0.02, 0.03, 0.04, 0.05]}, "train.batch_size": {"choices": [16, 32]}}
    settings = SweepSettings(strategy="grid", n_trials=3)
    study = create_sweep(spec, space, settings, storage=optuna.storages.InMemoryStorage(), study_name="cut")
    waiting = [t.system_attrs["fixed_params"] for t in study.get_trials(states=(TrialState.WAITING,))]
    assert waiting == [{"optimizer.lr": 0.01, "train.batch_size": 16}, {"optimizer.lr": 0.03, "train.batch_size": 32},
                       {"optimizer.lr": 0.05, "train.batch_size": 32}]
    assert (settings.n_trials, settings.grid_points) == (3, 10)


def test_trials_past_the_target_are_not_needed(tmp_path):
    from workbench.core.sweep.points import not_needed

    spec = fake_spec()
    settings = SweepSettings(strategy="random", n_trials=2)
    study = create_sweep(spec, {"optimizer.lr": {"log_uniform": [0.001, 0.1]}}, settings,
                         storage=optuna.storages.InMemoryStorage(), study_name="n")
    asked = [study.ask() for _ in range(3)]  # a joiner raced past the target
    assert [not_needed(t, settings) for t in asked] == [False, False, True]
    grid = SweepSettings(strategy="grid", n_trials=0)
    gstudy = create_sweep(spec, {"optimizer.lr": {"choices": [0.01, 0.02]}}, grid,
                          storage=optuna.storages.InMemoryStorage(), study_name="g")
    asked = [gstudy.ask() for _ in range(3)]  # two enqueued points, then a sampled one
    assert [not_needed(t, grid) for t in asked] == [False, False, True]


def test_run_sweep_refuses_bad_settings_before_starting(tmp_path):
    from workbench.core.sweep import SweepError

    spec = fake_spec()
    space = {"optimizer.lr": {"log_uniform": [0.001, 0.1]}}
    storage = optuna.storages.InMemoryStorage()
    with pytest.raises(SweepError, match="metric 'val_mae' is not reported by a classification run"):
        run_sweep(spec, space, strategy="random", n_trials=2, metric="val_mae", storage=storage, train_target=FAKE)
    with pytest.raises(SweepError, match="number of trials must be ≥ 1"):
        run_sweep(spec, space, strategy="random", n_trials=0, storage=storage, train_target=FAKE)
    with pytest.raises(SweepError, match="parallel must be ≥ 1"):
        run_sweep(spec, space, strategy="random", n_trials=2, parallel=-1, storage=storage, train_target=FAKE)
    assert optuna.get_all_study_summaries(storage) == []


# ---- pruning decisions from scripted curves ----------------------------------------------------


def _pruning_study(name: str, direction: str = "minimize"):
    return optuna.create_study(direction=direction, pruner=make_pruner(name),
                               sampler=optuna.samplers.RandomSampler(seed=0))


def _run_curve(study, values) -> tuple[str, int]:
    """Report a curve epoch by epoch as the sweep does; returns ("pruned", epoch) or ("complete", n)."""
    t = study.ask()
    for epoch, v in enumerate(values, start=1):
        if report_epoch(t, epoch, v):
            study.tell(t, state=TrialState.PRUNED)
            return "pruned", epoch
    study.tell(t, values[-1])
    return "complete", len(values)


def test_median_pruner_stops_a_worse_than_median_curve():
    study = _pruning_study("median")
    good = [[1.0 / e + 0.1 * k for e in range(1, 7)] for k in range(3)]
    for c in good:
        assert _run_curve(study, c) == ("complete", 6)
    # epoch 1 is warm-up (never pruned); from epoch 2 a curve above the median is stopped
    assert _run_curve(study, [5.0, 5.0, 5.0, 5.0, 5.0, 5.0]) == ("pruned", 2)
    assert _run_curve(study, [1.0, 0.4, 0.3, 0.2, 0.1, 0.05]) == ("complete", 6)


def test_median_pruner_waits_for_startup_trials():
    study = _pruning_study("median")
    assert _run_curve(study, [1.0, 0.5, 0.3]) == ("complete", 3)
    assert _run_curve(study, [9.0, 9.0, 9.0]) == ("complete", 3)  # only 1 finished trial: too early


def test_median_pruner_respects_maximize():
    study = _pruning_study("median", "maximize")
    for k in range(3):
        _run_curve(study, [0.5 + 0.1 * e + 0.01 * k for e in range(1, 5)])
    assert _run_curve(study, [0.1, 0.1, 0.1, 0.1]) == ("pruned", 2)  # low accuracy is worse
    assert _run_curve(study, [0.9, 0.95, 0.97, 0.99]) == ("complete", 4)


def test_successive_halving_keeps_the_top_third_at_each_rung():
    study = _pruning_study("halving")
    assert _run_curve(study, [0.5, 0.4, 0.3, 0.2, 0.1]) == ("complete", 5)
    assert _run_curve(study, [0.9, 0.8, 0.7, 0.6, 0.5]) == ("pruned", 1)  # worse than the best third at rung 0
    assert _run_curve(study, [0.1, 0.05, 0.04, 0.03, 0.02]) == ("complete", 5)


def test_missing_or_nan_values_never_prune():
    study = _pruning_study("median")
    t = study.ask()
    assert report_epoch(t, 1, None) is False and report_epoch(t, 2, math.nan) is False
    assert t.number == 0 and study.trials[0].intermediate_values == {}


# ---- the executor (worker processes with the scripted trainer) ---------------------------------


def test_failures_of_single_trials_do_not_stop_the_sweep(tmp_path):
    spec = fake_spec("delay=0.02 crash_lr=0.05 die_lr=0.02 fail_lr=0.03")
    store = str(tmp_path / "runs.db")
    events = collect(run_sweep(spec, {"optimizer.lr": {"choices": [0.01, 0.02, 0.03, 0.05, 0.04]}}, strategy="grid",
                               n_trials=0, parallel=2, store_path=store, study_name="f", train_target=FAKE))
    assert isinstance(events[0], SweepStarted) and isinstance(events[-1], SweepFinished)
    failed = {e.params["optimizer.lr"]: e.message for e in of(events, TrialFailed)}
    assert failed[0.05] == "RuntimeError: scripted crash at lr=0.05"
    assert failed[0.03] == "scripted failure at lr=0.03: the loss exploded"
    assert failed[0.02].startswith("The training process ended unexpectedly (exit code 3)")
    done = {e.params["optimizer.lr"]: e for e in of(events, TrialFinished)}
    assert set(done) == {0.01, 0.04} and all(e.status == "complete" for e in done.values())
    assert done[0.01].value == pytest.approx(curve(0.01, 4))
    end = events[-1]
    assert (end.status, end.n_complete, end.n_failed) == ("finished", 2, 3)
    assert end.best["params"] == {"optimizer.lr": 0.01} and end.best["value"] == pytest.approx(curve(0.01, 4))
    # every epoch streamed live, in order per trial, with the run id
    epochs = [e for e in of(events, TrialEpoch) if e.trial == done[0.01].trial]
    assert [e.epoch for e in epochs] == [1, 2, 3, 4] and epochs[0].run_id == done[0.01].run_id
    # the store holds each trial as a normal run of this sweep; the study holds states and messages
    runs = {r.id: r for r in RunStore(store).runs_for_sweep("f")}
    assert runs[done[0.01].run_id].status == "finished" and len(RunStore(store).epochs(done[0.01].run_id)) == 4
    dead = [r for r in runs.values() if r.status == "failed" and "ended unexpectedly" in r.message]
    assert len(dead) == 1
    rec = open_sweep(f"sqlite:///{tmp_path / 'sweeps.db'}", "f")
    states = {t["params"]["optimizer.lr"]: (t["state"], t["error"]) for t in rec.trials}
    assert states[0.05] == ("fail", "RuntimeError: scripted crash at lr=0.05") and states[0.01][0] == "complete"


def test_invalid_sampled_values_fail_only_that_trial(tmp_path):
    # SGD with nesterov needs momentum > 0: that point makes an invalid spec
    spec = fake_spec()
    events = collect(run_sweep(spec, {"optimizer.type": {"choices": ["SGD"]}, "optimizer.nesterov": {"choices": [True, False]}},
                               strategy="grid", parallel=1, n_trials=0, storage=url(tmp_path), study_name="v",
                               train_target=FAKE))
    failed = of(events, TrialFailed)
    assert len(failed) == 1 and "these values make an invalid spec" in failed[0].message
    assert "nesterov" in failed[0].message
    assert events[-1].n_complete == 1


def test_pruned_trials_are_stopped_in_their_worker(tmp_path):
    # lr 0.001..0.003 finish first (startup trials, no delay), then worse curves are pruned at
    # epoch 2; those are slow (8 epochs of 0.1 s) so the stop reaches them well before their end
    spec = fake_spec("delay=0.1 slow_from_lr=0.1", epochs=8)
    store = str(tmp_path / "runs.db")
    events = collect(run_sweep(spec, {"optimizer.lr": {"choices": [0.001, 0.002, 0.003, 0.5, 0.6]}}, strategy="grid",
                               n_trials=0, parallel=1, pruner="median", store_path=store, study_name="p",
                               train_target=FAKE))
    status = {e.params["optimizer.lr"]: e for e in of(events, TrialFinished)}
    assert [status[lr].status for lr in (0.001, 0.002, 0.003)] == ["complete"] * 3
    for lr in (0.5, 0.6):
        assert status[lr].status == "pruned" and status[lr].value == pytest.approx(curve(lr, 2))
        run = RunStore(store).get_run(status[lr].run_id)
        assert run.status == "stopped" and run.epochs < 8  # the worker really stopped the run
    assert events[-1].n_pruned == 2


def test_repeats_average_over_seeds(tmp_path):
    spec = fake_spec("modules=1")
    events = collect(run_sweep(spec, {"optimizer.lr": {"choices": [0.01]}}, strategy="grid", n_trials=0, parallel=2,
                               repeats=3, store_path=str(tmp_path / "runs.db"), study_name="r", train_target=FAKE))
    (done,) = of(events, TrialFinished)
    assert done.values == pytest.approx([curve(0.01, 4, s) for s in (0, 1, 2)])
    assert done.value == pytest.approx(sum(done.values) / 3) and len(done.run_ids) == 3
    seeds = sorted(RunStore(tmp_path / "runs.db").get_run(r).spec.train.seed for r in done.run_ids)
    assert seeds == [0, 1, 2]
    # a worker imports only what its train target needs: no torch for the scripted trainer, so
    # these workers start in a fraction of a second
    assert done.metrics["torch_loaded"] == 0.0


def test_real_trainer_in_a_worker_process(tmp_path):
    # the default train target: torch in the worker, data loaded once for both trials
    spec = parse_spec({"name": "real", "data": {"source": "sample:xor", "n_samples": 120},
                       "train": {"epochs": 2, "batch_size": 32, "device": "cpu", "checkpoint": False},
                       "model": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                                            {"type": "Linear", "out_features": "auto"}]}})
    store = str(tmp_path / "runs.db")
    events = collect(run_sweep(spec, {"optimizer.lr": {"choices": [0.01, 0.05]}}, strategy="grid", n_trials=0,
                               parallel=1, store_path=store, study_name="real", threads=1))
    assert not of(events, TrialFailed), [e.message for e in of(events, TrialFailed)]
    done = of(events, TrialFinished)
    assert sorted(e.params["optimizer.lr"] for e in done) == [0.01, 0.05] and events[-1].n_complete == 2
    for e in done:
        run = RunStore(store).get_run(e.run_id)
        assert (run.status, run.epochs, run.device, run.sweep_id) == ("finished", 2, "cpu", "real")
        assert run.spec.optimizer.params["lr"] == e.params["optimizer.lr"]
        assert math.isfinite(e.value) and e.value == pytest.approx(RunStore(store).epochs(e.run_id)[-1]["val_loss"])
        assert {"val_loss", "val_accuracy"} <= set(e.metrics)
    assert [ev.epoch for ev in of(events, TrialEpoch) if ev.trial == done[0].trial] == [1, 2]


def test_stop_and_continue(tmp_path):
    # stop at epoch 2 of 6: the sweep (not the trial) decides, so the delay only keeps it short
    spec = fake_spec("delay=0.05", epochs=6)
    control = SweepControl()
    events = []
    for ev in run_sweep(spec, {"optimizer.lr": {"log_uniform": [0.001, 0.1]}}, strategy="random", n_trials=3,
                        parallel=1, storage=url(tmp_path), study_name="c", control=control, train_target=FAKE):
        events.append(ev)
        if isinstance(ev, TrialEpoch) and ev.epoch == 2:
            control.stop()
    assert events[-1].status == "stopped"
    assert [e.status for e in of(events, TrialFinished)] == ["stopped"]
    # continuing needs only the storage and the name; the target grows by n_trials
    more = collect(continue_sweep(url(tmp_path), "c", n_trials=2, parallel=1, train_target=FAKE))
    assert more[0].existing == 1 and more[0].n_trials == 3
    assert [e.status for e in of(more, TrialFinished)] == ["complete", "complete"]


KILL_SCRIPT = """
import sys
from workbench.core.spec import parse_spec
from workbench.core.sweep import run_sweep, TrialEpoch
if __name__ == "__main__":
    spec = parse_spec({"name": "fake delay=0.05", "train": {"epochs": 60},
                       "model": {"layers": [{"type": "Linear", "out_features": "auto"}]}})
    for ev in run_sweep(spec, {"optimizer.lr": {"log_uniform": [0.001, 0.1]}}, strategy="random", n_trials=4,
                        parallel=2, store_path=sys.argv[1], study_name="k", train_target=sys.argv[2]):
        if isinstance(ev, TrialEpoch):
            print("EPOCH", ev.trial, ev.epoch, flush=True)
"""


def test_killing_the_sweep_leaves_store_and_study_readable(tmp_path):
    script = tmp_path / "sweep_to_kill.py"
    script.write_text(KILL_SCRIPT)
    store = tmp_path / "runs.db"
    proc = subprocess.Popen([sys.executable, str(script), str(store), FAKE], stdout=subprocess.PIPE, text=True)
    try:
        # both trials under way, each with an epoch recorded (one worker may start seconds after
        # the other on a busy machine: four epochs of the first alone are not enough)
        epochs_of: dict[str, int] = {}
        for line in proc.stdout:
            if line.startswith("EPOCH"):
                trial = line.split()[1]
                epochs_of[trial] = epochs_of.get(trial, 0) + 1
            if len(epochs_of) >= 2 and min(epochs_of.values()) >= 2:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    # the workers notice their parent is gone and stop; each run is recorded (stopped)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = RunStore(store).runs_for_sweep("k")
        if runs and all(r.status != "running" for r in runs):
            break
        time.sleep(0.2)
    assert runs and all(r.status in ("stopped", "interrupted") for r in runs), [r.status for r in runs]
    assert all(len(RunStore(store).epochs(r.id)) >= 1 for r in runs)
    rec = open_sweep(f"sqlite:///{tmp_path / 'sweeps.db'}", "k")
    assert {t["state"] for t in rec.trials} == {"running"} and len(rec.trials) == 2
    # continuing marks the interrupted trials failed and goes on
    more = collect(continue_sweep(f"sqlite:///{tmp_path / 'sweeps.db'}", "k", n_trials=1, parallel=1,
                                  store_path=str(store), train_target=FAKE))
    rec = open_sweep(f"sqlite:///{tmp_path / 'sweeps.db'}", "k")
    assert [t["error"] for t in rec.trials[:2]] == ["interrupted: the sweep process ended"] * 2
    assert more[-1].status == "finished"
