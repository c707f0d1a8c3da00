"""Hyperparameter importance: the parameter that drives the metric ranks first."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.sweep import ImportanceError, param_importance, param_importance_with_method


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
    scores = param_importance(synthetic_trials())
    assert list(scores)[0] == "optimizer.lr"
    assert scores["optimizer.lr"] > 0.75
    assert scores["model.width"] < 0.2 and scores["optimizer.type"] < 0.2
    assert sum(scores.values()) == pytest.approx(1.0)
    assert set(scores) == {"optimizer.lr", "model.width", "optimizer.type"}


def test_categorical_driver():
    trials = synthetic_trials()
    for t in trials:
        t["value"] = (1.0 if t["params"]["optimizer.type"] == "SGD" else 0.0) + 0.01 * t["id"] % 3 * 0.01
    assert list(param_importance(trials))[0] == "optimizer.type"


def test_unfinished_trials_ignored_and_too_few():
    trials = synthetic_trials(5)
    for t in trials[:3]:
        t["status"] = "failed"
    trials[3]["value"] = None
    with pytest.raises(ImportanceError, match="needs at least 3 finished trials \\(have 1\\)"):
        param_importance(trials)


def test_optuna_study_uses_fanova_or_falls_back():
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2 * 10 + 0.01 * t.suggest_float("y", 0, 1),
                   n_trials=30)
    scores, method = param_importance_with_method([], study)
    assert list(scores)[0] == "x" and method in ("fANOVA", "variance explained (binned)")
    empty = optuna.create_study()
    with pytest.raises(ImportanceError, match="at least 3"):
        param_importance([], empty)
