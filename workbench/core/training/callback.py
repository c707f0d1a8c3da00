"""The callback interface: RunContext (what a callback sees of a run) and Callback (its hooks).

The training loop owns the order of things; it calls, for every callback in order:

  on_run_start(run, RunStarted)               after the model is built, before the first step
  on_progress(run, BatchProgress)             each time the loss is read back (a few times a second)
  on_epoch_end(run, epoch, logs)              after validation; logs as in EpochEnd.logs
  on_event(run, event)                        LRChanged, Paused, Resumed, CheckpointSaved
  on_run_end(run, TerminalEvent)              once, with the terminal event about to be yielded

A callback asks to end the run with `run.request_stop(reason, finished=...)`: finished=True ends
it as RunFinished (early stopping), otherwise as RunStopped (TerminateOnNaN). The loop checks
after each hook. A callback may also `run.emit(event)` (e.g. CheckpointSaved); the loop yields
those events next (events emitted in on_run_end only reach the callbacks' on_event: the terminal
event is always the last one yielded). An exception in a callback ends the run with RunFailed (details = traceback).

This module imports no torch (the run store's recorder is a callback, and the app reads the
store before torch is loaded); torch objects only pass through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.core.training.events import BatchProgress, Event, RunStarted, TerminalEvent

if TYPE_CHECKING:
    import torch

    from workbench.core.spec import ExperimentSpec

__all__ = ["RunContext", "Callback"]


def _cpu() -> "torch.device":
    import torch

    return torch.device("cpu")


@dataclass
class RunContext:
    """What callbacks see of a run. Built by the trainer; fields are live."""

    spec: "ExperimentSpec"
    model: torch.nn.Module | None = None
    optimizer: torch.optim.Optimizer | None = None
    scheduler: Any = None  # catalog SchedulerHandle or None
    scaler: Any = None  # torch.amp.GradScaler for fp16
    device: torch.device = field(default_factory=_cpu)
    meta: Any = None  # DatasetMeta
    run_dir: Path | None = None
    epoch: int = 0  # last completed epoch (1-based), start_epoch before the first
    step: int = 0  # optimizer steps so far
    start_epoch: int = 0
    logs: dict[str, float] = field(default_factory=dict)  # last epoch's logs
    # what was fitted on the training split (PreparedData.preprocessing(): input mean/std, the
    # target scaler), saved in checkpoints so a past run can be evaluated and exported
    preprocessing: dict[str, Any] = field(default_factory=dict)
    data: Any = None  # PreparedData: the splits the run trains and evaluates on
    precision: Any = None  # the run's resolved precision (autocast dtype) for forward passes
    # split name -> the model's outputs (on the device) that the latest metrics of that split
    # came from: "val" after every epoch; "val" and "test" of the final weights at the end
    outputs: dict[str, Any] = field(default_factory=dict)
    control: Any = None  # the run's TrainControl, when someone outside can pause/resume it
    ema: Any = None  # torch.optim.swa_utils.AveragedModel when train.ema is set
    grad_norm_before_clip: Any = None  # the last step's total gradient norm (a tensor) when clipping
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
        import torch

        from workbench.core.training.checkpoint import state_dict_to_cpu

        sched = self.scheduler  # a catalog SchedulerHandle (its state includes its step count)
        return {
            "model": state_dict_to_cpu(self.model.state_dict()) if self.model is not None else {},
            "ema": state_dict_to_cpu(self.ema.module.state_dict()) if self.ema is not None else None,
            "optimizer": state_dict_to_cpu(self.optimizer.state_dict()) if self.optimizer is not None else None,
            "scheduler": state_dict_to_cpu(sched.state_dict()) if sched is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "epoch": int(self.epoch),
            "step": int(self.step),
            "spec_json": self.spec.to_json(),
            "metrics": {k: float(v) for k, v in (logs if logs is not None else self.logs).items()},
            "preprocessing": self.preprocessing,
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
