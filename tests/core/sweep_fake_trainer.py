"""A scripted stand-in for workbench.core.training.trainer.train, for sweep tests (runs in sweep workers).

No model, no data: each epoch yields an EpochEnd whose val_loss follows a fixed curve of the
trial's learning rate, so tests know the values in advance. Directives go in spec.name as
`key=value` words:

    delay=0.05       seconds per epoch (checks control.stop between epochs)
    slow_from_lr=0.1 the delay applies only when lr >= 0.1 (other trials run at once)
    crash_lr=0.02    raise an exception when lr == 0.02 (a crashing trial)
    fail_lr=0.02     end with a RunFailed when lr == 0.02
    die_lr=0.02      the worker process exits (os._exit) during epoch 2 when lr == 0.02
    hang=1           ignore stop requests (for the kill path)
    modules=1        log torch_loaded = 1.0 if torch is imported in the worker, else 0.0

Curve: val_loss(epoch) = 10 * lr + 1 / epoch + 0.001 * train.seed; val_accuracy = 1 - val_loss / 10.

Like the trainer, it calls its callbacks (the run recorder among them): on_run_start with a
RunStarted, on_epoch_end every epoch, on_run_end with the terminal event.
"""

from __future__ import annotations

import os
import sys
import time

from workbench.core.training import EpochEnd, RunContext, RunFailed, RunFinished, RunStarted, RunStopped


def _directives(name: str) -> dict[str, str]:
    return dict(w.split("=", 1) for w in name.split() if "=" in w)


def curve(lr: float, epoch: int, seed: int = 0) -> float:
    return 10 * lr + 1 / epoch + 0.001 * seed


def _started(spec) -> RunStarted:
    return RunStarted(name=spec.name, spec_json=spec.to_json(), device="cpu", device_name="scripted",
                      precision="fp32", task="classification", class_names=["a", "b"], n_train=10, n_val=5,
                      n_test=0, epochs=spec.train.epochs, batch_size=10, steps_per_epoch=1, summary=[],
                      total_params=3, total_flops=0, memory_bytes=0)


def train(spec, *, control=None, callbacks=(), run_dir=None, **_ignored):
    run = RunContext(spec=spec, device="cpu", run_dir=run_dir)  # a device object would import torch

    def end(event):
        for cb in callbacks:
            cb.on_run_end(run, event)
        return event

    d = _directives(spec.name)
    lr = float(spec.optimizer.params.get("lr", 0.01))
    delay = float(d.get("delay", 0.0))
    if "slow_from_lr" in d and lr < float(d["slow_from_lr"]):
        delay = 0.0
    match = lambda key: key in d and abs(float(d[key]) - lr) < 1e-12  # noqa: E731
    if match("crash_lr"):
        raise RuntimeError(f"scripted crash at lr={lr}")
    t0 = time.monotonic()
    started = _started(spec)
    for cb in callbacks:
        cb.on_run_start(run, started)
    yield started
    logs: dict[str, float] = {}
    for epoch in range(1, spec.train.epochs + 1):
        if match("die_lr") and epoch == 2:
            os._exit(3)
        if delay:
            time.sleep(delay)
        if control is not None and control.stop_requested and "hang" not in d:
            yield end(RunStopped(epochs=epoch - 1, metrics=logs, duration=time.monotonic() - t0, reason="stopped"))
            return
        if match("fail_lr") and epoch == 2:
            yield end(RunFailed(message=f"scripted failure at lr={lr}: the loss exploded", epochs=epoch))
            return
        v = curve(lr, epoch, spec.train.seed)
        logs = {"loss": v, "val_loss": v, "val_accuracy": 1 - v / 10, "lr": lr}
        if "modules" in d:
            logs["torch_loaded"] = float("torch" in sys.modules)
        run.epoch = run.step = epoch
        for cb in callbacks:
            cb.on_epoch_end(run, epoch, logs)
        yield EpochEnd(epoch=epoch, step=epoch, logs=dict(logs), lr=lr, samples_per_s=0.0,
                       elapsed=time.monotonic() - t0, epoch_seconds=delay)
    yield end(RunFinished(epochs=spec.train.epochs, metrics=dict(logs), duration=time.monotonic() - t0))
