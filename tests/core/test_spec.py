"""ExperimentSpec: round trip, and every validation error names its dotted path and what is allowed."""

from __future__ import annotations

import json

import pytest

from workbench.core import catalog
from workbench.core.spec import (
    ExperimentSpec,
    SpecError,
    get_dotted,
    load_spec,
    parse_spec,
    resolve_source,
)

FULL = {
    "schema_version": 1,
    "name": "spiral mlp",
    "data": {"source": "sample:spiral", "task": "classification", "split": {"val": 0.2, "test": 0.1}, "seed": 3,
             "noise": 0.2, "n_samples": 500, "augment": {"hflip": True, "rotate_degrees": 10.0}},
    "model": {"layers": [
        {"type": "Linear", "out_features": 32},
        {"type": "ReLU"},
        {"type": "Residual", "layers": [{"type": "Linear", "out_features": 32}, {"type": "GELU", "approximate": "tanh"}]},
        {"type": "Dropout", "p": 0.2},
        {"type": "Linear", "out_features": "auto"},
    ]},
    "loss": {"type": "CrossEntropyLoss", "label_smoothing": 0.1, "weight": "balanced"},
    "optimizer": {"type": "AdamW", "lr": 0.003, "beta1": 0.85},
    "schedule": {"type": "CosineAnnealingLR", "T_max": "auto", "warmup": {"epochs": 3, "start_factor": 0.2}},
    "train": {"epochs": 20, "batch_size": "full", "device": "cuda:1", "early_stopping": {"patience": 4}},
}


def problems(raw) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        parse_spec(raw)
    return info.value.problems


def only_problem(raw) -> tuple[str, str]:
    found = problems(raw)
    assert len(found) == 1, found
    return found[0]


# ---- round trip --------------------------------------------------------------------------------


def test_round_trip_equal_and_json_stable(tmp_path):
    spec = parse_spec(FULL)
    text = spec.to_json()
    again = parse_spec(text)
    assert again == spec
    assert again.to_json() == text
    assert json.loads(text)["model"]["layers"][0] == {"type": "Linear", "out_features": 32}  # no "layers": null
    assert spec.model.layers[2].layers[1].params == {"approximate": "tanh"}
    assert spec.optimizer.params == {"lr": 0.003, "beta1": 0.85}
    path = tmp_path / "sub" / "exp.json"
    spec.save(path)
    assert load_spec(path) == spec and path.read_text() == text
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]  # no temp files left


def test_defaults_round_trip_and_drop_empty_warmup():
    spec = ExperimentSpec()
    assert parse_spec(spec.to_json()) == spec
    s = parse_spec({"schedule": {"type": "StepLR"}})
    assert "warmup" not in s.to_dict()["schedule"]


def test_with_values_validates():
    spec = parse_spec(FULL)
    changed = spec.with_values({"optimizer.lr": 0.01, "model.layers.0.out_features": 8,
                                "model.layers.2.layers.0.out_features": 8})
    assert changed.optimizer.params["lr"] == 0.01
    assert get_dotted(changed.to_dict(), "model.layers.2.layers.0.out_features") == 8
    assert spec.optimizer.params["lr"] == 0.003  # the original is untouched
    with pytest.raises(SpecError) as info:
        spec.with_value("optimizer.lr", 100.0)
    assert info.value.problems == [("optimizer.lr", "must be a number in [1e-06, 10] (got 100.0)")]
    with pytest.raises(SpecError, match="'model.layers.9' does not exist"):
        spec.with_value("model.layers.9.out_features", 3)
    with pytest.raises(SpecError, match="'nope' does not exist"):
        spec.with_value("nope.x", 3)


def test_resolve_source():
    assert resolve_source("sample:iris", "/x") == "sample:iris"
    assert resolve_source("data.csv", "/proj") == "/proj/data.csv"
    assert resolve_source("/abs/data.csv", "/proj") == "/abs/data.csv"


# ---- validation errors -------------------------------------------------------------------------


def test_unknown_layer_type_lists_allowed():
    path, msg = only_problem({"model": {"layers": [{"type": "Linear"}, {"type": "Dense"}]}})
    assert path == "model.layers.1.type"
    assert msg == "unknown layer 'Dense'; allowed: " + ", ".join(e.name for e in catalog.entries("layer"))


def test_unknown_param_lists_the_layers_params():
    assert only_problem({"model": {"layers": [{"type": "Conv2d", "filters": 8}]}}) == (
        "model.layers.0.filters",
        "Conv2d has no parameter 'filters'; its parameters: out_channels, kernel_size, stride, padding, dilation, bias")


def test_inner_layer_paths_and_residual_rules():
    assert only_problem({"model": {"layers": [{"type": "Residual", "layers": [
        {"type": "ReLU"}, {"type": "Linear", "out_features": 0}]}]}}) == (
        "model.layers.0.layers.1.out_features", "must be an integer in [1, 65536] or 'auto' (got 0)")
    assert only_problem({"model": {"layers": [{"type": "Residual"}]}}) == (
        "model.layers.0.layers", "a Residual block needs at least one inner layer")
    assert only_problem({"model": {"layers": [{"type": "ReLU", "layers": [{"type": "ReLU"}]}]}}) == (
        "model.layers.0.layers", "only Residual blocks hold inner layers, not ReLU")


