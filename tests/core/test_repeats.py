"""Repeats: mean ± std over seeds, the t distribution, and the seed-noise comparison."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.core.runs.repeats import betainc, compare_groups, group_stats, t_cdf, t_two_sided_p


def logs(values, key="val_loss"):
    return [{"epoch": i + 1, key: v} for i, v in enumerate(values)]


def test_group_stats_matches_numpy():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(5, 8))
    epochs, mean, std, n = group_stats([logs(row) for row in data], "val_loss")
    assert epochs.tolist() == list(range(1, 9))
    np.testing.assert_allclose(mean, data.mean(axis=0))
    np.testing.assert_allclose(std, data.std(axis=0, ddof=1))
    assert n.tolist() == [5] * 8


def test_group_stats_runs_of_different_lengths():
    runs = [logs([1.0, 2.0, 3.0]), logs([3.0, 4.0]), logs([5.0])]
    epochs, mean, std, n = group_stats(runs, "val_loss")
    assert epochs.tolist() == [1, 2, 3]
    assert mean.tolist() == [3.0, 3.0, 3.0]
    assert n.tolist() == [3, 2, 1]
    assert std[0] == pytest.approx(2.0) and std[1] == pytest.approx(math.sqrt(2)) and std[2] == 0.0


def test_group_stats_skips_missing_and_nan():
    runs = [[{"epoch": 1, "loss": 1.0}, {"epoch": 2, "val_loss": float("nan")}], logs([2.0, 4.0])]
    epochs, mean, _, n = group_stats(runs, "val_loss")
    assert epochs.tolist() == [1, 2] and mean.tolist() == [2.0, 4.0] and n.tolist() == [1, 1]
    assert len(group_stats([], "val_loss")[0]) == 0


@pytest.mark.parametrize("x", [0.0, 0.1, 0.37, 0.5, 0.9, 1.0])
def test_betainc_closed_forms(x):
    assert betainc(1, 1, x) == pytest.approx(x, abs=1e-12)
    assert betainc(3.5, 1, x) == pytest.approx(x ** 3.5, abs=1e-12)
    assert betainc(1, 2.5, x) == pytest.approx(1 - (1 - x) ** 2.5, abs=1e-12)
    assert betainc(2.3, 4.1, x) == pytest.approx(1 - betainc(4.1, 2.3, 1 - x), abs=1e-12)
    assert betainc(7, 7, 0.5) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("t", [-30.0, -3.1, -1.0, -0.2, 0.0, 0.5, 1.7, 4.0, 100.0])
def test_t_cdf_closed_forms(t):
    assert t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)  # Cauchy
    assert t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-12)
    s = math.sqrt(3)
    exact3 = 0.5 + (t / (s * (1 + t * t / 3)) + math.atan(t / s)) / math.pi
    assert t_cdf(t, 3) == pytest.approx(exact3, abs=1e-12)
    normal = 0.5 * (1 + math.erf(t / math.sqrt(2)))
    assert t_cdf(t, 1e7) == pytest.approx(normal, abs=1e-6)


def test_t_table_critical_values():
    # Two-sided 5 % and 1 % critical values from a t table.
    assert t_two_sided_p(2.228, 10) == pytest.approx(0.05, abs=2e-4)
    assert t_two_sided_p(2.086, 20) == pytest.approx(0.05, abs=2e-4)
    assert t_two_sided_p(3.169, 10) == pytest.approx(0.01, abs=1e-4)
    assert t_two_sided_p(12.706, 1) == pytest.approx(0.05, abs=1e-4)
    assert t_two_sided_p(0.0, 4.5) == pytest.approx(1.0)


def test_compare_groups_welch_by_hand():
    a, b = [0.90, 0.92, 0.91, 0.93, 0.94], [0.85, 0.86, 0.88, 0.84]
    c = compare_groups(a, b, higher_is_better=True)
    va, vb = np.var(a, ddof=1), np.var(b, ddof=1)
    se = math.sqrt(va / 5 + vb / 4)
    df = se ** 4 / ((va / 5) ** 2 / 4 + (vb / 4) ** 2 / 3)
    assert c.diff == pytest.approx(np.mean(a) - np.mean(b))
    assert c.t == pytest.approx(c.diff / se) and c.df == pytest.approx(df)
    assert c.p_value == pytest.approx(2 * (1 - t_cdf(abs(c.t), df)))
    assert c.significant and c.text.startswith("A is better than B by 0.062 ± 0.011 (p = 0.0011)")
    assert "larger than seed noise" in c.text


def test_compare_groups_direction_and_noise():
    lower = compare_groups([0.30, 0.31, 0.29], [0.40, 0.41, 0.39], higher_is_better=False,
                           labels=("Adam", "SGD"))
    assert lower.significant and lower.text.startswith("Adam is better than SGD")
    rng = np.random.default_rng(1)
    noise = compare_groups(rng.normal(0.5, 0.05, 6), rng.normal(0.5, 0.05, 6))
    assert not noise.significant and noise.text.startswith("difference ")
    assert "within seed noise" in noise.text and noise.p_value > 0.05


def test_compare_groups_too_few_and_identical():
    few = compare_groups([0.5], [0.4, 0.41])
    assert few.p_value is None and not few.significant and "at least 2 seeds" in few.text
    same = compare_groups([0.5, 0.5], [0.5, 0.5])
    assert same.p_value == 1.0 and not same.significant
    exact = compare_groups([0.6, 0.6], [0.5, 0.5])
    assert exact.p_value == 0.0 and exact.significant
