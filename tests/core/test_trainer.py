"""The training engine: event protocol, control, numerics, failures (plain pytest, CPU, tiny data)."""

from __future__ import annotations

import threading

import pytest
import torch

from tests.core import trainer_support as ts
from workbench.core.training import Callback, History
from workbench.core.training import TrainControl
from workbench.core.training import (
    BatchProgress, EpochEnd, LRChanged, Paused, Resumed, RunFailed, RunFinished, RunStarted, RunStopped,
    TerminalEvent,
)
from workbench.core.training import batch_slices, epoch_permutation, resolve_batch_size, train


def run_all(spec, **kw):
    return list(train(spec, **kw))


def terminals(events):
    return [e for e in events if isinstance(e, TerminalEvent)]


def test_event_order_and_exactly_one_terminal():
    events = run_all(ts.mlp_spec(epochs=3), data=ts.spiral_data(), progress_interval=0.0)
    assert isinstance(events[0], RunStarted)
    assert len(terminals(events)) == 1 and events[-1] is terminals(events)[0]
    assert isinstance(events[-1], RunFinished)
    ends = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in ends] == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} <= set(ends[0].logs)
    m = events[-1].metrics
    for key in ("train_loss", "loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy",
                "test_precision", "test_recall", "test_f1"):
        assert key in m and isinstance(m[key], float), key
    started = events[0]
    assert started.steps_per_epoch == len(batch_slices(started.n_train, 32))
    for e in events:  # plain values only: they cross a process pipe
        e.to_dict()


def test_progress_is_time_based_not_per_batch():
    events = run_all(ts.mlp_spec(epochs=2, batch_size=4), data=ts.spiral_data(), progress_interval=10.0)
    n_steps = events[0].steps_per_epoch * 2
    assert sum(isinstance(e, BatchProgress) for e in events) < n_steps / 10


def test_loss_decreases_on_spiral():
    hist = History()
    run_all(ts.mlp_spec(hidden=(32, 32), epochs=25, batch_size=32, optimizer={"type": "Adam", "lr": 0.02}),
            data=ts.spiral_data(n=400), callbacks=[hist])
    losses = hist.series("loss")
    assert losses[-1] < 0.6 * losses[0]
    assert hist.series("val_accuracy")[-1] > 0.8


def test_regression_metrics():
    spec = ts.mlp_spec(hidden=(16,), epochs=3).with_values({"loss": {"type": "MSELoss"}})
    events = run_all(spec, data=ts.regression_data())
    m = events[-1].metrics
    assert isinstance(events[-1], RunFinished), events[-1]
    assert {"test_mae", "test_rmse", "test_r2", "val_mae", "val_rmse", "val_r2"} <= set(m)
    assert "accuracy" not in m


def test_determinism_same_seed_identical_numbers():
    spec = ts.mlp_spec(epochs=3, batch_size=16)
    # health samples are spaced by the clock ("auto"), like progress events: left out here
    a = [ts.strip_timing(e) for e in run_all(spec, data=ts.spiral_data(), progress_interval=1e9)
         if type(e).__name__ != "HealthSample"]
    b = [ts.strip_timing(e) for e in run_all(spec, data=ts.spiral_data(), progress_interval=1e9)
         if type(e).__name__ != "HealthSample"]
    assert a == b


@pytest.mark.parametrize("opt", [{"type": "SGD", "lr": 0.05, "momentum": 0.9}, {"type": "Adam", "lr": 0.01}])
def test_equivalent_to_hand_written_loop(opt):
    """After N steps the engine's weights equal a plain PyTorch loop's (same seed, batch order)."""
    from workbench.core import catalog
    from workbench.core.training import build_model

    data = ts.spiral_data(n=300)
    spec = ts.mlp_spec(epochs=3, batch_size=32, optimizer=opt, terminate_on_nan=False)
    grab = {}

    class Grab(Callback):
        def on_run_end(self, run, event):
            grab["state"] = {k: v.clone() for k, v in run.model.state_dict().items()}

    assert isinstance(run_all(spec, data=data, callbacks=[Grab()])[-1], RunFinished)

    torch.manual_seed(spec.train.seed)
    model, _ = build_model(spec, data.meta)
    loss_fn = catalog.make_loss(spec.loss, data.meta, data.train.y)
    optim = catalog.make_optimizer(spec.optimizer, model.parameters())
    X, y = data.train.X, data.train.y
    for epoch in range(1, 4):
        perm = epoch_permutation(len(X), spec.train.seed, epoch)
        for a, b in batch_slices(len(X), 32):
            idx = perm[a:b]
            optim.zero_grad()
            loss_fn(model(X[idx]), y[idx]).backward()
            optim.step()
    for k, v in model.state_dict().items():
        torch.testing.assert_close(grab["state"][k], v, atol=1e-6, rtol=0)


