"""Hyperparameter importance: the parameter that drives the metric ranks first, the numbers are
Optuna's own (PED-ANOVA), and a small sweep's estimate says it is rough."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from workbench.core.sweep import ImportanceError, estimate_importance, param_importance

optuna.logging.set_verbosity(optuna.logging.WARNING)


def synthetic_trials(n=60, seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    for i in range(n):
        lr = 10 ** rng.uniform(-4, -1)
        width = int(rng.choice([16, 32, 64]))
        opt = str(rng.choice(["Adam", "SGD"]))
        value = (np.log10(lr) + 2.5) ** 2 + 0.02 * rng.normal()  # only lr matters
        trials.append({"id": i, "params": {"optimizer.lr": lr, "model.width": width,
                                           "optimizer.type": opt},
                       "value": float(value), "status": "complete"})
    return trials


def test_driving_param_ranks_first_and_sums_to_one():
    result = estimate_importance(synthetic_trials())
    scores = result.scores
    assert list(scores)[0] == "optimizer.lr"
    assert scores["optimizer.lr"] > 0.75
    assert scores["model.width"] < 0.2 and scores["optimizer.type"] < 0.2
    assert sum(scores.values()) == pytest.approx(1.0)
    assert set(scores) == {"optimizer.lr", "model.width", "optimizer.type"}
    assert not result.rough and result.note == "" and result.n_trials == 60


def test_numbers_are_optunas_own():
    # the trial dicts become a study with the distributions they were drawn from (lr: a log
    # range; width, type: choices); Optuna on a study built by hand gives the same shares
    trials = synthetic_trials(40, seed=3)
    study = optuna.create_study()
    dists = {"optimizer.lr": FloatDistribution(min(t["params"]["optimizer.lr"] for t in trials),
                                               max(t["params"]["optimizer.lr"] for t in trials), log=True),
             "model.width": CategoricalDistribution(list(dict.fromkeys(t["params"]["model.width"] for t in trials))),
             "optimizer.type": CategoricalDistribution(list(dict.fromkeys(t["params"]["optimizer.type"] for t in trials)))}
    for t in trials:
        study.add_trial(optuna.trial.create_trial(params=t["params"], distributions=dists, value=t["value"]))
    expected = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.PedAnovaImportanceEvaluator(target_quantile=5 / 40))
    assert param_importance(trials) == pytest.approx(expected)
    assert estimate_importance([], study).scores == pytest.approx(expected)  # a study is used as it is


def test_ranking_agrees_with_fanova():
    pytest.importorskip("sklearn")  # fANOVA needs scikit-learn (a test-only dependency here)
    trials = synthetic_trials(60, seed=1)
    study = optuna.create_study()
    for t in trials:
        study.add_trial(optuna.trial.create_trial(
            params=t["params"], value=t["value"],
            distributions={"optimizer.lr": FloatDistribution(1e-4, 1e-1, log=True),
                           "model.width": CategoricalDistribution([16, 32, 64]),
                           "optimizer.type": CategoricalDistribution(["Adam", "SGD"])}))
    fanova = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    assert list(param_importance(trials))[0] == list(fanova)[0] == "optimizer.lr"


def test_categorical_driver_and_direction():
    trials = synthetic_trials(30)
    for t in trials:
        t["value"] = (1.0 if t["params"]["optimizer.type"] == "SGD" else 0.0) + 0.01 * (t["id"] % 3)
    assert list(param_importance(trials))[0] == "optimizer.type"
    assert list(param_importance(trials, direction="maximize"))[0] == "optimizer.type"


def test_small_sweeps_are_rough_and_too_few_refused():
    result = estimate_importance(synthetic_trials(6))
    assert result.rough and result.n_trials == 6
    assert result.note == "Rough estimate: only 6 finished trials; the ranking steadies from about 10."
    trials = synthetic_trials(5)
    for t in trials[:3]:
        t["status"] = "failed"
    trials[3]["value"] = None
    with pytest.raises(ImportanceError, match="needs at least 3 finished trials \\(have 1\\)"):
        param_importance(trials)
    with pytest.raises(ImportanceError, match="at least 3"):
        param_importance([], optuna.create_study())
    same = [{"params": {"optimizer.lr": 0.01}, "value": v, "status": "complete"} for v in (1.0, 2.0, 3.0)]
    with pytest.raises(ImportanceError, match="values differ"):
        param_importance(same)
