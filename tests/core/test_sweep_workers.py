"""Sweep workers speak the one child-process protocol: a trial is recorded like any run (so it can
be resumed and branched), and a worker killed in the middle of a trial fails only that trial."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from workbench.core.runs import RunStore, branch_plan, resume_plan
from workbench.core.spec import parse_spec
from workbench.core.sweep import (
    SweepControl,
    SweepFinished,
    SweepSettings,
    TrialEpoch,
    TrialFailed,
    TrialFinished,
    create_sweep,
    join_sweep,
    open_sweep,
    run_sweep,
)

FAKE = str(Path(__file__).with_name("sweep_fake_trainer.py")) + ":train"


def test_a_trial_is_recorded_like_any_run(tmp_path):
    # the real trainer in a worker; the sweep is stopped at epoch 2 of many, so the trial's run is
    # a stopped run with checkpoints: it can be resumed, or branched with a change
    spec = parse_spec({"name": "recorded", "data": {"source": "sample:xor", "n_samples": 120},
                       "train": {"epochs": 100_000, "batch_size": 32, "device": "cpu", "checkpoint": True},
                       "model": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                                            {"type": "Linear", "out_features": "auto"}]}})
    store_path = tmp_path / "runs.db"
    control = SweepControl()
    events = []
    for ev in run_sweep(spec, {"optimizer.lr": {"choices": [0.02]}}, strategy="grid", n_trials=0, parallel=1,
                        store_path=str(store_path), study_name="rec", control=control, threads=1):
        events.append(ev)
        if isinstance(ev, TrialEpoch) and ev.epoch == 2:
            control.stop()
    (done,) = [e for e in events if isinstance(e, TrialFinished)]
    assert done.status == "stopped" and done.run_id is not None
    store = RunStore(store_path)
    run = store.get_run(done.run_id)
    assert (run.status, run.sweep_id, run.name, run.tags) == ("stopped", "rec", "rec #1", ["sweep"])
    assert (run.task, run.device) == ("classification", "cpu") and run.total_params == 2 * 8 + 8 + 8 * 2 + 2
    assert run.pid != os.getpid()  # recorded by the worker process that trained it
    assert run.run_dir == str(tmp_path / "runs" / str(run.id))  # one folder rule for every run
    epochs = store.epochs(run.id)
    assert len(epochs) >= 2 and [e["epoch"] for e in epochs[:2]] == [1, 2]
    per_epoch = epochs[0]["step"]  # optimizer steps (batches) in an epoch
    assert per_epoch >= 1 and all(e["step"] == e["epoch"] * per_epoch and e["elapsed"] > 0 for e in epochs)
    assert "started" in {e["kind"] for e in store.events(run.id)}
    kinds = {a["kind"]: a["path"] for a in store.artifacts(run.id)}
    assert {"checkpoint_last", "checkpoint_best"} <= set(kinds)
    assert all(Path(p).parent == Path(run.run_dir) for p in kinds.values())

    resumed = resume_plan(store, run.id)
    assert resumed.resume_from == kinds["checkpoint_last"] and resumed.from_epoch >= 2
    assert resumed.spec.optimizer.params["lr"] == 0.02 and resumed.spec.train.epochs == 100_000
    branched = branch_plan(store, run.id, {"optimizer.lr": 0.005})
    assert branched.parent_id == run.id and branched.spec.optimizer.params["lr"] == 0.005
    assert "sweep" not in branched.tags  # the child is the person's run, not the sweep's
    store.close()


def test_killing_a_worker_mid_trial_fails_only_that_trial(tmp_path):
    # The multi-machine path (sweep-worker joins a stored sweep) through the real worker pool: one
    # worker process is killed from outside while it trains a trial; the sweep still reaches its
    # target, that trial failed with the reason, its run recorded as failed, and a replacement
    # worker runs the rest. Each trial is 40 epochs of 50 ms, so the kill lands mid-trial.
    storage = f"sqlite:///{tmp_path / 'sweeps.db'}"
    store_path = tmp_path / "runs.db"
    spec = parse_spec({"name": "fake delay=0.05", "train": {"epochs": 40},
                       "model": {"layers": [{"type": "Linear", "out_features": "auto"}]}})
    create_sweep(spec, {"optimizer.lr": {"log_uniform": [0.001, 0.1]}},
                 SweepSettings(strategy="random", n_trials=4, seed=2), storage=storage, study_name="kill")
    killed: dict[str, int] = {}
    events = []
    store = RunStore(store_path)
    for ev in join_sweep(storage, "kill", parallel=2, store_path=str(store_path), train_target=FAKE):
        events.append(ev)
        if isinstance(ev, TrialEpoch) and not killed and ev.run_id is not None:
            killed = {"trial": ev.trial, "run": ev.run_id, "pid": store.get_run(ev.run_id).pid}
            assert killed["pid"] not in (None, os.getpid())
            os.kill(killed["pid"], signal.SIGKILL)
    end = events[-1]
    assert isinstance(end, SweepFinished) and end.status == "finished"
    assert (end.n_complete, end.n_failed) == (3, 1)
    (failed,) = [e for e in events if isinstance(e, TrialFailed)]
    assert failed.trial == killed["trial"] and failed.run_ids == [killed["run"]]
    assert failed.message.startswith("The training process ended unexpectedly (killed by signal 9)")
    run = store.get_run(killed["run"])
    assert run.status == "failed" and "killed by signal 9" in run.message
    finished = [e for e in events if isinstance(e, TrialFinished)]
    assert {store.get_run(e.run_id).pid for e in finished}.isdisjoint({killed["pid"]})
    states = [t["state"] for t in open_sweep(storage, "kill").trials]
    assert sorted(states) == ["complete"] * 3 + ["fail"]
    store.close()
