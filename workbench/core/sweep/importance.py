"""Which hyperparameters matter: a score per parameter, normalised to sum to 1.

With an Optuna study and scikit-learn installed, Optuna's fANOVA evaluator is used. Otherwise
(and always for plain trial dicts) a binned analysis of variance: for each parameter, the share
of the metric's variance explained by grouping trials by that parameter's value (eta squared,
bias-corrected so a parameter that is pure noise scores about 0 rather than its bin count's
worth of chance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

MIN_TRIALS = 3
FINISHED = ("complete", "finished")
MAX_BINS = 10


class ImportanceError(ValueError):
    """Importance cannot be computed yet (too few finished trials, nothing varies)."""


def _finished(trials: Sequence[dict]) -> list[dict]:
    out = []
    for t in trials:
        value = t.get("value")
        if t.get("status", "complete") in FINISHED and value is not None and math.isfinite(value):
            out.append(t)
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _bins(values: list[Any], n_trials: int) -> np.ndarray:
    """Group label per trial: category for non-numbers, quantile bin for many distinct numbers."""
    if not all(_is_number(v) for v in values):
        labels = {key: i for i, key in enumerate(dict.fromkeys(map(repr, values)))}
        return np.array([labels[repr(v)] for v in values])
    x = np.asarray(values, dtype=float)
    distinct = np.unique(x)
    n_bins = min(MAX_BINS, max(2, int(round(math.sqrt(n_trials)))))
    if len(distinct) <= n_bins:
        return np.searchsorted(distinct, x)
    # Quantile bins do not care whether the parameter was sampled on a log scale.
    edges = np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.searchsorted(edges, x, side="right")


def _explained_share(groups: np.ndarray, y: np.ndarray) -> float:
    total = float(((y - y.mean()) ** 2).sum())
    labels = np.unique(groups)
    k, n = len(labels), len(y)
    if total == 0.0 or k < 2:
        return 0.0
    between = sum(len(y[groups == g]) * (y[groups == g].mean() - y.mean()) ** 2 for g in labels)
    within = total - between
    # Epsilon squared: eta squared minus what k groups would explain by chance.
    corrected = (between - (k - 1) * within / max(n - k, 1)) / total
    return max(0.0, float(corrected))


def _normalise(scores: dict[str, float]) -> dict[str, float]:
    total = sum(scores.values())
    if total <= 0:
        return {k: 0.0 for k in scores}
    return dict(sorted(((k, v / total) for k, v in scores.items()), key=lambda kv: -kv[1]))


def binned_importance(trials: Sequence[dict]) -> dict[str, float]:
    """Eta-squared importances from trial dicts {"params": {...}, "value": float, "status": ...}."""
    done = _finished(trials)
    if len(done) < MIN_TRIALS:
        raise ImportanceError(f"needs at least {MIN_TRIALS} finished trials (have {len(done)})")
    names = list(dict.fromkeys(name for t in done for name in t.get("params", {})))
    if not names:
        raise ImportanceError("the trials have no parameters")
    y = np.array([float(t["value"]) for t in done])
    scores = {}
    for name in names:
        present = [i for i, t in enumerate(done) if name in t.get("params", {})]
        if len(present) < MIN_TRIALS:
            scores[name] = 0.0
            continue
        groups = _bins([done[i]["params"][name] for i in present], len(present))
        scores[name] = _explained_share(groups, y[present])
    return _normalise(scores)


def param_importance_with_method(trials: Sequence[dict], study: Any = None
                                 ) -> tuple[dict[str, float], str]:
    """Like `param_importance`, also saying which method produced the scores."""
    if study is not None:
        done = _finished(trials) if trials else []
        try:
            import optuna
            from optuna.importance import FanovaImportanceEvaluator, get_param_importances

            n_complete = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
            if n_complete < MIN_TRIALS:
                raise ImportanceError(f"needs at least {MIN_TRIALS} finished trials (have {n_complete})")
            scores = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
            return _normalise({k: float(v) for k, v in scores.items()}), "fANOVA"
        except ImportError:
            pass  # fANOVA needs scikit-learn; the binned estimate needs nothing
        except (RuntimeError, ValueError) as exc:
            if isinstance(exc, ImportanceError):
                raise
            if len(done) < MIN_TRIALS:
                raise ImportanceError(str(exc)) from None
        if not trials:
            trials = [{"params": t.params, "value": t.value, "status": "complete"}
                      for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    return binned_importance(trials), "variance explained (binned)"


def param_importance(trials: Sequence[dict], study: Any = None) -> dict[str, float]:
    """Importance per parameter (sums to 1, largest first).

    `trials`: dicts {"id", "params": {dotted_path: value}, "value": float | None, "status"};
    only finished trials with a finite value count. With an Optuna `study`, fANOVA is tried
    first. Raises ImportanceError("needs at least 3 finished trials ...") when there are fewer.
    """
    return param_importance_with_method(trials, study)[0]