@pytest.mark.parametrize("raw, expected", [
    ({"optimizer": {"type": "Adam", "lr": 0.0}}, ("optimizer.lr", "must be a number in [1e-06, 10] (got 0.0)")),
    ({"loss": {"type": "CrossEntropyLoss", "weight": "heavy"}},
     ("loss.weight", "must be one of 'none', 'balanced' (got 'heavy')")),
    ({"schedule": {"type": "StepLR", "step_size": 1.5}}, ("schedule.step_size", "must be an integer in [1, 100000] "
                                                                                 "(got 1.5)")),
    ({"model": {"layers": [{"type": "Conv2d", "padding": "full"}]}},
     ("model.layers.0.padding", "must be an integer in [0, 64] or a list of them, or one of 'same', 'valid' "
                                "(got 'full')")),
    ({"optimizer": {"type": "SGD", "nesterov": True}},
     ("optimizer.nesterov", "Nesterov momentum needs momentum > 0 and dampening 0")),
    ({"loss": {"type": "CrossEntropy"}}, ("loss.type", "unknown loss 'CrossEntropy'; did you mean "
                                                        "'CrossEntropyLoss'? allowed: MSELoss, L1Loss, "
                                                        "SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, "
                                                        "BCEWithLogitsLoss")),
    ({"optimizer": {"type": "Adam", "momentum": 0.9}},
     ("optimizer.momentum", "Adam has no parameter 'momentum'; its parameters: lr, beta1, beta2, eps, weight_decay, "
                            "amsgrad")),
    ({"schedule": {"lr": 1}}, ("schedule.type", 'missing; schedule needs a "type", e.g. {"type": "StepLR"}')),
    ({"model": {"layers": [{"kind": "ReLU"}]}},
     ("model.layers.0.type", 'missing; every layer needs a "type", e.g. {"type": "ReLU"}')),
])
def test_catalog_value_errors(raw, expected):
    assert only_problem(raw) == expected


@pytest.mark.parametrize("value, message", [
    (0, "must be ≥ 1, or 'full' for full-batch gradient descent"),
    (-5, "must be ≥ 1, or 'full' for full-batch gradient descent"),
    ("all", "must be a whole number ≥ 1, or 'full' for full-batch gradient descent (got 'all')"),
    (True, "must be a whole number ≥ 1, or 'full' for full-batch gradient descent (got True)"),
    (2.5, "must be a whole number ≥ 1, or 'full' for full-batch gradient descent (got 2.5)"),
])
def test_wrong_batch_size(value, message):
    assert only_problem({"train": {"batch_size": value}}) == ("train.batch_size", message)


def test_batch_size_accepts_full_and_digit_text():
    assert parse_spec({"train": {"batch_size": "full"}}).train.batch_size == "full"
    assert parse_spec({"train": {"batch_size": "64"}}).train.batch_size == 64


@pytest.mark.parametrize("device", ["gpu", "cuda0", "CPU", "cuda:x"])
def test_bad_device(device):
    assert only_problem({"train": {"device": device}}) == ("train.device", "allowed: 'auto', 'cpu', 'cuda', 'cuda:N', "
                                                                            "'mps'")


def test_good_devices():
    for device in ("auto", "cpu", "cuda", "cuda:3", "mps"):
        assert parse_spec({"train": {"device": device}}).train.device == device


def test_bad_split():
    assert only_problem({"data": {"split": {"val": 0.5, "test": 0.5}}}) == (
        "data.split", "val + test = 1.00 leaves almost nothing to train on; keep val + test below 0.95")
    assert only_problem({"data": {"split": {"val": 1.0}}}) == ("data.split.val", "must be a number in [0, 1) (got 1.0)")
    assert only_problem({"data": {"split": {"test": -0.1}}}) == ("data.split.test",
                                                                 "must be a number in [0, 1) (got -0.1)")


def test_extra_fields_list_allowed_ones():
    assert only_problem({"author": "me"}) == (
        "author", "unknown field; allowed here: data, finetune, loss, model, name, optimizer, schedule, schema_version, "
                  "train")
    assert only_problem({"train": {"early_stopping": {"wait": 3}}}) == (
        "train.early_stopping.wait", "unknown field; allowed here: min_delta, mode, monitor, patience, restore_best")
    assert only_problem({"schedule": {"type": "StepLR", "warmup": {"steps": 3}}}) == (
        "schedule.warmup.steps", "unknown field; allowed here: epochs, start_factor")


def test_literal_and_type_errors():
    assert only_problem({"data": {"missing": "ignore"}}) == (
        "data.missing", "must be 'error', 'drop' or 'impute' (got 'ignore')")
    assert only_problem({"train": {"epochs": 0}}) == ("train.epochs", "must be a whole number in [1, 100000] (got 0)")
    assert only_problem({"data": {"source": "  "}}) == ("data.source", "give a sample ('sample:spiral') or a "
                                                                       "file/folder path")


