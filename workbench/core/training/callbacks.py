"""The built-in callbacks (Lightning Callback / Keras style): History, EarlyStopping,
TerminateOnNaN and Checkpoint. The interface they implement is in callback.py."""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from workbench.core.catalog import metric_direction
from workbench.core.training.callback import Callback, RunContext
from workbench.core.training.checkpoint import save_checkpoint
from workbench.core.training.events import (
    CheckpointSaved,
    LRChanged,
    TerminalEvent,
)

def resolve_mode(monitor: str, mode: str) -> str:
    """'auto' -> the metric's direction in the catalog ('max' for accuracy, 'min' for losses)."""
    if mode != "auto":
        return mode
    return metric_direction(monitor)


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
    """Act as soon as the training loss is NaN/inf (checked at every read-back and at epoch end):
    put back the weights from the last epoch that ended finite, then stop the run, or with
    `pause` (an interactive run that someone can resume) pause it there, clear the optimizer's
    state (its moments hold the NaNs too) and raise a divergence HealthAlert that offers a
    learning rate ten times lower. The epoch in which a paused run diverged keeps a NaN training
    loss; the run continues from the restored weights when resumed."""

    def __init__(self, pause: bool = False) -> None:
        self.pause = pause
        self._good: dict[str, torch.Tensor] | None = None
        self._good_epoch = 0
        self._handled_epoch: int | None = None  # a paused run's epoch that already diverged

    def on_run_start(self, run, event):
        if run.model is not None:
            self._good = run.snapshot_weights()
            self._good_epoch = run.start_epoch

    def _restore(self, run: RunContext) -> str:
        if self._good is None:
            return "no good weights to keep"
        run.restore_weights(self._good)
        return (f"kept the weights from the end of epoch {self._good_epoch}" if self._good_epoch
                else "kept the initial weights")

    def _terminate(self, run: RunContext, epoch: int, step: int, what: str) -> None:
        kept = self._restore(run)
        clip = ("enable gradient clipping (train.grad_clip, e.g. 1.0)" if run.spec.train.grad_clip is None
                else f"lower the gradient clipping (now {run.spec.train.grad_clip:g})")
        if self.pause and run.control is not None:
            self._pause(run, epoch, step, what, kept, clip)
            return
        run.request_stop(
            f"the training loss became {what} at epoch {epoch}, step {step}; {kept}. "
            f"Lower the learning rate (now {run.lr:.3g}) or {clip}."
        )

    def _pause(self, run: RunContext, epoch: int, step: int, what: str, kept: str, clip: str) -> None:
        from workbench.core.training.events import HealthAlert

        if run.optimizer is not None:
            run.optimizer.state.clear()  # momentum / second moments are NaN as well
        self._handled_epoch = epoch
        lower = run.lr / 10
        run.control.pause()
        run.emit(HealthAlert(
            kind="divergence", epoch=epoch, step=step, suggested_lr=lower, value=run.lr,
            message=(f"Diverged: the training loss became {what} at epoch {epoch}, step {step}. Paused; {kept} "
                     f"and reset the optimizer's state. Resume with a lower learning rate (now {run.lr:.3g}; "
                     f"try {lower:.3g}) or {clip}."),
        ))

    def _weights_finite(self, run: RunContext) -> bool:
        return run.model is None or all(bool(torch.isfinite(p).all()) for p in run.model.parameters())

    def on_progress(self, run, event):
        if math.isfinite(event.loss):
            return
        if self._handled_epoch == event.epoch and self._weights_finite(run):
            return  # the epoch's running sum still holds the NaN from before the pause
        self._terminate(run, event.epoch, event.step, "NaN" if math.isnan(event.loss) else "infinite")

    def on_epoch_end(self, run, epoch, logs):
        keys = ("val_loss",) if self._handled_epoch == epoch and self._weights_finite(run) else ("loss", "val_loss")
        bad = [k for k in keys if k in logs and not math.isfinite(logs[k])]
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
