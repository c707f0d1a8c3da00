"""What the sweep dialog hands to the panel: the base spec, the space and the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.core.spec import ExperimentSpec

_REGRESSION_LOSSES = ("MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss")


@dataclass
class SweepConfig:
    """A sweep ready to run (the arguments of `core.sweep.run_sweep`)."""

    spec: ExperimentSpec
    space: dict[str, Any]  # SPACE.json form: dotted path -> distribution
    strategy: str = "tpe"  # grid | random | tpe
    n_trials: int = 20
    parallel: int = 1
    pruner: str = "none"  # none | median | halving
    repeats: int = 1
    metric: str = "val_loss"
    direction: str = "auto"  # auto | minimize | maximize
    seed: int = 0
    base_dir: str | None = None
    study_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for run_sweep (besides spec and space)."""
        return {"strategy": self.strategy, "n_trials": self.n_trials, "parallel": self.parallel,
                "pruner": self.pruner, "repeats": self.repeats, "metric": self.metric,
                "direction": self.direction, "seed": self.seed, "base_dir": self.base_dir,
                "study_name": self.study_name}


def spec_task(spec: ExperimentSpec) -> str | None:
    """classification | regression | None (unknown until the data is loaded)."""
    if spec.data.task in ("classification", "regression"):
        return spec.data.task
    source = spec.data.source
    if source.startswith("sample:"):
        try:
            from workbench.core.data import SAMPLES

            info = SAMPLES.get(source.split(":", 1)[1])
            if info is not None:
                return info.task
        except Exception:  # noqa: BLE001 - a guess only; the metric list falls back to all
            pass
    if spec.loss is not None and spec.loss.type in _REGRESSION_LOSSES:
        return "regression"
    return None


def metric_choices(spec: ExperimentSpec) -> list[str]:
    """The metrics a sweep can optimise for this spec's task (val_loss first)."""
    task = spec_task(spec)
    if task == "classification":
        return ["val_loss", "val_accuracy", "val_f1"]
    if task == "regression":
        return ["val_loss", "val_r2", "val_mae", "val_rmse"]
    return ["val_loss", "val_accuracy", "val_r2"]
