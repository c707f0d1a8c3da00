"""The live run's numbers, as core events deliver them (no Qt here).

Each event appends a row to a growing buffer and nothing else, so handling an event costs a
few microseconds whatever the batch rate; the plot reads the buffers on its own timer.
"""

from __future__ import annotations

import math

import numpy as np

from workbench.core.training import (BatchProgress, EpochEnd, Event, HealthAlert, LRChanged, Overfitting,
                                     RunStarted, TerminalEvent, judge_overfitting)

from .buffers import RowBuffer

X_MODES = ("step", "epoch", "time")
ALERT_WORDS = {"exploding": "exploding gradients", "vanishing": "vanishing gradients", "dead_units": "dead units",
               "plateau": "loss plateau", "divergence": "diverged"}


# batch losses further apart than this many epochs, and this many times the gap before, are not
# joined by a line
BATCH_GAP_EPOCHS = 2
BATCH_GAP_FACTOR = 4


class LiveRun:
    """Rows of the current run: batches (step-level train loss), epochs (train/validation loss
    and metric) and learning rates, each with its step / epoch / time coordinates."""

    def __init__(self, overfit_patience: int = 3):
        self.overfit_patience = overfit_patience
        self.batches = RowBuffer(("step", "epoch", "time", "loss"))
        self.epochs = RowBuffer(("step", "epoch", "time", "loss", "val_loss", "metric",
                                 "val_metric"))
        self.lrs = RowBuffer(("step", "epoch", "time", "lr"))
        self.reset()

    def reset(self) -> None:
        for buf in (self.batches, self.epochs, self.lrs):
            buf.clear()
        self.task: str | None = None
        self.metric_key = "accuracy"
        self.standardized_target = False  # the loss is in standardised units (RunStarted.target_scaler)
        self.steps_per_epoch = 0
        self._batch_gap = 0  # steps between the last two batch losses
        self.planned_epochs = 0  # the run's last epoch (RunStarted.epochs)
        self.last_elapsed = 0.0
        self.live = False
        self.overfit = None  # core.training.Overfitting: since_epoch, best_epoch
        self.lr_lo, self.lr_hi = np.inf, 0.0  # positive learning rates seen (for log-y)

    def handle(self, event: Event) -> str | None:
        """Take in one event; returns what it was ("batch", "epoch", "start", "lr", "end") or
        None for events the plot does not show. For "lr", `lr_mark` holds (coords, text)."""
        if isinstance(event, BatchProgress):
            epoch_x = event.epoch - 1 + event.batch / max(event.batches, 1)
            self._break_batch_line(event.step, epoch_x, event.elapsed)
            self.batches.append((event.step, epoch_x, event.elapsed, event.loss))
            self.lrs.append((event.step, epoch_x, event.elapsed, event.lr))
            self._note_lr(event.lr)
            self.last_elapsed = event.elapsed
            return "batch"
        if isinstance(event, EpochEnd):
            self._on_epoch_end(event)
            return "epoch"
        if isinstance(event, RunStarted):
            self.reset()
            self.task = event.task
            self.metric_key = "r2" if event.task == "regression" else "accuracy"
            self.standardized_target = bool(event.target_scaler)
            self.steps_per_epoch = event.steps_per_epoch
            self.planned_epochs = event.epochs
            self.live = True
            return "start"
        if isinstance(event, LRChanged):
            epoch_x = (event.step / self.steps_per_epoch if self.steps_per_epoch
                       else float(event.epoch - 1))
            self.lr_mark = ({"step": event.step, "epoch": epoch_x, "time": self.last_elapsed},
                            f"lr → {event.lr:.3g}")
            return "lr"
        if isinstance(event, HealthAlert) and event.kind == "overfitting":
            # the run's own verdict (the one the status bar and the alert list give) is the one shown
            self.overfit = Overfitting(since_epoch=int(event.value), best_epoch=int(event.best_epoch))
            return "overfitting"
        if isinstance(event, HealthAlert):
            epoch_x = (event.step / self.steps_per_epoch if self.steps_per_epoch
                       else float(event.epoch - 1))
            self.alert_mark = ({"step": event.step, "epoch": epoch_x, "time": self.last_elapsed},
                               ALERT_WORDS.get(event.kind, event.kind) + (f" ({event.layer})" if event.layer else ""),
                               event.message)
            return "alert"
        if isinstance(event, TerminalEvent):
            self.live = False
            return "end"
        return None

    def _on_epoch_end(self, event: EpochEnd) -> None:
        logs = event.logs
        if self.task is None and ("r2" in logs or "val_r2" in logs):
            self.metric_key = "r2"
        key = self.metric_key
        self.epochs.append_dict({
            "step": event.step, "epoch": event.epoch, "time": event.elapsed,
            "loss": logs.get("loss"), "val_loss": logs.get("val_loss"),
            "metric": logs.get(key), "val_metric": logs.get("val_" + key),
        })
        self.lrs.append((event.step, event.epoch, event.elapsed, event.lr))
        self._note_lr(event.lr)
        self.last_elapsed = event.elapsed
        n = len(self.epochs)
        # Judged until found, then kept: "overfitting since epoch N" must not drift as epochs come
        # (the health monitor raises it once, and its alert replaces this judgement when it comes).
        if self.overfit is None and (n <= 500 or n % (n // 500) == 0):  # (each judgement reads every epoch)
            self.overfit = judge_overfitting(self.epochs.column("epoch"), self.epochs.column("loss"),
                                             self.epochs.column("val_loss"), patience=self.overfit_patience)

    @property
    def overfit_epoch(self) -> int | None:
        """The first epoch of a sustained validation-loss rise (smoothed curves), as first found or
        as the run's overfitting alert says; None before."""
        return self.overfit.since_epoch if self.overfit is not None else None

    def _break_batch_line(self, step: int, epoch_x: float, elapsed: float) -> None:
        """Batch losses come only from epochs long enough to report inside them (the child
        reports every ~0.1 s): after epochs without any, the next one starts a new line rather
        than joining one thousands of steps back with a straight line that reads as data."""
        if not len(self.batches) or not self.steps_per_epoch:
            return
        b = self.batches
        last_step, last_epoch, last_time = b.last("step"), b.last("epoch"), b.last("time")
        gap, usual = step - last_step, self._batch_gap
        # (a fast run reports every few epochs, evenly: that sampled line is kept)
        if gap > BATCH_GAP_EPOCHS * self.steps_per_epoch and 0 < usual * BATCH_GAP_FACTOR < gap:
            b.append(((last_step + step) / 2, (last_epoch + epoch_x) / 2, (last_time + elapsed) / 2, math.nan))
        self._batch_gap = gap

    def _note_lr(self, lr: float) -> None:
        if lr > 0:
            self.lr_lo, self.lr_hi = min(self.lr_lo, lr), max(self.lr_hi, lr)

    def x_end(self, mode: str) -> float | None:
        """Where the live run will end on the `mode` axis (its last epoch or step), or None when
        that is not known (the time axis, a finished run)."""
        if not self.live or self.planned_epochs <= 0:
            return None
        if mode == "epoch":
            return float(self.planned_epochs)
        if mode == "step" and self.steps_per_epoch:
            return float(self.planned_epochs * self.steps_per_epoch)
        return None

    def x_range(self, mode: str) -> tuple[float, float] | None:
        """Smallest and largest x of any row (x grows within a run), or None without rows."""
        lo, hi = np.inf, -np.inf
        for buf in (self.batches, self.epochs, self.lrs):
            if len(buf):
                x = buf.column(mode)
                if buf.has_nonfinite(mode):
                    x = x[np.isfinite(x)]
                if x.size:
                    lo, hi = min(lo, x[0]), max(hi, x[-1])
        return (float(lo), float(hi)) if np.isfinite(lo) else None
