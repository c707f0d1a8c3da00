"""Search spaces: parsing, validation messages, grid expansion, applying values, suggestions."""

from __future__ import annotations

import pytest

from workbench.core.spec import parse_spec
from workbench.core.sweep import SpaceError, parse_space
from workbench.core.sweep import DEFAULT_GRID_POINTS
from workbench.core.sweep import apply_params
from workbench.core.sweep import expand_grid
from workbench.core.sweep import space_from_catalog, sweepable_paths


@pytest.fixture(scope="module")
def spec():
    return parse_spec({
        "model": {"layers": [{"type": "Linear", "out_features": 16}, {"type": "LeakyReLU", "negative_slope": 0.1},
                             {"type": "Dropout", "p": 0.2}, {"type": "Linear", "out_features": "auto"}]},
        "optimizer": {"type": "Adam", "lr": 0.01, "beta1": 0.8},
    })


def problems(raw, spec) -> str:
    with pytest.raises(SpaceError) as err:
        parse_space(raw, spec)
    return str(err.value)


def test_the_issue_example_parses(spec):
    space = parse_space({"optimizer.lr": {"log_uniform": [0.001, 0.1]}, "train.batch_size": {"choices": [16, 64]},
                         "model.layers.0.out_features": {"int": [8, 64]}, "model.layers.2.p": {"uniform": [0.0, 0.5]}},
                        spec)
    assert space.paths() == ["optimizer.lr", "train.batch_size", "model.layers.0.out_features", "model.layers.2.p"]
    assert space.dists["optimizer.lr"].log and space.dists["model.layers.0.out_features"].is_int
    # round trip through JSON form
    assert parse_space(space.to_json(), spec).to_json() == space.to_json()


