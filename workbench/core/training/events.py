"""Events yielded by the trainer: plain, picklable values (they cross a process pipe).

Every run yields exactly one RunStarted first (unless it fails before starting; a recorded run
sends RunRecorded before it) and exactly one terminal event last: RunFinished, RunStopped or RunFailed. Metric dicts follow the Keras
convention: plain floats, validation keys prefixed `val_`, test keys `test_`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    def to_dict(self) -> dict[str, Any]:
        return {"event": type(self).__name__, **asdict(self)}


@dataclass(frozen=True)
class RunStarted(Event):
    name: str
    spec_json: str
    device: str  # "cpu", "cuda:0", "mps"
    device_name: str  # "CPU (2 threads)", "NVIDIA H100 80GB HBM3"
    precision: str  # "fp32", "bf16", "fp16"
    task: str  # "classification" | "regression"
    class_names: list[str]
    n_train: int
    n_val: int
    n_test: int
    epochs: int
    batch_size: int
    steps_per_epoch: int
    summary: list[dict[str, Any]]  # per layer: index, type, out_shape, params, flops
    total_params: int
    total_flops: int
    memory_bytes: int
    start_epoch: int = 0  # > 0 when continuing from a checkpoint
    # regression trained on a standardised target: {"mean": [...], "std": [...]} per target
    # column (TargetScaler.to_dict()); losses are then in standardised units, metrics in the
    # target's own units. None otherwise.
    target_scaler: dict[str, list[float]] | None = None
    # what fine-tuning did before the first step ("loaded 4 of 5 layers from run #3 ...; layers 1, 2 frozen")
    notes: list[str] = field(default_factory=list)
    accumulate_batches: int = 1  # optimizer step every N batches: effective batch = batch_size × N


@dataclass(frozen=True)
class BatchProgress(Event):
    """A few times a second, not every batch."""

    epoch: int  # 1-based
    batch: int  # batches done in this epoch
    batches: int
    step: int  # global optimizer steps so far
    loss: float  # mean training loss since the previous BatchProgress
    lr: float
    samples_per_s: float
    elapsed: float


@dataclass(frozen=True)
class EpochEnd(Event):
    epoch: int  # 1-based
    step: int
    logs: dict[str, float]  # loss, accuracy..., val_loss, val_accuracy..., lr
    lr: float
    samples_per_s: float
    elapsed: float
    epoch_seconds: float


@dataclass(frozen=True)
class LRChanged(Event):
    """A live learning-rate change requested by the user (marked on the curves)."""

    epoch: int
    step: int
    lr: float
    previous: float


@dataclass(frozen=True)
class Paused(Event):
    epoch: int
    step: int


@dataclass(frozen=True)
class Resumed(Event):
    epoch: int
    step: int


@dataclass(frozen=True)
class CheckpointSaved(Event):
    path: str
    kind: str  # "best" | "last"
    epoch: int


@dataclass(frozen=True)
class RunRecorded(Event):
    """Where the run is recorded: its id in the run store and its folder (checkpoints go there).
    Not from the trainer: whoever records the run (core.execution) sends it first, before training
    starts, so the caller knows the run's record while it trains."""

    run_id: int
    run_dir: str


@dataclass(frozen=True)
class ArtifactSaved(Event):
    """A file of the run written by a callback (predictions, preprocessing, final weights)."""

    kind: str
    path: str
    epoch: int


@dataclass(frozen=True)
class EvaluationSnapshot(Event):
    """Every few epochs: what the model predicts now (see core.evaluation's recorder). The
    decision-boundary grid travels as plain lists; the validation predictions are in the file."""

    epoch: int
    predictions_path: str  # "" when the run has no folder to write to
    boundary: dict[str, Any] | None = None
    seconds: float = 0.0  # what taking the snapshot cost the training process


@dataclass(frozen=True)
class HealthSample(Event):
    """Per-layer statistics of one sampled optimizer step (the health monitor, training.health).

    Lists run over `layers` (the model's top-level layers, "1 Linear", "2 ReLU", ...); NaN where
    a statistic does not apply (no parameters; not a ReLU for dead units). The update/weight
    ratio is ‖Δw‖ / ‖w‖ of the step; around 1e-3 is healthy.
    """

    epoch: int  # the epoch in progress (1-based)
    step: int  # optimizer steps so far, this one included
    layers: list[str]
    grad_norm: list[float]
    update_ratio: list[float]
    act_mean: list[float]  # of the layer's output, over the first 32 samples of the batch
    act_std: list[float]
    dead_fraction: list[float]  # units that output 0 for every sample of the whole batch
    total_grad_norm: float  # over every parameter, before clipping when train.grad_clip is set
    lr: float


@dataclass(frozen=True)
class HealthAlert(Event):
    """Something about the run a person should know, in plain words, with what to do.

    kind: exploding | vanishing | dead_units | plateau | divergence | overfitting
    value: the alert's number (norm ratio, dead fraction, ...); suggested_lr: for divergence and
    plateau, the learning rate the alert proposes (0 when none); best_epoch: for overfitting.
    """

    kind: str
    epoch: int
    step: int
    message: str
    layer: str = ""
    value: float = 0.0
    suggested_lr: float = 0.0
    best_epoch: int = 0


@dataclass(frozen=True)
class TerminalEvent(Event):
    pass


@dataclass(frozen=True)
class RunFinished(TerminalEvent):
    """All epochs ran, or a callback (early stopping) ended the run normally."""

    epochs: int
    metrics: dict[str, float]  # final train/val and test metrics
    duration: float
    reason: str = ""
    best_epoch: int | None = None


@dataclass(frozen=True)
class RunStopped(TerminalEvent):
    """Stopped by the user or by TerminateOnNaN; test metrics still computed when possible."""

    epochs: int
    metrics: dict[str, float]
    duration: float
    reason: str = ""


@dataclass(frozen=True)
class RunFailed(TerminalEvent):
    message: str  # for a person: what went wrong and what to do
    details: str = ""  # traceback, for the expandable part of a dialog
    epochs: int = 0
