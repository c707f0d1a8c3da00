"""ExperimentSpec: the one serializable description of an experiment, its errors, dotted paths
and field-by-field differences. Everything outside this package imports from here."""

from workbench.core.spec.bounds import FieldBounds, field_bounds
from workbench.core.spec.diff import MISSING, diff_specs, flatten_spec, values_equal
from workbench.core.spec.errors import SpecError, json_error_text
from workbench.core.spec.model import (
    SCHEMA_VERSION,
    AugmentSpec,
    DataSpec,
    EarlyStoppingSpec,
    EmaSpec,
    HealthSpec,
    ExperimentSpec,
    FineTuneSpec,
    LayerSpec,
    LossSpec,
    ModelSpec,
    OptimizerSpec,
    ScheduleSpec,
    SplitSpec,
    TrainSpec,
    WarmupSpec,
    field_home_hint,
    load_spec,
    parse_spec,
    spec_to_dict,
)
from workbench.core.spec.naming import data_short_name, experiment_name, is_named, model_short_name
from workbench.core.spec.paths import get_dotted, resolve_source, set_dotted

__all__ = [
    "SCHEMA_VERSION", "ExperimentSpec", "DataSpec", "SplitSpec", "AugmentSpec", "LayerSpec", "ModelSpec",
    "LossSpec", "OptimizerSpec", "ScheduleSpec", "WarmupSpec", "EarlyStoppingSpec", "TrainSpec", "FineTuneSpec",
    "EmaSpec", "HealthSpec",
    "SpecError", "json_error_text", "field_home_hint", "parse_spec", "load_spec", "spec_to_dict",
    "get_dotted", "set_dotted", "resolve_source", "experiment_name", "is_named", "model_short_name",
    "data_short_name", "MISSING", "flatten_spec", "diff_specs", "values_equal",
    "FieldBounds", "field_bounds",
]
