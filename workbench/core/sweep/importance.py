"""Which hyperparameters matter: a share per parameter (the shares sum to 1), from Optuna's own
PED-ANOVA evaluator (`optuna.importance.PedAnovaImportanceEvaluator`: numpy only, no
scikit-learn; Optuna's default evaluator from version 5 and the one Optuna Dashboard uses).

PED-ANOVA asks which parameters the best trials agree on: how far the distribution of each
parameter among the top trials is from its distribution among all finished trials. The top is
the best 10 % of the trials, but never fewer than 5 trials (Optuna's guidance), so a small sweep
compares its best half with the whole. With fewer than `STEADY_TRIALS` finished trials the
ranking is a rough estimate, and the result says so (`Importance.note`).

Trial dicts (the GUI's sweep panel) are turned into a throwaway in-memory study: a parameter whose
values are not all numbers, or whose values repeat (a grid or a list of choices), is a set of
choices; other numbers are a range, on a log scale when they are positive and span a factor of
10 or more (learning rates, weight decays).
"""

from __future__ import annotations

import inspect
import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_TRIALS = 3
STEADY_TRIALS = 10  # below this many finished trials the ranking is called rough
TOP_TRIALS = 5  # the top quantile holds at least this many trials
FINISHED = ("complete", "finished")
MAX_CHOICES = 32  # a repeated numeric parameter with more values than this is a range


class ImportanceError(ValueError):
    """Importance cannot be computed yet (too few finished trials, nothing varies)."""


@dataclass(frozen=True)
class Importance:
    """Shares per parameter (largest first, summing to 1) and how much to trust them."""

    scores: dict[str, float]
    method: str
    n_trials: int  # finished trials the estimate used

    @property
    def rough(self) -> bool:
        return self.n_trials < STEADY_TRIALS

    @property
    def note(self) -> str:
        """A sentence for people when the estimate is rough, else ""."""
        if not self.rough:
            return ""
        return (f"Rough estimate: only {self.n_trials} finished trials; "
                f"the ranking steadies from about {STEADY_TRIALS}.")


def _optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _finished(trials: Sequence[dict]) -> list[dict]:
    out = []
    for t in trials:
        value = t.get("value")
        if t.get("status", "complete") in FINISHED and value is not None and math.isfinite(value):
            out.append(t)
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _choice(v: Any) -> Any:
    """A value Optuna accepts as a categorical choice (None, bool, int, float or str)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return v.item() if hasattr(v, "item") else repr(v)


def _distribution(values: list[Any]):
    """The Optuna distribution a parameter's observed values came from (see the module doc)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if not all(_is_number(v) for v in values) or (len(set(values)) < len(values)
                                                  and len(set(values)) <= MAX_CHOICES):
        return CategoricalDistribution(list(dict.fromkeys(_choice(v) for v in values)))
    low, high = min(values), max(values)
    log = low > 0 and high >= 10 * low
    if all(isinstance(v, numbers.Integral) for v in values):
        return IntDistribution(int(low), int(high), log=log)
    return FloatDistribution(float(low), float(high), log=log)


def _study_from_trials(done: list[dict], direction: str):
    """An in-memory study holding the finished trial dicts."""
    optuna = _optuna()
    names = list(dict.fromkeys(name for t in done for name in t.get("params", {})))
    dists = {name: _distribution([t["params"][name] for t in done if name in t.get("params", {})])
             for name in names}
    study = optuna.create_study(direction=direction)
    for t in done:
        params = {k: _choice(v) if type(dists[k]).__name__ == "CategoricalDistribution" else v
                  for k, v in t.get("params", {}).items()}
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions={k: dists[k] for k in params}, value=float(t["value"])))
    return study


def load_importance_evaluator() -> None:
    """Import Optuna's importance module ahead of time. It imports scikit-learn when that is
    installed (for its fANOVA evaluator, seconds), so the app does this on a worker thread
    rather than on the GUI thread when the first importance chart is drawn."""
    import optuna.importance  # noqa: F401 - the import is the point


def _evaluator(n_trials: int):
    """PED-ANOVA whose top quantile holds at least TOP_TRIALS trials (the quantile's keyword
    was `baseline_quantile` before Optuna 4.7)."""
    from optuna.importance import PedAnovaImportanceEvaluator

    quantile = min(0.5, max(0.1, TOP_TRIALS / max(1, n_trials)))
    keyword = ("target_quantile" if "target_quantile" in inspect.signature(PedAnovaImportanceEvaluator).parameters
               else "baseline_quantile")
    return PedAnovaImportanceEvaluator(**{keyword: quantile})


def estimate_importance(trials: Sequence[dict], study: Any = None, *, direction: str = "minimize") -> Importance:
    """Importance per parameter of a sweep's finished trials.

    `trials`: dicts {"params": {name: value}, "value": float | None, "status": ...}; only
    finished trials with a finite value count. `direction` says which values are better
    ("minimize" | "maximize"). With an Optuna `study` instead (trials empty), its own trials,
    direction and parameter distributions are used. Raises ImportanceError with fewer than
    MIN_TRIALS finished trials or when no parameter varies."""
    optuna = _optuna()
    if study is None:
        done = _finished(trials)
        n = len(done)
        if n >= MIN_TRIALS:
            study = _study_from_trials(done, direction)
    else:
        n = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
    if n < MIN_TRIALS:
        raise ImportanceError(f"needs at least {MIN_TRIALS} finished trials (have {n})")
    varying = {name for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
               for name, dist in t.distributions.items() if not dist.single()}
    if not varying:
        raise ImportanceError("needs parameters whose values differ between the trials")
    with warnings.catch_warnings():
        # PED-ANOVA warns about few trials per regime; the result's note says so in words
        warnings.simplefilter("ignore")
        scores = optuna.importance.get_param_importances(study, evaluator=_evaluator(n))
    scores = {k: float(v) for k, v in scores.items()}
    return Importance(dict(sorted(scores.items(), key=lambda kv: -kv[1])), "PED-ANOVA (Optuna)", n)


def param_importance(trials: Sequence[dict], study: Any = None, *, direction: str = "minimize") -> dict[str, float]:
    """The shares per parameter of `estimate_importance` (sums to 1, largest first)."""
    return estimate_importance(trials, study, direction=direction).scores
