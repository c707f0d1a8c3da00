"""Callbacks: observers of a run that may ask it to stop (Lightning Callback / Keras style).

The training loop owns the order of things; it calls, for every callback in order:

  on_run_start(run, RunStarted)               after the model is built, before the first step
  on_progress(run, BatchProgress)             each time the loss is read back (a few times a second)
  on_epoch_end(run, epoch, logs)              after validation; logs as in EpochEnd.logs
  on_event(run, event)                        LRChanged, Paused, Resumed, CheckpointSaved
  on_run_end(run, TerminalEvent)              once, with the terminal event about to be yielded

A callback asks to end the run with `run.request_stop(reason, finished=...)`: finished=True ends
it as RunFinished (early stopping), otherwise as RunStopped (TerminateOnNaN). The loop checks
after each hook. A callback may also `run.emit(event)` (e.g. CheckpointSaved); the loop yields
those events next. An exception in a callback ends the run with RunFailed (details = traceback).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from workbench.core.checkpoint import save_checkpoint, state_dict_to_cpu
from workbench.core.events import (
    BatchProgress,
    CheckpointSaved,
    Event,
    LRChanged,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStopped,
    TerminalEvent,
)

if TYPE_CHECKING:
    from workbench.core.runs import RunStore
    from workbench.core.spec import ExperimentSpec

_MAX_MODE_WORDS = ("acc", "accuracy", "f1", "precision", "recall", "r2", "auc")


@dataclass
class RunContext:
    """What callbacks see of a run. Built by the trainer; fields are live."""

    spec: "ExperimentSpec"
    model: torch.nn.Module | None = None
    optimizer: torch.optim.Optimizer | None = None
    scheduler: Any = None  # catalog SchedulerHandle or None
    scaler: Any = None  # torch.amp.GradScaler for fp16
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    meta: Any = None  # DatasetMeta
    run_dir: Path | None = None
    epoch: int = 0  # last completed epoch (1-based), start_epoch before the first
    step: int = 0  # optimizer steps so far
    start_epoch: int = 0
    logs: dict[str, float] = field(default_factory=dict)  # last epoch's logs
    # set by request_stop
    stop_reason: str | None = None
    stop_finished: bool = False
    best_epoch: int | None = None
    _emitted: list[Event] = field(default_factory=list)

    # ---- for callbacks --------------------------------------------------------------------
    def request_stop(self, reason: str, *, finished: bool = False, best_epoch: int | None = None) -> None:
        """End the run after the current hook: RunFinished if `finished` else RunStopped.
        The first request wins."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_finished = finished
            self.best_epoch = best_epoch

    @property
    def stop_requested(self) -> bool:
        return self.stop_reason is not None

    def emit(self, event: Event) -> None:
        self._emitted.append(event)

    def take_emitted(self) -> list[Event]:
        out, self._emitted = self._emitted, []
        return out

    @property
    def lr(self) -> float:
        if self.optimizer is None:
            return float("nan")
        return float(self.optimizer.param_groups[0]["lr"])

    def snapshot_weights(self) -> dict[str, torch.Tensor]:
        """A copy of the model's state dict on its own device (cheap; for restoring later)."""
        assert self.model is not None
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore_weights(self, snapshot: dict[str, torch.Tensor]) -> None:
        assert self.model is not None
        self.model.load_state_dict(snapshot)

    def checkpoint_payload(self, logs: dict[str, float] | None = None) -> dict[str, Any]:
        """Everything needed to continue this run later (see checkpoint.py)."""
        sched = self.scheduler  # a catalog SchedulerHandle (its state includes its step count)
        return {
            "model": state_dict_to_cpu(self.model.state_dict()) if self.model is not None else {},
            "optimizer": state_dict_to_cpu(self.optimizer.state_dict()) if self.optimizer is not None else None,
            "scheduler": state_dict_to_cpu(sched.state_dict()) if sched is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "epoch": int(self.epoch),
            "step": int(self.step),
            "spec_json": self.spec.to_json(),
            "metrics": {k: float(v) for k, v in (logs if logs is not None else self.logs).items()},
            "rng_state": torch.get_rng_state(),
            "cuda_rng_state": (
                torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
            ),
        }


class Callback:
    """Base class; every hook is optional."""

    def on_run_start(self, run: RunContext, event: RunStarted) -> None: ...

    def on_progress(self, run: RunContext, event: BatchProgress) -> None: ...

    def on_epoch_end(self, run: RunContext, epoch: int, logs: dict[str, float]) -> None: ...

    def on_event(self, run: RunContext, event: Event) -> None: ...

    def on_run_end(self, run: RunContext, event: TerminalEvent) -> None: ...


