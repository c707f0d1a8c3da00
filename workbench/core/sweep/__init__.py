"""Sweeps: search spaces over spec fields, the Optuna study, the sweep loop that runs trials in
worker processes, and hyperparameter importance. Everything outside this package imports from
here."""

from workbench.core.sweep.apply import apply_params, is_applicable, sample_params
from workbench.core.sweep.distributions import (
    ALLOWED_FORMS,
    DEFAULT_GRID_POINTS,
    Distribution,
    SpaceError,
    parse_distribution,
)
from workbench.core.sweep.events import (
    SweepEvent,
    trial_label,
    SweepFinished,
    SweepStarted,
    TrialEpoch,
    TrialFailed,
    TrialFinished,
    TrialStarted,
    json_line,
)
from workbench.core.sweep.grid import expand_grid, spread
from workbench.core.sweep.importance import (
    Importance,
    ImportanceError,
    estimate_importance,
    load_importance_evaluator,
    param_importance,
)
from workbench.core.sweep.loop import SweepControl, continue_sweep, join_sweep, run_sweep
from workbench.core.sweep.metrics import SWEEP_METRICS, check_metric, spec_task
from workbench.core.sweep.paths import FieldRef, field_ref
from workbench.core.sweep.space import SearchSpace, load_space, parse_space
from workbench.core.sweep.study import (
    PRUNERS,
    STRATEGIES,
    SweepError,
    SweepRecord,
    SweepSettings,
    best_of,
    create_sweep,
    default_storage,
    fail_interrupted_trials,
    list_sweeps,
    make_pruner,
    make_sampler,
    open_storage,
    open_sweep,
    public_url,
    report_epoch,
    resolve_direction,
)
from workbench.core.sweep.suggest import space_from_catalog, suggest_for_param, sweepable_paths

__all__ = [
    "apply_params", "is_applicable", "sample_params",
    "ALLOWED_FORMS", "DEFAULT_GRID_POINTS", "Distribution", "SpaceError", "parse_distribution",
    "SweepEvent", "SweepStarted", "TrialStarted", "TrialEpoch", "TrialFinished", "TrialFailed",
    "SweepFinished", "json_line", "trial_label",
    "expand_grid", "spread", "Importance", "ImportanceError", "estimate_importance", "load_importance_evaluator",
    "param_importance",
    "SweepControl", "run_sweep", "continue_sweep", "join_sweep",
    "SWEEP_METRICS", "check_metric", "spec_task", "FieldRef", "field_ref",
    "SearchSpace", "load_space", "parse_space",
    "PRUNERS", "STRATEGIES", "SweepError", "SweepRecord", "SweepSettings", "best_of", "create_sweep",
    "default_storage", "fail_interrupted_trials", "list_sweeps", "make_pruner", "make_sampler",
    "open_storage", "open_sweep", "public_url", "report_epoch", "resolve_direction",
    "space_from_catalog", "suggest_for_param", "sweepable_paths",
]
