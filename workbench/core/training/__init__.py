"""Training: model building, the trainer (a generator of events), events, callbacks, control,
checkpoints, devices and metrics. Everything outside this package imports from here.

Events, control and the callback interface load without torch (the app draws its window and
reads the run store before torch is imported, which takes seconds); the names that need torch
are loaded on first use (PEP 562), so `from workbench.core.training import EpochEnd` stays cheap.
"""

from __future__ import annotations

from typing import Any

from workbench.core.lazy import lazy_attributes
from workbench.core.training.callback import Callback, RunContext
from workbench.core.training.control import TrainControl
from workbench.core.training.events import (
    ArtifactSaved,
    BatchProgress,
    CheckpointSaved,
    EpochEnd,
    EvaluationSnapshot,
    Event,
    HealthAlert,
    HealthSample,
    LRChanged,
    Paused,
    Resumed,
    RunFailed,
    RunFinished,
    RunRecorded,
    RunStarted,
    RunStopped,
    TerminalEvent,
)
from workbench.core.training.health_rules import (
    HealthRules,
    Overfitting,
    judge_overfitting,
    smooth,
)

# name -> submodule; these import torch, so they load when first asked for
_NEEDS_TORCH = {
    "train": "trainer",
    "History": "callbacks", "EarlyStopping": "callbacks", "TerminateOnNaN": "callbacks",
    "Checkpoint": "callbacks", "resolve_mode": "callbacks", "resolve_monitor": "callbacks",
    "CheckpointError": "checkpoint", "save_checkpoint": "checkpoint", "load_checkpoint": "checkpoint",
    "state_dict_to_cpu": "checkpoint",
    "DeviceError": "device", "select_device": "device", "device_name": "device",
    "available_devices": "device", "resolve_precision": "device", "cpu_count": "device",
    "ModelError": "model_summary", "ModelSummary": "model_summary", "LayerInfo": "model_summary", "summarize": "model",
    "check_experiment": "model", "build_model": "model",
    "model_outputs": "evaluation",
    "predicted_classes": "metrics", "confusion_matrix": "metrics",
    "classification_metrics": "metrics", "regression_metrics": "metrics",
    "InitReport": "finetune", "read_weights": "finetune", "load_initial_weights": "finetune",
    "freeze_layers": "finetune", "parameter_groups": "finetune", "Unfreeze": "finetune",
    "init_weights_path": "finetune", "prepare_fine_tuning": "finetune", "check_initial_weights": "finetune",
    "epoch_seed": "batching", "epoch_permutation": "batching", "batch_slices": "batching",
    "resolve_batch_size": "batching", "threads_for": "batching",
    "loss_target_fn": "loop_state",
    "HealthMonitor": "health", "layer_names": "health",
}

__all__ = [
    "Callback", "RunContext", "TrainControl", "HealthRules", "Overfitting", "judge_overfitting", "smooth",
    "Event", "RunStarted", "BatchProgress", "EpochEnd", "LRChanged", "Paused", "Resumed",
    "CheckpointSaved", "RunRecorded", "ArtifactSaved", "EvaluationSnapshot", "HealthSample", "HealthAlert",
    "TerminalEvent", "RunFinished", "RunStopped", "RunFailed",
    *_NEEDS_TORCH,
]


__getattr__ = lazy_attributes(__name__, globals(), _NEEDS_TORCH)
