"""The metrics a sweep can optimise: which ones a run of each task reports, telling a spec's
task, and refusing a metric its runs never report (before any trial starts)."""

from __future__ import annotations

from workbench.core.spec import ExperimentSpec
from workbench.core.sweep.study import SweepError

SWEEP_METRICS = {
    "classification": ("val_loss", "val_accuracy", "val_precision", "val_recall", "val_f1", "loss", "accuracy"),
    "regression": ("val_loss", "val_mae", "val_rmse", "val_r2", "loss"),
}


def spec_task(spec: ExperimentSpec, base_dir: str | None = None, *, load: bool = True) -> str | None:
    """classification | regression for this spec: from data.task, a built-in sample, a loss that
    serves one task only, or (load=True) by loading the data once; None when it cannot be told."""
    if spec.data.task in SWEEP_METRICS:
        return spec.data.task
    source = spec.data.source
    if source.startswith("sample:"):
        try:
            from workbench.core.data import SAMPLES

            info = SAMPLES.get(source.split(":", 1)[1])
            if info is not None and getattr(info, "task", None) in SWEEP_METRICS:
                return info.task
        except Exception:  # noqa: BLE001 - a guess only
            pass
    try:
        from workbench.core import catalog

        tasks = catalog.get_entry("loss", spec.loss.type).info.get("tasks", ())
        if len(tasks) == 1 and tasks[0] in SWEEP_METRICS:
            return tasks[0]
    except Exception:  # noqa: BLE001
        pass
    if load:
        try:
            from workbench.core.data import load_dataset

            return load_dataset(spec.data, base_dir).meta.task
        except Exception:  # noqa: BLE001 - a data problem shows up in the first trial, with its message
            pass
    return None


def check_metric(metric: str, task: str | None) -> None:
    """SweepError unless `metric` is one the runs of this task report."""
    if task in SWEEP_METRICS:
        valid = SWEEP_METRICS[task]
        words = f"a {task} run"
    else:
        valid = tuple(dict.fromkeys(m for ms in SWEEP_METRICS.values() for m in ms))
        words = "any run"
    if metric in valid:
        return
    from workbench.core.catalog import did_you_mean

    other = next((t for t, ms in SWEEP_METRICS.items() if metric in ms), None)
    hint = f"it is a {other} metric; " if other else did_you_mean(metric, valid)
    raise SweepError(f"metric {metric!r} is not reported by {words}; {hint}valid names: {', '.join(valid)}")
