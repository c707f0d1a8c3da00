"""The health monitor: statistics against hand computation, alerts (dead ReLUs, exploding and
vanishing gradients, plateau, overfitting on smoothed curves), storage with the run, divergence
pausing at the last good weights."""

from __future__ import annotations

import math
import random

import pytest
import torch
import trainer_support as ts

from workbench.core.runs import RunRecorder, RunStore, stored_health
from workbench.core.training import (
    Callback,
    HealthAlert,
    HealthMonitor,
    HealthRules,
    HealthSample,
    Paused,
    RunContext,
    RunFinished,
    TrainControl,
    judge_overfitting,
    train,
)


def _spec(**train_fields):
    return ts.mlp_spec(hidden=(8,), epochs=2, batch_size=16, **train_fields)


# ---- statistics against hand computation ------------------------------------------------------
def test_sample_statistics_match_hand_computation():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    with torch.no_grad():
        model[0].bias[:2] = -50.0  # two of five units dead for every input
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    run = RunContext(spec=_spec(), model=model, optimizer=opt)
    monitor = HealthMonitor(every=1)
    monitor.on_run_start(run, None)
    X, y = torch.randn(16, 3), torch.randint(0, 2, (16,))
    for _ in range(2):  # the second step has momentum, so Δw is not just -lr·g
        before = [p.detach().clone() for p in model.parameters()]
        hidden = model[1](model[0](X)).detach()
        loss = torch.nn.functional.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        grads = [p.grad.detach().clone() for p in model.parameters()]
        opt.step()
        after = [p.detach() for p in model.parameters()]
    monitor.on_run_end(run, None)
    s = monitor.samples[-1]
    assert s.layers == ["1 Linear", "2 ReLU", "3 Linear"] and s.step == 2
    g0 = math.sqrt(grads[0].pow(2).sum() + grads[1].pow(2).sum())
    g2 = math.sqrt(grads[2].pow(2).sum() + grads[3].pow(2).sum())
    assert s.grad_norm[0] == pytest.approx(g0, rel=1e-5) and s.grad_norm[2] == pytest.approx(g2, rel=1e-5)
    assert math.isnan(s.grad_norm[1]) and math.isnan(s.update_ratio[1])
    d0 = math.sqrt(sum((a - b).pow(2).sum() for a, b in zip(after[:2], before[:2])))
    w0 = math.sqrt(sum(b.pow(2).sum() for b in before[:2]))
    assert s.update_ratio[0] == pytest.approx(d0 / w0, rel=1e-5)
    assert s.total_grad_norm == pytest.approx(math.sqrt(g0 ** 2 + g2 ** 2), rel=1e-5)
    assert s.act_mean[1] == pytest.approx(float(hidden.mean()), rel=1e-5)
    assert s.act_std[1] == pytest.approx(float(hidden.std()), rel=1e-5)
    assert s.dead_fraction[1] == pytest.approx(float((hidden == 0).all(0).float().mean()))
    assert s.dead_fraction[1] >= 0.4 and math.isnan(s.dead_fraction[0])
    assert s.lr == pytest.approx(0.1)


