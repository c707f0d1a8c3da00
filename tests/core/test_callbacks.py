"""Callbacks driven directly (fake run context) and through train(): early stopping, checkpoints,
resume, the run recorder."""

from __future__ import annotations

import os

import pytest
import torch

from tests.core import trainer_support as ts
from workbench.core.training import Checkpoint, EarlyStopping, History, RunContext, resolve_mode
from workbench.core.runs import RunRecorder
from workbench.core.training import CheckpointError, load_checkpoint, save_checkpoint
from workbench.core.training import CheckpointSaved, EpochEnd, RunFinished, RunStarted
from workbench.core.training import train


def fake_run():
    model = torch.nn.Linear(2, 1)
    return RunContext(spec=ts.mlp_spec(), model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1))


def drive(es, run, values, key="val_loss"):
    for epoch, v in enumerate(values, 1):
        with torch.no_grad():
            run.model.weight.fill_(epoch)  # weights tell epochs apart
        es.on_epoch_end(run, epoch, {key: v, "loss": v})
        if run.stop_requested:
            return epoch
    return None


def test_early_stopping_scripted_losses_restores_best():
    run = fake_run()
    es = EarlyStopping("val_loss", patience=3, restore_best=True)
    es.on_run_start(run, None)
    stopped = drive(es, run, [1.0, 0.5, 0.1234, 0.2, 0.3, 0.15, 0.1])
    assert stopped == 6
    assert run.stop_finished and run.best_epoch == 3
    assert run.stop_reason == ("early stopping: val_loss did not improve for 3 epochs "
                               "(best 0.1234 at epoch 3; weights restored)")
    assert torch.all(run.model.weight == 3)


def test_early_stopping_min_delta_max_mode_and_no_restore():
    run = fake_run()
    es = EarlyStopping("val_accuracy", patience=2, min_delta=0.01, restore_best=False)
    es.on_run_start(run, None)
    assert resolve_mode("val_accuracy", "auto") == "max" and resolve_mode("val_loss", "auto") == "min"
    stopped = drive(es, run, [0.5, 0.8, 0.805, 0.809], key="val_accuracy")
    assert stopped == 4 and run.best_epoch == 2
    assert "weights restored" not in run.stop_reason
    assert torch.all(run.model.weight == 4)


def test_early_stopping_falls_back_to_train_loss_without_val():
    run = fake_run()
    es = EarlyStopping("val_loss", patience=1)
    es.on_run_start(run, None)
    es.on_epoch_end(run, 1, {"loss": 1.0})
    es.on_epoch_end(run, 2, {"loss": 2.0})
    assert run.stop_requested and run.stop_reason.startswith("early stopping: loss did not improve")


def test_early_stopping_through_train():
    spec = ts.mlp_spec(epochs=200, optimizer={"type": "Adam", "lr": 0.05},
                       early_stopping={"monitor": "val_loss", "patience": 2, "min_delta": 0.5})
    ev = list(train(spec, data=ts.spiral_data(n=200)))
    end = ev[-1]
    assert isinstance(end, RunFinished) and end.reason.startswith("early stopping: val_loss did not improve")
    assert end.best_epoch == 1 and end.epochs == 3


