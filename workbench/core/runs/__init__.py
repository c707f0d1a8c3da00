"""The run store and what is built on it: records, the recorder callback, lineage (branch,
resume), seed groups and their statistics, and the runs table's filter language. Everything
outside this package imports from here."""

from workbench.core.runs.errors import ExperimentError, StoreError
from workbench.core.runs.filter import (
    COLUMN_GETTERS,
    FILTER_KEYS,
    RunFilter,
    differing_fields,
    field_value,
    load_runs,
    parse_filter,
    spec_value,
)
from workbench.core.runs.groups import GROUP_PREFIX, group_of, group_runs, group_tag, repeat_specs
from workbench.core.runs.health import stored_health
from workbench.core.runs.lineage import (
    BranchPlan,
    branch_plan,
    checkpoint_path,
    checkpoints,
    lineage_rows,
    resume_plan,
    run_folder,
)
from workbench.core.runs.record import RunRecord, model_summary_text
from workbench.core.runs.recorder import RunRecorder, finish_record
from workbench.core.runs.run_model import RestoredRun, recorded_data_source, restore_run, run_weights_path, spec_to_load
from workbench.core.runs.repeats import Comparison, Group, compare_groups, group_stats, metric_keys, per_run_values
from workbench.core.runs.schema import SCHEMA_VERSION
from workbench.core.runs.store import STATUSES, RunStore, default_store_path

__all__ = [
    "RunStore", "StoreError", "default_store_path", "STATUSES", "SCHEMA_VERSION", "RunRecord",
    "model_summary_text", "RunRecorder", "finish_record",
    "ExperimentError", "BranchPlan", "branch_plan", "checkpoint_path", "resume_plan", "checkpoints", "lineage_rows",
    "run_folder",
    "GROUP_PREFIX", "group_tag", "repeat_specs", "group_of", "group_runs",
    "Group", "Comparison", "group_stats", "compare_groups", "metric_keys", "per_run_values",
    "FILTER_KEYS", "COLUMN_GETTERS", "RunFilter", "parse_filter", "load_runs", "spec_value",
    "differing_fields", "field_value", "stored_health",
    "RestoredRun", "restore_run", "run_weights_path", "recorded_data_source", "spec_to_load",
]