def test_batch_sizes_full_one_and_partial():
    assert batch_slices(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert batch_slices(9, 4) == [(0, 4), (4, 8), (8, 9)]  # partial batch kept
    assert batch_slices(9, 4, drop_single_last=True) == [(0, 4), (4, 8)]  # BatchNorm: size-1 dropped
    assert resolve_batch_size("full", 123) == 123
    assert resolve_batch_size(64, 10) == 10
    assert resolve_batch_size(8, 100, full_batch=True) == 100
    data = ts.spiral_data(n=100)
    ev = run_all(ts.mlp_spec(epochs=1, batch_size="full"), data=data)
    assert ev[0].steps_per_epoch == 1 and ev[0].batch_size == ev[0].n_train
    ev = run_all(ts.mlp_spec(epochs=1, batch_size=1, optimizer={"type": "SGD", "lr": 0.01}), data=data)
    assert ev[0].steps_per_epoch == ev[0].n_train and isinstance(ev[-1], RunFinished)


def test_batchnorm_drops_single_sample_last_batch():
    spec = ts.parse_spec({**ts.mlp_spec().to_dict(), "model": {"layers": [
        {"type": "Linear", "out_features": 8}, {"type": "BatchNorm1d"}, {"type": "ReLU"},
        {"type": "Linear", "out_features": "auto"}]}, "train": {"epochs": 1, "batch_size": 9, "device": "cpu"}})
    data = ts.spiral_data(n=100)  # 70 train rows = 7*9 + 7 ... make it 64+1
    data.train.X, data.train.y = data.train.X[:64], data.train.y[:64]  # 7 batches of 9, one of 1
    ev = run_all(spec, data=data)
    assert isinstance(ev[-1], RunFinished), ev[-1]
    assert ev[0].steps_per_epoch == 7


def test_lbfgs_full_batch_with_closure():
    spec = ts.mlp_spec(epochs=3, batch_size=16, optimizer={"type": "LBFGS", "lr": 0.5})
    ev = run_all(spec, data=ts.spiral_data(n=200))
    assert isinstance(ev[-1], RunFinished), ev[-1]
    assert ev[0].steps_per_epoch == 1
    losses = [e.logs["loss"] for e in ev if isinstance(e, EpochEnd)]
    assert losses[-1] < losses[0]


def test_grad_clip_l1_weight_decay_run():
    spec = ts.mlp_spec(epochs=2, optimizer={"type": "SGD", "lr": 0.1, "weight_decay": 1e-3},
                       grad_clip=0.5, l1=1e-3)
    assert isinstance(run_all(spec, data=ts.spiral_data(n=200))[-1], RunFinished)


class ScriptedControl(TrainControl):
    """Issues commands when the trainer first looks at it after step `at`."""

    def __init__(self, script):
        super().__init__()
        self.script = script  # list of (min_checks, command, value)
        self.checks = 0

    @property
    def stop_requested(self):
        self.checks += 1
        while self.script and self.checks >= self.script[0][0]:
            _, cmd, value = self.script.pop(0)
            self.apply(cmd, value)
        return super().stop_requested


def test_set_lr_changes_param_groups_and_emits_event():
    control = ScriptedControl([(2, "set_lr", 0.001)])
    seen = {}

    class Probe(Callback):
        def on_epoch_end(self, run, epoch, logs):
            seen.setdefault("lrs", []).append([g["lr"] for g in run.optimizer.param_groups])

    spec = ts.mlp_spec(epochs=2, batch_size=1, optimizer={"type": "SGD", "lr": 0.05})
    ev = run_all(spec, data=ts.spiral_data(n=300), control=control, callbacks=[Probe()], progress_interval=0.0)
    changes = [e for e in ev if isinstance(e, LRChanged)]
    assert len(changes) == 1 and changes[0].lr == 0.001 and changes[0].previous == 0.05
    assert seen["lrs"][-1] == [0.001]
    assert ev[-1].metrics["lr"] == 0.001


def test_set_lr_rescales_scheduler_base_lrs():
    from workbench.core.training.trainer import set_learning_rate
    from workbench.core.catalog import make_scheduler
    from workbench.core.spec import ScheduleSpec

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    handle = make_scheduler(ScheduleSpec(type="CosineAnnealingLR"), opt, epochs=10, steps_per_epoch=1)
    opt.step()
    handle.step()
    before = opt.param_groups[0]["lr"]
    prev = set_learning_rate(opt, handle, before / 2)
    assert prev == before and opt.param_groups[0]["lr"] == before / 2
    assert handle.scheduler.base_lrs == [pytest.approx(0.05)]
    handle.step()  # the schedule continues from the new value
    assert opt.param_groups[0]["lr"] < before / 2


def test_pause_resume_stop_from_another_thread():
    # Pause on the first epoch's end (it always comes, however fast the machine); 300 epochs is
    # more than the test ever needs and still ends soon should the stop be missed.
    control = TrainControl()
    spec = ts.mlp_spec(epochs=300, batch_size=1, optimizer={"type": "SGD", "lr": 0.01})
    gen = train(spec, data=ts.spiral_data(n=200), control=control, progress_interval=0.05)
    kinds = []
    for ev in gen:
        kinds.append(type(ev))
        if isinstance(ev, EpochEnd) and Paused not in kinds and not control.paused:
            control.pause()
        elif isinstance(ev, Paused):
            threading.Timer(0.2, control.resume).start()
        elif isinstance(ev, Resumed):
            threading.Timer(0.1, control.stop).start()
    assert kinds[-1] is RunStopped
    assert kinds.count(Paused) == 1 and kinds.count(Resumed) == 1
    assert kinds.index(Paused) < kinds.index(Resumed)
    assert kinds.count(EpochEnd) < 300
    assert ev.reason == "stopped by the user"
    assert "test_accuracy" in ev.metrics  # numbers still reported


def test_stop_while_paused():
    # Pause on what always comes (the first EpochEnd), stop once the pause is confirmed; the run
    # is long enough (200 epochs) never to finish first, and short enough to end soon if it did.
    control = TrainControl()
    spec = ts.mlp_spec(epochs=200, batch_size=1)
    ev_list = []
    for ev in train(spec, data=ts.spiral_data(n=100), control=control, progress_interval=0.05):
        ev_list.append(ev)
        if isinstance(ev, EpochEnd) and not control.paused and not control.stop_requested:
            control.pause()
        if isinstance(ev, Paused):
            threading.Timer(0.1, control.stop).start()
    assert isinstance(ev_list[-1], RunStopped)
    assert any(isinstance(e, Paused) for e in ev_list)
    assert not any(isinstance(e, Resumed) for e in ev_list)
    assert ev_list[-1].epochs < 200


def test_nan_terminates_and_keeps_last_good_weights():
    snaps = {}

    class Snap(Callback):
        def on_epoch_end(self, run, epoch, logs):
            import math
            if math.isfinite(logs["loss"]):
                snaps["good"] = {k: v.clone() for k, v in run.model.state_dict().items()}

        def on_run_end(self, run, event):
            snaps["final"] = {k: v.clone() for k, v in run.model.state_dict().items()}

    class Blowup(Callback):  # after epoch 2, a huge lr makes the loss overflow
        def on_epoch_end(self, run, epoch, logs):
            if epoch == 2:
                for g in run.optimizer.param_groups:
                    g["lr"] = 1e12

    spec = ts.mlp_spec(epochs=8, optimizer={"type": "SGD", "lr": 0.05}).with_values({"loss": {"type": "MSELoss"}})
    ev = run_all(spec, data=ts.regression_data(), callbacks=[Snap(), Blowup()], progress_interval=0.0)
    end = ev[-1]
    assert isinstance(end, RunStopped), end
    assert "NaN" in end.reason or "infinite" in end.reason
    assert "epoch" in end.reason and "learning rate" in end.reason and "grad_clip" in end.reason
    assert "kept the weights from the end of epoch 2" in end.reason
    for k, v in snaps["good"].items():
        torch.testing.assert_close(snaps["final"][k], v)
    assert all(torch.isfinite(v).all() for v in snaps["final"].values())


def test_exception_in_callback_becomes_run_failed():
    class Boom(Callback):
        def on_epoch_end(self, run, epoch, logs):
            raise RuntimeError("kaboom")

    ev = run_all(ts.mlp_spec(epochs=3), data=ts.spiral_data(n=100), callbacks=[Boom()])
    assert len(terminals(ev)) == 1 and isinstance(ev[-1], RunFailed)
    assert "Boom.on_epoch_end" in ev[-1].message and "kaboom" in ev[-1].message
    assert "Traceback" in ev[-1].details


def test_bad_data_source_fails_with_data_message(tmp_path):
    spec = ts.mlp_spec(epochs=1).with_values({"data.source": str(tmp_path / "missing.csv")})
    ev = run_all(spec)
    assert len(ev) == 1 and isinstance(ev[0], RunFailed)
    assert "missing.csv" in ev[0].message and "Training failed" not in ev[0].message


def test_impossible_model_fails_with_model_message():
    spec = ts.parse_spec({**ts.mlp_spec().to_dict(), "model": {"layers": [
        {"type": "Conv2d", "out_channels": 4}, {"type": "Linear", "out_features": "auto"}]}})
    ev = run_all(spec, data=ts.spiral_data(n=100))
    assert len(ev) == 1 and isinstance(ev[0], RunFailed)
    assert "Layer" in ev[0].message and "Training failed" not in ev[0].message


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda():
    ev = run_all(ts.mlp_spec(epochs=1, device="cuda"), data=ts.spiral_data(n=100))
    assert isinstance(ev[0], RunFailed)
    assert ev[0].message == ("CUDA was requested ('cuda') but no CUDA device is available; "
                             "choose 'cpu' or 'auto'")


def test_precision_on_cpu():
    ev = run_all(ts.mlp_spec(epochs=1, precision="fp16"), data=ts.spiral_data(n=100))
    assert isinstance(ev[0], RunFailed) and "fp16" in ev[0].message and "bf16" in ev[0].message
    ev = run_all(ts.mlp_spec(epochs=1, precision="bf16"), data=ts.spiral_data(n=100))
    assert isinstance(ev[-1], RunFinished) and ev[0].precision == "bf16"


def test_out_of_memory_message(monkeypatch):
    def oom(self, *a, **k):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(torch.optim.SGD, "step", oom)
    ev = run_all(ts.mlp_spec(epochs=1, batch_size=16, optimizer={"type": "SGD", "lr": 0.1}),
                 data=ts.spiral_data(n=100))
    assert isinstance(ev[-1], RunFailed)
    assert "out of" in ev[-1].message and "memory at batch size 16; lower the batch size" in ev[-1].message


def test_threads_setting_is_applied_and_restored():
    before = torch.get_num_threads()
    seen = {}

    class Probe(Callback):
        def on_epoch_end(self, run, epoch, logs):
            seen["n"] = torch.get_num_threads()

    run_all(ts.mlp_spec(epochs=1, num_threads=1), data=ts.spiral_data(n=100), callbacks=[Probe()])
    assert seen["n"] == 1 and torch.get_num_threads() == before


def test_image_data_with_augmentation_runs():
    from workbench.core.data import DatasetMeta, PreparedData, Split
    from workbench.core.spec import AugmentSpec

    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 1, 8, 8, generator=g)
    y = (X.mean((1, 2, 3)) > 0).long()
    meta = DatasetMeta(source="t", kind="image", task="classification", class_names=["a", "b"],
                       feature_names=[], input_shape=(1, 8, 8), target_name="label", target_width=2, n_samples=64)
    data = PreparedData(train=Split(X[:48], y[:48]), val=Split(X[48:], y[48:]), test=Split(X[:0], y[:0]),
                        meta=meta, mean=None, std=None, augment=AugmentSpec(hflip=True, noise_std=0.1))
    spec = ts.parse_spec({**ts.mlp_spec().to_dict(), "model": {"layers": [
        {"type": "Conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "ReLU"}, {"type": "Flatten"},
        {"type": "Linear", "out_features": "auto"}]}, "train": {"epochs": 2, "batch_size": 16, "device": "cpu"}})
    ev = run_all(spec, data=data)
    assert isinstance(ev[-1], RunFinished), ev[-1]
    assert not any(k.startswith("test_") for k in ev[-1].metrics)  # empty test split: no test_*


@pytest.mark.parametrize("fold_steps,loss", [(3, "CrossEntropyLoss"), (256, "CrossEntropyLoss"),
                                             (2, "BCEWithLogitsLoss")])
def test_training_accuracy_and_loss_equal_a_step_by_step_count(monkeypatch, fold_steps, loss):
    """The engine keeps per-step outputs and folds them in batches; the epoch's 'accuracy' and
    'loss' must be exactly what counting after every step gives (partial last batch included)."""
    from workbench.core import catalog
    from workbench.core.training import trainer
    from workbench.core.training import build_model

    monkeypatch.setattr(trainer, "FOLD_STEPS", fold_steps)
    data = ts.spiral_data(n=300)
    spec = ts.mlp_spec(epochs=2, batch_size=32, optimizer={"type": "SGD", "lr": 0.1},
                       terminate_on_nan=False).with_values({"loss": {"type": loss}})
    if loss == "BCEWithLogitsLoss":  # two classes, ONE logit (class 1 when > 0)
        spec = ts.parse_spec({**spec.to_dict(), "model": {"layers": [
            {"type": "Linear", "out_features": 16}, {"type": "ReLU"}, {"type": "Linear", "out_features": 1}]}})
    n = len(data.train.X)
    assert n % 32 not in (0, 1)  # a partial last batch
    events = run_all(spec, data=data)
    assert isinstance(events[-1], RunFinished), events[-1]
    ends = [e for e in events if isinstance(e, EpochEnd)]
    if loss == "BCEWithLogitsLoss":
        assert list(events[-1].metrics) and ends[0].logs["accuracy"] > 0

    torch.manual_seed(spec.train.seed)
    model, _ = build_model(spec, data.meta)
    loss_fn = catalog.make_loss(spec.loss, data.meta, data.train.y)
    optim = catalog.make_optimizer(spec.optimizer, model.parameters())
    X, y = data.train.X, data.train.y
    for epoch, end in zip((1, 2), ends):
        perm = epoch_permutation(n, spec.train.seed, epoch)
        correct, loss_sum = 0, 0.0
        for a, b in batch_slices(n, 32):
            idx = perm[a:b]
            out = model(X[idx])
            step_loss = loss_fn(out, y[idx])
            optim.zero_grad()
            step_loss.backward()
            optim.step()
            pred = out.argmax(1) if out.shape[1] > 1 else (out[:, 0] > 0).long()
            correct += int((pred == y[idx]).sum())
            loss_sum += float(step_loss.detach()) * (b - a)
        assert end.logs["accuracy"] == correct / n
        assert end.logs["loss"] == pytest.approx(loss_sum / n, rel=1e-5)


def test_out_of_memory_releases_the_runs_tensors_before_the_cache_is_emptied(monkeypatch):
    """After an OOM the engine drops its model, optimizer, data copies and the callbacks' weight
    snapshots BEFORE it empties the CUDA cache (in `_release_device_memory`), so the memory goes
    back to the driver, not just to PyTorch's cache. Checked on the CPU: no big tensor is alive."""
    import gc

    from workbench.core.training import trainer

    def oom(self, *a, **k):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(torch.optim.SGD, "step", oom)
    big = 2**20  # the 1024x1024 hidden layer's weight; nothing else in this run is that large
    alive = {}
    original = trainer._Training._release_device_memory

    def release_and_look(self):
        original(self)
        gc.collect()
        # FakeTensors (shapes only, no memory) that torch.export leaves behind in this process are not counted
        alive["n"] = sum(1 for o in gc.get_objects() if issubclass(type(o), torch.Tensor)
                         and type(o).__name__ != "FakeTensor" and o.numel() >= big)

    monkeypatch.setattr(trainer._Training, "_release_device_memory", release_and_look)
    spec = ts.mlp_spec(hidden=(1024, 1024), epochs=1, batch_size=16, optimizer={"type": "SGD", "lr": 0.1})
    ev = run_all(spec, data=ts.spiral_data(n=100))
    assert isinstance(ev[-1], RunFailed) and "out of memory at batch size 16" in ev[-1].message
    assert alive["n"] == 0