@pytest.mark.parametrize("raw, message", [
    ({"model.layers.2.p": {"uniform": [0.0, 1.5]}},
     "model.layers.2.p: Dropout.p must be in [0, 0.99]; the range [0, 1.5] goes past it"),
    ({"model.layers.7.p": {"uniform": [0.0, 0.5]}},
     "model.layers.7.p: there is no layer 7; the model has 4 layers (0: Linear, 1: LeakyReLU, 2: Dropout, 3: Linear)"),
    ({"optimizer.momentum": {"uniform": [0.0, 0.9]}},
     "optimizer.momentum: Adam has no parameter 'momentum'; its parameters: lr, beta1, beta2, eps, weight_decay, amsgrad"),
    ({"train.batchsize": {"choices": [16, 64]}}, "train.batchsize: 'train' has no field 'batchsize'; it has: epochs, batch_size"),
    ({"schedule.gamma": {"uniform": [0.1, 0.9]}}, "schedule.gamma: the spec has no schedule; set one first"),
    ({"optimizer.lr": {"normal": [0.1, 1]}}, "optimizer.lr: unknown key(s) 'normal'; allowed forms: {\"uniform\": [low, high]}"),
    ({"optimizer.lr": 0.1}, "optimizer.lr: 0.1 is not a distribution; allowed forms:"),
    ({"optimizer.lr": {"uniform": [0.1]}}, 'optimizer.lr: "uniform" takes [low, high] with two numbers (got [0.1])'),
    ({"optimizer.lr": {"uniform": [0.1, 0.2], "choices": [1]}}, "more than one distribution (uniform, choices)"),
    ({"optimizer.lr": {"choices": []}}, "optimizer.lr: choices is empty; give at least one value"),
    ({"optimizer.lr": {"uniform": [0.1, 0.01]}}, "optimizer.lr: low must be below high (got [0.1, 0.01])"),
    ({"optimizer.lr": {"uniform": [0.1, 0.1]}}, "optimizer.lr: low must be below high (got [0.1, 0.1])"),
    ({"optimizer.weight_decay": {"log_uniform": [0, 0.1]}}, "optimizer.weight_decay: a log range needs low > 0 (got [0, 0.1])"),
    ({"model.layers.0.out_features": {"log_int": [0, 64]}}, "a log range needs low > 0"),
    ({"model.layers.0.out_features": {"uniform": [8, 64]}},
     'model.layers.0.out_features: Linear.out_features is an integer; use {"int": [8, 64]} or choices'),
    ({"model.layers.0.out_features": {"int": [8.5, 64]}}, "an int range takes whole numbers"),
    ({"model.layers.0.out_features": {"choices": [8, "wide"]}},
     'model.layers.0.out_features: choice "wide" is not allowed: Linear.out_features must be an integer in [1, 65536] or \'auto\''),
    ({"optimizer.amsgrad": {"uniform": [0, 1]}}, 'optimizer.amsgrad: Adam.amsgrad is true or false; sweep it with {"choices": [...]}'),
    ({"model.layers.1.type": {"choices": ["ReLU", "Relu"]}}, "model.layers.1.type: unknown layer 'Relu'; did you mean 'ReLU'? allowed: Linear"),
    ({"optimizer.type": {"uniform": [0, 1]}}, 'optimizer.type: a type is swept with choices'),
    ({"train.batch_size": {"int": [0, 64]}}, "train.batch_size: the range [0, 64] goes past what this field allows: must be ≥ 1"),
    ({"train": {"int": [1, 2]}}, "train: is a group of fields; sweep one of its fields: train.epochs"),
    ({"model.layers.0.out_features": {"int": [8, 64], "grid": 0}}, '"grid" must be a whole number of points ≥ 1'),
    ({"optimizer.lr": {"choices": [0.1], "grid": 3}}, '"grid" applies to ranges, not choices'),
    ({}, "the space is empty"),
    ({"optimizer.lr": [0.001, 0.1]},
     'optimizer.lr: a bare list is ambiguous; write {"choices": [0.001, 0.1]} for exactly these values or '
     '{"log_uniform": [0.001, 0.1]} for a range'),
    ({"model.layers.2.p": [0.1, 0.5]}, 'or {"uniform": [0.1, 0.5]} for a range'),
    ({"train.batch_size": [16, 64]}, 'or {"int": [16, 64]} for a range'),
    ({"optimizer.type": ["Adam", "SGD"]},
     'optimizer.type: a bare list is ambiguous; write {"choices": ["Adam", "SGD"]} to try exactly these values'),
    ({"train.lr": {"log_uniform": [0.001, 0.1]}}, "train.lr: 'train' has no field 'lr'; lr belongs in optimizer.lr"),
    ({"model.layers.0.out_feature": {"int": [8, 64]}}, "did you mean 'out_features'? its parameters: out_features"),
])
def test_validation_messages_name_the_path_and_what_is_allowed(spec, raw, message):
    assert message in problems(raw, spec)


def test_all_problems_are_reported_at_once(spec):
    text = problems({"optimizer.lr": {"choices": []}, "model.layers.2.p": {"uniform": [0, 1.5]}}, spec)
    assert "optimizer.lr: choices is empty" in text and "model.layers.2.p: Dropout.p must be" in text


def test_a_parameter_of_a_swept_type_is_allowed(spec):
    # momentum exists for SGD, one of the swept optimizer types
    space = parse_space({"optimizer.type": {"choices": ["Adam", "SGD"]}, "optimizer.momentum": {"uniform": [0, 0.9]}}, spec)
    assert space.paths()[0] == "optimizer.type"  # types first: they decide which parameters apply


def test_type_change_drops_parameters_the_new_type_lacks(spec):
    new, applied = apply_params(spec, {"optimizer.type": "SGD", "optimizer.momentum": 0.9, "optimizer.lr": 0.05,
                                       "model.layers.1.type": "Tanh"})
    assert new.optimizer.type == "SGD" and new.optimizer.params == {"lr": 0.05, "momentum": 0.9}  # beta1 dropped
    assert new.model.layers[1].type == "Tanh" and new.model.layers[1].params == {}  # negative_slope dropped
    same, applied = apply_params(spec, {"optimizer.type": "Adam", "optimizer.momentum": 0.9})
    assert applied == {"optimizer.type": "Adam"} and "momentum" not in same.optimizer.params