def resolve_mode(monitor: str, mode: str) -> str:
    """'auto' -> 'max' for accuracy-like metrics, else 'min'."""
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_").removeprefix("test_").lower()
    return "max" if any(w == name or name.endswith(w) for w in _MAX_MODE_WORDS) else "min"


def resolve_monitor(monitor: str, logs: dict[str, float]) -> str:
    """The key actually watched: `monitor`, or its training twin when there is no validation
    split (val_loss -> loss)."""
    if monitor in logs:
        return monitor
    bare = monitor.removeprefix("val_")
    if bare in logs:
        return bare
    raise KeyError(
        f"early stopping watches {monitor!r} but the epoch logs only have "
        f"{', '.join(sorted(logs))}; set train.early_stopping.monitor to one of those"
    )


def _fmt(x: float) -> str:
    return f"{x:.4g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.3e}"


# ---------------------------------------------------------------------------------------------
class History(Callback):
    """Keeps every epoch's logs: `history.epochs` is a list of dicts with an 'epoch' key."""

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []
        self.lr_changes: list[LRChanged] = []
        self.terminal: TerminalEvent | None = None

    def on_epoch_end(self, run, epoch, logs):
        self.epochs.append({"epoch": epoch, **logs})

    def on_event(self, run, event):
        if isinstance(event, LRChanged):
            self.lr_changes.append(event)

    def on_run_end(self, run, event):
        self.terminal = event

    def series(self, key: str) -> list[float]:
        return [e[key] for e in self.epochs if key in e]


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    With restore_best the weights of the best epoch are put back when it stops (not when the
    run simply reaches its last epoch). Ends the run as RunFinished with reason and best_epoch.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 mode: str = "auto", restore_best: bool = True) -> None:
        if patience < 1:
            raise ValueError("patience must be ≥ 1")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = abs(min_delta)
        self.mode = mode
        self.restore_best = restore_best
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self._best_weights: dict[str, torch.Tensor] | None = None
        self._key: str | None = None

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if resolve_mode(self._key or self.monitor, self.mode) == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_run_start(self, run, event):
        self.best, self.best_epoch, self.wait, self._best_weights = None, None, 0, None

    def on_epoch_end(self, run, epoch, logs):
        self._key = key = resolve_monitor(self.monitor, logs)
        value = float(logs[key])
        if not math.isfinite(value):
            return  # TerminateOnNaN deals with it; a NaN is never "best"
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best and run.model is not None:
                self._best_weights = run.snapshot_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            restored = False
            if self.restore_best and self._best_weights is not None and self.best_epoch != epoch:
                run.restore_weights(self._best_weights)
                restored = True
            run.request_stop(
                f"early stopping: {key} did not improve for {self.wait} epochs "
                f"(best {_fmt(self.best)} at epoch {self.best_epoch}"
                f"{'; weights restored' if restored else ''})",
                finished=True,
                best_epoch=self.best_epoch,
            )


class TerminateOnNaN(Callback):
    """Stop as soon as the training loss is NaN/inf (checked at every read-back and at epoch
    end) and put back the weights from the last epoch that ended finite."""

    def __init__(self) -> None:
        self._good: dict[str, torch.Tensor] | None = None
        self._good_epoch = 0

    def on_run_start(self, run, event):
        if run.model is not None:
            self._good = run.snapshot_weights()
            self._good_epoch = run.start_epoch

    def _terminate(self, run: RunContext, epoch: int, step: int, what: str) -> None:
        if self._good is not None:
            run.restore_weights(self._good)
            kept = (f"kept the weights from the end of epoch {self._good_epoch}" if self._good_epoch
                    else "kept the initial weights")
        else:
            kept = "no good weights to keep"
        clip = ("enable gradient clipping (train.grad_clip, e.g. 1.0)" if run.spec.train.grad_clip is None
                else f"lower the gradient clipping (now {run.spec.train.grad_clip:g})")
        run.request_stop(
            f"the training loss became {what} at epoch {epoch}, step {step}; {kept}. "
            f"Lower the learning rate (now {run.lr:.3g}) or {clip}."
        )

    def on_progress(self, run, event):
        if not math.isfinite(event.loss):
            self._terminate(run, event.epoch, event.step, "NaN" if math.isnan(event.loss) else "infinite")

    def on_epoch_end(self, run, epoch, logs):
        bad = [k for k in ("loss", "val_loss") if k in logs and not math.isfinite(logs[k])]
        if bad:
            v = logs[bad[0]]
            self._terminate(run, epoch, run.step, ("NaN" if math.isnan(v) else "infinite") +
                            ("" if bad[0] == "loss" else f" ({bad[0]})"))
        elif run.model is not None:
            self._good = run.snapshot_weights()
            self._good_epoch = epoch


