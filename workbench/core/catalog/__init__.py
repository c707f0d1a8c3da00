"""The palettes: layers, losses, optimizers, schedules and metrics.

The single source of truth: the spec validates against it, the GUI builds its forms from it,
sweeps read parameter ranges from it and export generates code from it. Adding a layer is one
`Entry` in the module of its kind. Importing this package registers every entry; none of them
imports torch at module level (it takes seconds; the app shows its window first).
"""

from workbench.core.catalog import layers, losses, metrics, optimizers, schedules  # noqa: F401  (registers)
from workbench.core.catalog.layers import LayerContext, ShapeProblem, describe_shape
from workbench.core.catalog.losses import default_loss, losses_for_task, make_loss
from workbench.core.catalog.metrics import (
    Direction,
    bare_metric,
    baseline_note,
    better,
    metric_direction,
    metrics_for_task,
)
from workbench.core.catalog.optimizers import make_optimizer
from workbench.core.catalog.registry import (
    REGISTRY,
    Entry,
    EntryKind,
    Param,
    ParamKind,
    close_match,
    did_you_mean,
    entries,
    get_entry,
    param_problems,
    range_words,
    register,
    unknown_entry_message,
)
from workbench.core.catalog.schedules import SchedulerHandle, lr_curve, make_scheduler

__all__ = [
    "REGISTRY", "Entry", "EntryKind", "Param", "ParamKind", "register", "entries", "get_entry",
    "param_problems", "close_match", "did_you_mean", "unknown_entry_message", "range_words",
    "LayerContext", "ShapeProblem", "describe_shape",
    "default_loss", "losses_for_task", "make_loss", "make_optimizer",
    "SchedulerHandle", "lr_curve", "make_scheduler",
    "Direction", "bare_metric", "baseline_note", "better", "metric_direction", "metrics_for_task",
]
