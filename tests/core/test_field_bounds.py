"""One source for field bounds (the spec's own constraints) and for the best trial."""

import math

import pytest

from workbench.core.spec import ExperimentSpec, FieldBounds, SpecError, field_bounds
from workbench.core.sweep import best_of


def test_bounds_come_from_the_spec_fields():
    assert field_bounds("train.epochs") == FieldBounds(1, 100_000)
    assert field_bounds("train.epochs").int_range(0, 10**9) == (1, 100_000)
    clip = field_bounds("train.grad_clip")  # gt=0: open
    assert clip.low == 0.0 and clip.low_open and clip.high is None
    assert clip.float_range(0.0, 1e4, 1e-4) == (1e-4, 1e4)
    assert field_bounds("schedule.warmup.start_factor").float_range(0, 5, 0.001) == (0.001, 1.0)  # through Optional
    assert field_bounds("data.split.val").high_open
    assert field_bounds("train.seed") == FieldBounds()  # none set: the caller's defaults
    with pytest.raises(KeyError):
        field_bounds("train.nope")
    with pytest.raises(KeyError):
        field_bounds("train.epochs.more")


def test_the_bounds_are_the_ones_validation_enforces():
    low, high = field_bounds("train.epochs").int_range(0, 0)
    spec = ExperimentSpec()
    spec.with_values({"train.epochs": low})
    spec.with_values({"train.epochs": high})
    for bad in (low - 1, high + 1):
        with pytest.raises(SpecError):
            spec.with_values({"train.epochs": bad})


def test_best_of_ignores_missing_and_non_finite_values():
    trials = [{"v": 0.3}, {"v": None}, {"v": math.nan}, {"v": 0.1}, {"v": 0.7}]
    assert best_of(trials, lambda t: t["v"], "minimize") == {"v": 0.1}
    assert best_of(trials, lambda t: t["v"], "maximize") == {"v": 0.7}
    assert best_of([{"v": None}], lambda t: t["v"], "minimize") is None