class Checkpoint(Callback):
    """<run_dir>/last.pt after every epoch, <run_dir>/best.pt when `monitor` improves.

    Writes are atomic (tmp + os.replace); files load with load_checkpoint(weights_only=True).
    """

    def __init__(self, run_dir: str | os.PathLike, monitor: str = "val_loss", mode: str = "auto",
                 save_last: bool = True, save_best: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.monitor = monitor
        self.mode = mode
        self.save_last = save_last
        self.save_best = save_best
        self.best: float | None = None

    def on_run_start(self, run, event):
        self.best = None

    def on_epoch_end(self, run, epoch, logs):
        if not math.isfinite(logs.get("loss", 0.0)):
            return  # never overwrite a good checkpoint with NaN weights
        payload = None
        if self.save_best:
            try:
                key = resolve_monitor(self.monitor, logs)
            except KeyError:
                key = "loss"
            value = float(logs[key])
            better = self.best is None or (
                value < self.best if resolve_mode(key, self.mode) == "min" else value > self.best)
            if math.isfinite(value) and better:
                self.best = value
                payload = run.checkpoint_payload(logs)
                path = save_checkpoint(self.run_dir / "best.pt", payload)
                run.emit(CheckpointSaved(path=str(path), kind="best", epoch=epoch))
        if self.save_last:
            payload = payload or run.checkpoint_payload(logs)
            path = save_checkpoint(self.run_dir / "last.pt", payload)
            run.emit(CheckpointSaved(path=str(path), kind="last", epoch=epoch))


class RunRecorder(Callback):
    """Writes the run into a RunStore as it goes: created at start, every epoch committed when
    it ends, LR changes and checkpoints as they happen, status and final metrics at the end.
    A killed process loses at most the epoch in progress."""

    def __init__(self, store: "RunStore", *, name: str | None = None, parent_id: int | None = None,
                 sweep_id: int | None = None, tags: tuple[str, ...] | list[str] = ()) -> None:
        self.store = store
        self.name = name
        self.parent_id = parent_id
        self.sweep_id = sweep_id
        self.tags = tuple(tags)
        self.run_id: int | None = None
        self._artifacts: set[tuple[str, str]] = set()
        self._started = time.perf_counter()

    def _create(self, run: RunContext, **extra: Any) -> int:
        self.run_id = self.store.create_run(run.spec, name=self.name, parent_id=self.parent_id,
                                            sweep_id=self.sweep_id, tags=self.tags,
                                            run_dir=str(run.run_dir or ""), **extra)
        return self.run_id

    def on_run_start(self, run, event):
        self._started = time.perf_counter()
        self._create(run, device=event.device, task=event.task, total_params=event.total_params)
        self.store.log_event(self.run_id, "started", event.start_epoch, run.step, {
            "device": event.device, "device_name": event.device_name, "precision": event.precision,
            "n_train": event.n_train, "n_val": event.n_val, "n_test": event.n_test,
            "total_params": event.total_params, "start_epoch": event.start_epoch,
        })

    def on_epoch_end(self, run, epoch, logs):
        if self.run_id is not None:
            # step and elapsed let overlays of past runs share the live plot's step/time axes
            self.store.log_epoch(self.run_id, epoch, {
                **logs, "step": float(run.step), "elapsed": time.perf_counter() - self._started,
            })

    def on_event(self, run, event):
        if self.run_id is None:
            return
        if isinstance(event, LRChanged):
            self.store.log_event(self.run_id, "lr_changed", event.epoch, event.step,
                                 {"lr": event.lr, "previous": event.previous})
        elif isinstance(event, CheckpointSaved):
            key = (f"checkpoint_{event.kind}", event.path)
            if key not in self._artifacts:
                self._artifacts.add(key)
                self.store.add_artifact(self.run_id, *key)
        else:
            self.store.log_event(self.run_id, type(event).__name__.lower(),
                                 getattr(event, "epoch", 0), getattr(event, "step", 0), {})

    def on_run_end(self, run, event):
        if self.run_id is None:  # failed before it started: still recorded, so it is never lost
            self._create(run)
        if isinstance(event, RunFinished):
            status, message, duration = "finished", event.reason, event.duration
        elif isinstance(event, RunStopped):
            status, message, duration = "stopped", event.reason, event.duration
        else:
            assert isinstance(event, RunFailed)
            status, message, duration = "failed", event.message, 0.0
        metrics = dict(getattr(event, "metrics", {}) or {})
        if getattr(event, "best_epoch", None) is not None:
            metrics["best_epoch"] = float(event.best_epoch)
        self.store.finish_run(self.run_id, status, metrics, duration, message)
