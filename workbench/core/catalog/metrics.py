"""Metric entries: what each logged metric means, its task, and which way is better.

The one source for metric direction: early stopping, checkpoints, sweeps, the runs table and the
GUI ask `metric_direction` rather than deciding by their own word lists. Keys are as they
appear in the epoch logs (`accuracy`, `val_loss`, `test_r2`, ...); the split prefix does not
change the direction.
"""

from __future__ import annotations

from typing import Literal

from workbench.core.catalog.registry import REGISTRY, Entry, register

Direction = Literal["min", "max"]
SPLIT_PREFIXES = ("val_", "test_", "train_")


def _metric(name: str, task: str, help_: str, higher_is_better: bool | None) -> None:
    register(Entry(name=name, kind="metric", group=task.capitalize(), help=help_,
                   info={"task": task, "higher_is_better": higher_is_better}))


_metric("loss", "any", "the training loss (lower is better)", False)
_metric("accuracy", "classification", "fraction of samples whose predicted class is right", True)
_metric("precision", "classification", "macro average over classes of TP / (TP + FP)", True)
_metric("recall", "classification", "macro average over classes of TP / (TP + FN)", True)
_metric("f1", "classification", "macro average over classes of the harmonic mean of precision and recall", True)
_metric("confusion_matrix", "classification", "counts: row = true class, column = predicted class", None)
_metric("mae", "regression", "mean absolute error", False)
_metric("rmse", "regression", "root mean squared error", False)
_metric("r2", "regression", "coefficient of determination (1 = perfect, 0 = predicting the mean)", True)
_metric("roc_auc", "classification", "area under the ROC curve (one-vs-rest, macro average over classes)", True)
_metric("auc", "classification", "area under a curve (ROC unless named otherwise)", True)
_metric("average_precision", "classification", "area under the precision-recall curve", True)
_metric("top_k_accuracy", "classification", "fraction of samples whose true class is among the k most likely", True)
_metric("mape", "regression", "mean absolute percentage error", False)


def bare_metric(key: str) -> str:
    """`val_accuracy` -> `accuracy`: the metric's name without its split prefix."""
    for prefix in SPLIT_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def metric_direction(key: str) -> Direction:
    """'max' when larger values of this logged metric are better, else 'min'.

    A name the catalog does not know is judged by its last word (`macro_f1` like `f1`,
    `top5_accuracy` like `accuracy`); otherwise it is taken as a loss ('min'): anything a person
    adds that the catalog does not know is most likely an error measure.
    """
    name = bare_metric(key).lower()
    entry = REGISTRY["metric"].get(name) or REGISTRY["metric"].get(name.rsplit("_", 1)[-1])
    if entry is not None and entry.info.get("higher_is_better"):
        return "max"
    return "min"


def better(key: str, a: float, b: float) -> bool:
    """True when value `a` of metric `key` is strictly better than `b`."""
    return a > b if metric_direction(key) == "max" else a < b


def metrics_for_task(task: str) -> list[Entry]:
    """The scalar metric entries a run of this task logs (loss included)."""
    return [e for e in REGISTRY["metric"].values()
            if e.info.get("task") in (task, "any") and e.info.get("higher_is_better") is not None]


def baseline_note(metrics: dict, short: bool = False) -> str:
    """'test accuracy 29.3% is below the 41.0% of always guessing the most common class: ...'
    when a run's accuracy is no better than that (its `{split}_baseline_accuracy`, recorded with
    the final metrics of classification runs), on the test split or else validation; '' otherwise.
    `short`: only 'below the 41.0% of always guessing the most common class' (beside the number)."""
    for split in ("test", "val"):
        accuracy, baseline = metrics.get(f"{split}_accuracy"), metrics.get(f"{split}_baseline_accuracy")
        if not isinstance(accuracy, (int, float)) or not isinstance(baseline, (int, float)):
            continue
        if accuracy != accuracy or baseline != baseline:  # NaN: nothing to compare
            return ""
        if accuracy > baseline + 1e-9:
            return ""
        word = "below" if accuracy < baseline - 1e-9 else "no better than"
        comparison = f"{word} the {baseline:.1%} of always guessing the most common class"
        if short:
            return comparison
        name = "test" if split == "test" else "validation"
        return f"{name} accuracy {accuracy:.1%} is {comparison}: the model has not learnt anything useful yet"
    return ""
