"""The terminal event of a run whose loop ended (finished, early-stopped, stopped by the user or
by a callback): the final metrics, measured on the final weights."""

from __future__ import annotations

import math
from typing import Any

from workbench.core.training.callbacks import RunContext
from workbench.core.training.evaluation import ema_view, evaluate
from workbench.core.training.events import RunFinished, RunStopped, TerminalEvent

__all__ = ["terminal_event", "majority_class"]


def majority_class(train_y, meta) -> int | None:
    """The most common class of the training labels (None for regression or no labels): the
    class a model that learnt nothing would always guess."""
    if meta.task != "classification" or train_y.ndim != 1 or not len(train_y):
        return None
    return int(train_y.long().bincount().argmax())


def _baselines(ctx: Any) -> dict[str, float]:
    """`{split}_baseline_accuracy`: the accuracy of always guessing the majority class."""
    majority = getattr(ctx, "majority_class", None)
    if majority is None:
        return {}
    return {f"{prefix}baseline_accuracy": (es.y == majority).double().mean().item()
            for prefix, es in (("val_", ctx.val), ("test_", ctx.test)) if len(es) and es.y.ndim == 1}


def terminal_event(run: RunContext, ctx: Any, epochs_done: int, duration: float,
                   partial: dict[str, float]) -> TerminalEvent:
    """RunFinished or RunStopped for a run after its loop: the last epoch's loss/accuracy (or the
    running loss `partial` of an epoch cut short), val/test metrics of the final weights (unless
    a NaN stop left them non-finite) and the lr. `ctx` is the trainer's loop state."""
    metrics: dict[str, float] = {}
    last = dict(run.logs) if run.logs else {}
    if partial and (not last or ctx.user_stop or run.stop_requested):
        # stopped inside an epoch: the running loss of that epoch is the latest we have
        last = {**{k: v for k, v in last.items() if not k.startswith("val_")}, **partial}
    if "loss" in last:
        metrics["loss"] = metrics["train_loss"] = float(last["loss"])
    if "accuracy" in last:
        metrics["accuracy"] = float(last["accuracy"])
    nan_stop = bool(run.stop_reason and "NaN" in run.stop_reason or
                    run.stop_reason and "infinite" in run.stop_reason)
    run.outputs.clear()  # from here on: the outputs of the final weights only
    if not nan_stop or all(math.isfinite(p.detach().float().sum().item()) for p in ctx.model.parameters()):
        # numbers from the final weights (after any early-stopping/NaN restore)
        if len(ctx.val):
            metrics.update(evaluate(ctx, ctx.val, "val_", sink=run.outputs))
        if len(ctx.test):
            metrics.update(evaluate(ctx, ctx.test, "test_", sink=run.outputs))
        metrics.update(_baselines(ctx))
        if run.ema is not None:  # the weights' moving average, measured beside them
            for split, prefix in ((ctx.val, "val_ema_"), (ctx.test, "test_ema_")):
                if len(split):
                    metrics.update(evaluate(ema_view(ctx, run.ema), split, prefix))
    metrics["lr"] = run.lr
    if ctx.user_stop:
        return RunStopped(epochs=epochs_done, metrics=metrics, duration=duration, reason="stopped by the user")
    if run.stop_requested and not run.stop_finished:
        return RunStopped(epochs=epochs_done, metrics=metrics, duration=duration, reason=run.stop_reason or "")
    return RunFinished(epochs=epochs_done, metrics=metrics, duration=duration,
                       reason=run.stop_reason or "", best_epoch=run.best_epoch)