def test_frozen_layers_have_no_gradient_statistics_and_raise_no_vanishing_alert():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    model[0].requires_grad_(False)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    run = RunContext(spec=_spec(), model=model, optimizer=opt)
    monitor = HealthMonitor(every=1)
    monitor.on_run_start(run, None)
    for _ in range(5):
        loss = torch.nn.functional.cross_entropy(model(torch.randn(8, 3)), torch.randint(0, 2, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    s = monitor.samples[-1]
    assert math.isnan(s.grad_norm[0]) and math.isnan(s.update_ratio[0]) and s.grad_norm[2] > 0
    assert not any(a.kind == "vanishing" for a in monitor.rules.on_sample(s))
    model[0].requires_grad_(True)  # unfrozen (fastai's fine_tune): measured from then on
    loss = torch.nn.functional.cross_entropy(model(torch.randn(8, 3)), torch.randint(0, 2, (8,)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert monitor.samples[-1].grad_norm[0] > 0


def test_monitor_does_not_change_training():
    def final_weights(health):
        keep = {}

        class Keep(Callback):
            def on_run_end(self, run, event):
                keep.update({k: v.clone() for k, v in run.model.state_dict().items()})

        spec = _spec().with_values({"train.health": health})
        events = list(train(spec, data=ts.spiral_data(200), callbacks=[Keep()]))
        return keep, events

    on, events_on = final_weights({"every": 1})
    off, events_off = final_weights(None)
    assert all(torch.equal(on[k], off[k]) for k in on)
    assert any(isinstance(e, HealthSample) for e in events_on)
    assert not any(isinstance(e, HealthSample) for e in events_off)


def test_fixed_interval_and_steps_of_samples():
    events = list(train(_spec().with_values({"train.health": {"every": 5}}), data=ts.spiral_data(200)))
    steps = [e.step for e in events if isinstance(e, HealthSample)]
    started = events[0]
    total = started.steps_per_epoch * 2
    assert steps == list(range(1, total + 1, 5))


# ---- alerts in real runs -----------------------------------------------------------------------
class KillReLUs(Callback):
    """Pushes the first layer's biases far below zero: every unit after the ReLU is dead."""

    def on_run_start(self, run, event):
        with torch.no_grad():
            run.model[0].bias.fill_(-100.0)


def test_dead_relu_network_raises_dead_units_alert():
    spec = _spec().with_values({"train.health": {"every": 1}})
    events = list(train(spec, data=ts.spiral_data(200), callbacks=[KillReLUs()]))
    dead = [e for e in events if isinstance(e, HealthAlert) and e.kind == "dead_units"]
    assert len(dead) == 1 and dead[0].layer == "2 ReLU" and dead[0].value == 1.0
    assert "LeakyReLU" in dead[0].message and "100%" in dead[0].message
    assert isinstance(events[-1], RunFinished)


def test_samples_and_alerts_are_stored_with_the_run(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    spec = _spec().with_values({"train.health": {"every": 3}})
    recorder = RunRecorder.begin(store, spec)
    events = list(train(spec, data=ts.spiral_data(200), callbacks=[KillReLUs(), recorder]))
    emitted = [e for e in events if isinstance(e, HealthSample)]
    samples, alerts = stored_health(store, recorder.run_id)
    assert len(samples) == len(emitted) > 3
    for a, b in zip(samples, emitted):
        assert a.step == b.step and a.layers == b.layers
        assert all((math.isnan(x) and math.isnan(y)) or x == pytest.approx(y) for x, y in zip(a.grad_norm, b.grad_norm))
    assert [a.kind for a in alerts] == [e.kind for e in events if isinstance(e, HealthAlert)]
    assert alerts[0].message
    store.close()


def test_divergence_pauses_at_last_good_weights_and_resumes_with_lower_lr():
    spec = ts.mlp_spec(hidden=(16,), epochs=4, batch_size=16, optimizer={"type": "SGD", "lr": 1e-4})
    spec = spec.with_values({"loss": {"type": "MSELoss"}})
    control = TrainControl()

    class BlowUp(Callback):
        """After the first epoch the learning rate jumps to a value that makes the loss overflow."""

        def on_epoch_end(self, run, epoch, logs):
            if epoch == 1:
                for g in run.optimizer.param_groups:
                    g["lr"] = 1e6

    alerts, paused = [], 0
    events = []
    for ev in train(spec, data=ts.regression_data(), control=control, callbacks=[BlowUp()],
                    pause_on_divergence=True, progress_interval=0.05):
        events.append(ev)
        if isinstance(ev, HealthAlert) and ev.kind == "divergence":
            alerts.append(ev)
            control.set_lr(1e-3)
        elif isinstance(ev, Paused):
            paused += 1
            control.resume()
    assert len(alerts) == 1 and paused == 1
    assert alerts[0].suggested_lr == pytest.approx(1e5) and "Paused" in alerts[0].message
    end = events[-1]
    assert isinstance(end, RunFinished) and end.epochs == 4
    assert math.isfinite(end.metrics["val_loss"]) and end.metrics["lr"] == pytest.approx(1e-3)


def test_divergence_without_control_still_stops():
    spec = ts.mlp_spec(hidden=(16,), epochs=3, batch_size=16, optimizer={"type": "SGD", "lr": 10.0})
    spec = spec.with_values({"loss": {"type": "MSELoss"}})
    events = list(train(spec, data=ts.regression_data(), pause_on_divergence=True))
    assert type(events[-1]).__name__ == "RunStopped" and "Lower the learning rate" in events[-1].reason


# ---- rules on synthetic samples --------------------------------------------------------------
def _sample(step, grads, total=None, dead=None, lr=0.01, epoch=1):
    n = len(grads)
    return HealthSample(epoch=epoch, step=step, layers=[f"{i + 1} L" for i in range(n)], grad_norm=list(grads),
                        update_ratio=[1e-3] * n, act_mean=[0.0] * n, act_std=[1.0] * n,
                        dead_fraction=dead or [math.nan] * n,
                        total_grad_norm=total if total is not None else math.sqrt(sum(g * g for g in grads)), lr=lr)


def test_dead_units_alert_needs_most_of_a_layer_dead_for_a_while():
    """The Spiral sample's default MLP has ~59 % of its second ReLU's units silent on every sampled
    batch from the first step on and still learns to 100 %: no alert. Most of a layer dead is one."""
    rules = HealthRules()
    healthy = [a for s in range(1, 20) for a in rules.on_sample(_sample(s, [1.0, 1.0], dead=[0.09, 0.59]))]
    assert healthy == []
    dying = [a for s in range(20, 24) for a in rules.on_sample(_sample(s, [1.0, 1.0], dead=[0.1, 0.9]))]
    assert [(a.kind, a.layer) for a in dying] == [("dead_units", "2 L")]


def test_exploding_gradient_alert_on_spike_over_ten_times_median():
    rules = HealthRules()
    rng = random.Random(0)
    quiet = [a for s in range(1, 30) for a in rules.on_sample(_sample(s, [1.0, 1.0], total=rng.uniform(0.8, 1.2)))]
    assert quiet == []
    alerts = rules.on_sample(_sample(30, [1.0, 1.0], total=25.0))
    assert [a.kind for a in alerts] == ["exploding"] and alerts[0].value == pytest.approx(25.0, rel=0.3)
    assert "grad_clip" in alerts[0].message


def test_no_exploding_alert_when_the_norm_stays_small():
    """A healthy run's small norms wander tenfold (0.05 → 4.6, as a walkthrough's CNN did):
    under the absolute floor that is not an explosion, whatever the ratio to the median."""
    rules = HealthRules()
    quiet = [a for s in range(1, 30) for a in rules.on_sample(_sample(s, [0.1], total=0.05 + 0.01 * (s % 3)))]
    spikes = [a for s in range(30, 40) for a in rules.on_sample(_sample(s, [0.1], total=4.6, epoch=s))]
    assert quiet == [] and spikes == []
    assert rules.on_sample(_sample(40, [0.1], total=60.0, epoch=40))[0].kind == "exploding"


def test_vanishing_gradient_alert_needs_a_persistent_ratio():
    rules = HealthRules()
    assert rules.on_sample(_sample(1, [1e-7, 1e-2])) == []
    assert rules.on_sample(_sample(2, [1e-3, 1e-2])) == []  # ratio back to 0.1: streak broken
    got = [a for s in range(3, 7) for a in rules.on_sample(_sample(s, [1e-7, math.nan, 1e-2]))]
    assert [a.kind for a in got] == ["vanishing"] and got[0].layer == "1 L"


def test_plateau_alert_with_tiny_learning_rate_only():
    rules = HealthRules()
    for s in range(1, 6):
        rules.on_sample(_sample(s, [1.0]))  # update ratio 1e-3: healthy
    got = [a for e in range(1, 10) for a in rules.on_epoch(e, e * 10, {"loss": 0.69}, lr=0.01)]
    assert got == []  # a plateau at a normal learning rate is not this alert
    tiny = HealthRules()
    got = [a for e in range(1, 10) for a in tiny.on_epoch(e, e * 10, {"loss": 0.69 - 1e-5 * e}, lr=1e-7)]
    assert [a.kind for a in got] == ["plateau"] and got[0].epoch == 6 and got[0].suggested_lr > 1e-7


def test_overfitting_judged_on_smoothed_noisy_curves():
    rng = random.Random(1)
    epochs = list(range(1, 41))
    train_loss = [1.0 / e for e in epochs]
    # flat validation loss with ±5 % noise: never overfitting, whatever the noise does
    for seed in range(50):
        r = random.Random(seed)
        noisy_flat = [0.5 * (1 + r.uniform(-0.05, 0.05)) for _ in epochs]
        assert judge_overfitting(epochs, train_loss, noisy_flat) is None
    # a U-shaped validation loss with the same noise: overfitting, best epoch near the bottom
    u_shape = [0.5 + 0.002 * (e - 15) ** 2 + 0.5 * rng.uniform(-0.05, 0.05) for e in epochs]
    found = judge_overfitting(epochs, train_loss, u_shape)
    assert found is not None and 10 <= found.best_epoch <= 20 and found.since_epoch > found.best_epoch
    # the old rule (three rising epochs in a row) rarely fires on noise; this one needs the train loss to fall
    assert judge_overfitting(epochs, [0.3] * 40, u_shape) is None


def test_overfitting_alert_from_epochs():
    rules = HealthRules()
    got = []
    for e in range(1, 31):
        got += rules.on_epoch(e, e, {"loss": 1.0 / e, "val_loss": 0.5 + 0.003 * (e - 10) ** 2}, lr=0.01)
    assert [a.kind for a in got] == ["overfitting"]
    assert got[0].best_epoch == 10 and "restore_best" in got[0].message


def test_alert_numbers_are_plain_where_they_fit():
    """A plateau's update ratio of 0.0005 reads '0.0005', not '5.0e-04'; tiny ones keep a short power of ten."""
    rules = HealthRules()
    for s in range(1, 6):
        rules.on_sample(HealthSample(epoch=1, step=s, layers=["1 L"], grad_norm=[1.0], update_ratio=[5e-6],
                                     act_mean=[0.0], act_std=[1.0], dead_fraction=[math.nan], total_grad_norm=1.0,
                                     lr=5e-4))
    got = [a for e in range(1, 10) for a in rules.on_epoch(e, e * 10, {"loss": 0.69}, lr=5e-4)]
    assert [a.kind for a in got] == ["plateau"]
    assert "at a learning rate of 0.0005; each step moves the weights by 5e-6 of their size" in got[0].message
    assert "e-0" not in got[0].message


def test_a_plateau_at_a_normal_learning_rate_blames_the_updates_not_the_rate():
    """The walkthrough's lr 0.1 run was told its learning rate was "tiny"."""
    rules = HealthRules()
    for s in range(1, 6):
        rules.on_sample(HealthSample(epoch=1, step=s, layers=["1 L"], grad_norm=[1e-4], update_ratio=[1e-7],
                                     act_mean=[0.0], act_std=[1.0], dead_fraction=[math.nan], total_grad_norm=1e-4,
                                     lr=0.1))
    got = [a for e in range(1, 10) for a in rules.on_epoch(e, e * 10, {"loss": 0.69}, lr=0.1)]
    assert [a.kind for a in got] == ["plateau"]
    assert "the updates are tiny at a learning rate of 0.1" in got[0].message
    assert "learning rate is tiny" not in got[0].message