def test_checkpoint_atomic_write_and_safe_load(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(2)}, "epoch": 1})
    assert load_checkpoint(path)["epoch"] == 1

    def broken_save(obj, fh, *a, **k):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(path, {"model": {"w": torch.zeros(2)}, "epoch": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary left behind
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")


def test_checkpoints_written_during_training(tmp_path):
    spec = ts.mlp_spec(epochs=3, optimizer={"type": "SGD", "lr": 0.1, "momentum": 0.9})
    ev = list(train(spec, data=ts.spiral_data(n=200), run_dir=tmp_path))
    saved = [e for e in ev if isinstance(e, CheckpointSaved)]
    assert {e.kind for e in saved} == {"best", "last"}
    ck = load_checkpoint(tmp_path / "last.pt")  # weights_only=True inside
    assert ck["epoch"] == 3 and ck["step"] == 3 * ev[0].steps_per_epoch
    assert set(ck) >= {"model", "optimizer", "scheduler", "epoch", "step", "spec_json", "metrics"}
    assert "val_loss" in ck["metrics"]
    assert (tmp_path / "best.pt").exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_resume_continues_exactly(tmp_path):
    """2 epochs + resume to 4 == 4 epochs straight (optimizer and schedule state restored)."""
    base = ts.mlp_spec(epochs=4, optimizer={"type": "Adam", "lr": 0.01}).with_values(
        {"schedule": {"type": "StepLR", "step_size": 1, "gamma": 0.5}})
    data = ts.spiral_data(n=200)
    straight = [e for e in train(base, data=data) if isinstance(e, EpochEnd)]
    first = base.with_values({"train.epochs": 2})
    list(train(first, data=data, run_dir=tmp_path / "a"))
    resumed = list(train(base, data=data, resume_from=tmp_path / "a" / "last.pt"))
    assert isinstance(resumed[0], RunStarted) and resumed[0].start_epoch == 2
    ends = [e for e in resumed if isinstance(e, EpochEnd)]
    assert [e.epoch for e in ends] == [3, 4]
    for a, b in zip(straight[2:], ends):
        assert a.logs == pytest.approx(b.logs, rel=1e-6, abs=1e-7)
        assert a.step == b.step


def test_resume_with_wrong_model_fails_clearly(tmp_path):
    data = ts.spiral_data(n=100)
    list(train(ts.mlp_spec(epochs=1), data=data, run_dir=tmp_path))
    ev = list(train(ts.mlp_spec(hidden=(8,), epochs=2), data=data, resume_from=tmp_path / "last.pt"))
    assert type(ev[-1]).__name__ == "RunFailed" and "does not fit this model" in ev[-1].message


def test_run_recorder_writes_as_it_goes(tmp_path):
    from workbench.core.runs import RunStore
    from workbench.core.training import TrainControl

    store = RunStore(tmp_path / "runs.db")
    rec = RunRecorder.begin(store, ts.mlp_spec(epochs=2), name="rec")
    assert store.get_run(rec.run_id).status == "running"  # recorded before training starts
    assert rec.run_dir == tmp_path / "runs" / str(rec.run_id)  # its folder: runs/<id>/ beside the store
    control = TrainControl()
    control.set_lr(0.005)
    counts = []

    class Count(History):
        def on_epoch_end(self, run, epoch, logs):
            counts.append(len(store.epochs(rec.run_id)))  # committed before the next callback

    ev = list(train(ts.mlp_spec(epochs=2), data=ts.spiral_data(n=100), callbacks=[rec, Count()], control=control,
                    progress_interval=0.0))
    assert isinstance(ev[-1], RunFinished)
    assert counts == [1, 2]
    r = store.get_run(rec.run_id)
    assert (r.status, r.name, r.task, r.total_params) == ("finished", "rec", "classification", ev[0].total_params)
    assert [e["epoch"] for e in store.epochs(rec.run_id)] == [1, 2]
    assert [e["step"] for e in store.epochs(rec.run_id)] == [e.step for e in ev if type(e).__name__ == "EpochEnd"]
    store.close()


def test_run_recorder_records_failure_before_start(tmp_path):
    from workbench.core.runs import RunStore

    store = RunStore(tmp_path / "runs.db")
    spec = ts.mlp_spec(epochs=1).with_values({"data.source": str(tmp_path / "nope.csv")})
    rec = RunRecorder.begin(store, spec)
    ev = list(train(spec, callbacks=[rec]))
    assert type(ev[-1]).__name__ == "RunFailed"
    assert store.get_run(rec.run_id).status == "failed"
    store.close()


def test_checkpoint_callback_skips_nan(tmp_path):
    run = fake_run()
    cp = Checkpoint(tmp_path)
    cp.on_epoch_end(run, 1, {"loss": float("nan"), "val_loss": float("nan")})
    assert not list(tmp_path.iterdir())


def test_two_run_stores_in_one_folder_keep_their_own_checkpoints(tmp_path):
    from workbench.core.runs import RunStore

    first = RunRecorder.begin(RunStore(tmp_path / "runs.db"), ts.mlp_spec(epochs=1), name="a")
    (first.run_dir).mkdir(parents=True)
    (first.run_dir / "final.pt").write_bytes(b"first store's weights")
    second = RunRecorder.begin(RunStore(tmp_path / "other.db"), ts.mlp_spec(epochs=1), name="b")
    assert first.run_id == second.run_id == 1
    assert second.run_dir == tmp_path / "runs" / "1-other"  # not runs/1/, which holds the first one's files
    (second.run_dir).mkdir(parents=True)
    (second.run_dir / "x").write_bytes(b"")
    third = RunRecorder.begin(RunStore(tmp_path / "other2.db"), ts.mlp_spec(epochs=1), name="c")
    assert third.run_dir == tmp_path / "runs" / "1-other2"