def test_grid_expansion_counts_and_order(spec):
    space = parse_space({"optimizer.lr": {"log_uniform": [0.001, 0.1], "grid": 3}, "train.batch_size": {"choices": [16, 64]},
                         "model.layers.0.out_features": {"int": [8, 12], "step": 2}}, spec)
    points = expand_grid(space, spec)
    assert len(points) == 3 * 2 * 3 == space.grid_size()
    assert points[0] == {"optimizer.lr": 0.001, "train.batch_size": 16, "model.layers.0.out_features": 8}
    assert points[1]["model.layers.0.out_features"] == 10  # last path varies fastest
    assert sorted({p["optimizer.lr"] for p in points}) == [0.001, 0.01, 0.1]
    assert expand_grid(space, spec) == points  # deterministic


def test_grid_defaults_and_int_options(spec):
    lr = parse_space({"model.layers.2.p": {"uniform": [0.0, 0.6]}}, spec).grid()["model.layers.2.p"]
    assert len(lr) == DEFAULT_GRID_POINTS and lr[0] == 0.0 and lr[-1] == 0.6
    assert parse_space({"model.layers.2.p": {"uniform": [0, 0.5], "step": 0.1}}, spec).grid()["model.layers.2.p"] == \
        [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    widths = parse_space({"model.layers.0.out_features": {"int": [8, 64], "log": True, "grid": 4}}, spec).grid()
    assert widths["model.layers.0.out_features"] == [8, 16, 32, 64]
    assert parse_space({"model.layers.0.out_features": {"int": [8, 64]}}, spec).grid_size() == 57


def test_grid_skips_duplicate_points_of_conditional_parameters(spec):
    space = parse_space({"optimizer.type": {"choices": ["Adam", "SGD"]}, "optimizer.momentum": {"choices": [0.0, 0.9]}}, spec)
    assert expand_grid(space, spec) == [
        {"optimizer.type": "Adam"},
        {"optimizer.type": "SGD", "optimizer.momentum": 0.0},
        {"optimizer.type": "SGD", "optimizer.momentum": 0.9},
    ]


def test_catalog_suggestions(spec):
    assert space_from_catalog(spec, "optimizer.lr") == {"log_uniform": [0.001, 0.1]}
    assert space_from_catalog(spec, "model.layers.0.out_features") == {"int": [4, 64], "log": True}
    assert space_from_catalog(spec, "model.layers.2.p") == {"uniform": [0.0, 0.99]}
    assert space_from_catalog(spec, "optimizer.amsgrad") == {"choices": [True, False]}
    acts = space_from_catalog(spec, "model.layers.1.type")["choices"]
    assert {"ReLU", "Tanh", "LeakyReLU"} <= set(acts) and "Linear" not in acts
    assert "SGD" in space_from_catalog(spec, "optimizer.type")["choices"]
    assert space_from_catalog(spec, "train.batch_size") == {"choices": [16, 32, 64, 128]}
    with pytest.raises(SpaceError, match="there is no layer 9"):
        space_from_catalog(spec, "model.layers.9.p")


def test_every_offered_path_gets_a_valid_suggestion(spec):
    offered = sweepable_paths(spec)
    assert ("optimizer.lr", "Optimizer: Adam.lr") in offered
    for path, _label in offered:
        parse_space({path: space_from_catalog(spec, path)}, spec)  # raises if a suggestion were invalid


def test_file_problems_name_the_file(spec, tmp_path):
    from workbench.core.sweep import SpaceError, load_space

    bad = tmp_path / "space.json"
    bad.write_text('{"optimizer.lr": {"choices": [0.1, "x')
    with pytest.raises(SpaceError) as info:
        load_space(bad)
    text = str(info.value)
    assert f"Invalid search space in {bad}:" in text and "  space.json: not valid JSON: Unterminated string" in text
    assert "at at" not in text and "(top level)" not in text
    with pytest.raises(SpaceError) as info:
        parse_space([], spec, source=str(bad))
    assert "  space.json: a space is a JSON object" in str(info.value)