def test_schema_versions():
    assert only_problem({"schema_version": 2}) == (
        "schema_version", "2 is newer than this Workbench understands (1); update Workbench")
    assert only_problem({"schema_version": 0}) == ("schema_version", "must be 1 (got 0)")


def test_several_catalog_problems_at_once_and_odd_keys():
    found = problems({"model": {"layers": [{"type": "Linear", "out_features": "x", "a: b\nc": 1}]},
                      "optimizer": {"type": "SGD", "lr": -1}})
    assert [p for p, _ in found] == ["model.layers.0.out_features", "model.layers.0.a: b\nc", "optimizer.lr"]


def test_not_json_and_not_an_object(tmp_path):
    with pytest.raises(SpecError) as info:
        parse_spec("{nope")
    assert info.value.problems[0][1].startswith("not valid JSON: Expecting property name")
    with pytest.raises(SpecError, match="a spec is a JSON object"):
        parse_spec("[1, 2]")
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"train": {"device": "gpu"}}))
    with pytest.raises(SpecError) as info:
        load_spec(bad)
    assert info.value.source == str(bad) and f"Invalid experiment spec in {bad}:" in str(info.value)
    assert "  train.device: allowed" in str(info.value)


# ---- messages for people ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ({"train": {"epochs": "ten"}}, ("train.epochs", "must be a whole number in [1, 100000] (got 'ten')")),
    ({"train": {"epochs": 2.5}}, ("train.epochs", "must be a whole number in [1, 100000] (got 2.5)")),
    ({"train": {"grad_clip": 0}}, ("train.grad_clip", "must be a number > 0 (got 0)")),
    ({"train": {"num_threads": 0}}, ("train.num_threads", "must be a whole number ≥ 1 (got 0)")),
    ({"data": {"split": {"val": "most"}}}, ("data.split.val", "must be a number in [0, 1) (got 'most')")),
    ({"data": {"split": "x"}}, ("data.split", "must be an object {...} with fields: test, val (got 'x')")),
    ({"model": {"layers": {"type": "Linear"}}}, ("model.layers", "must be a list [...] (got {'type': 'Linear'})")),
    ({"train": {"augment": 1}}, ("train.augment", "unknown field; augment belongs in data.augment")),
])
def test_pydantic_messages_are_rewritten_with_bounds(raw, expected):
    path, msg = only_problem(raw)
    assert (path, msg) == expected
    assert "Input should" not in msg


def test_unknown_fields_say_where_they_belong_or_what_was_meant():
    assert only_problem({"train": {"lr": 0.1}}) == ("train.lr", "unknown field; lr belongs in optimizer.lr")
    assert only_problem({"epochs": 5}) == ("epochs", "unknown field; epochs belongs in train.epochs or "
                                                     "schedule.warmup.epochs")
    assert only_problem({"layers": []}) == ("layers", "unknown field; layers belongs in model.layers")
    path, msg = only_problem({"train": {"epoch": 3}})
    assert path == "train.epoch" and msg.startswith("unknown field; did you mean 'epochs'? allowed here: accumulate_batches, batch_size")
    # a spec field given to the optimizer
    path, msg = only_problem({"optimizer": {"type": "Adam", "epochs": 3}})
    assert path == "optimizer.epochs" and msg.startswith("Adam has no parameter 'epochs'")
    assert msg.endswith("; epochs belongs in train.epochs or schedule.warmup.epochs")


def test_did_you_mean_for_types_and_params():
    path, msg = only_problem({"model": {"layers": [{"type": "Relu"}]}})
    assert path == "model.layers.0.type" and msg.startswith("unknown layer 'Relu'; did you mean 'ReLU'? allowed: Linear")
    assert only_problem({"optimizer": {"type": "adam"}})[1].startswith("unknown optimizer 'adam'; did you mean 'Adam'?")
    assert only_problem({"model": {"layers": [{"type": "Linear", "out_feature": 3}]}}) == (
        "model.layers.0.out_feature",
        "Linear has no parameter 'out_feature'; did you mean 'out_features'? its parameters: out_features, bias")


def test_file_problems_name_the_file(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "name": "x",\n  "data": {"source": "sample:spiral')
    with pytest.raises(SpecError) as info:
        load_spec(broken)
    text = str(info.value)
    assert "starting at at" not in text and "Unterminated string starting at line 3, column 22" in text
    assert "  broken.json: not valid JSON" in text and "(top level)" not in text
    listing = tmp_path / "list.json"
    listing.write_text("[1]")
    with pytest.raises(SpecError, match="  list.json: a spec is a JSON object"):
        load_spec(listing)
    newer = tmp_path / "newer.json"
    newer.write_text('{"schema_version": 7}')
    with pytest.raises(SpecError) as info:
        load_spec(newer)
    assert info.value.source == str(newer) and f"Invalid experiment spec in {newer}:" in str(info.value)
    assert "schema_version: 7 is newer" in str(info.value)
    with pytest.raises(SpecError) as info:
        parse_spec("{nope")
    assert "  (top level): not valid JSON" in str(info.value)  # no file: no name to give
