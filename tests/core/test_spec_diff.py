"""Flattening specs to dotted paths and diffing them."""

from __future__ import annotations

from workbench.core.spec import MISSING, diff_specs, flatten_spec

A = {"name": "a", "optimizer": {"type": "Adam", "lr": 0.01},
     "model": {"layers": [{"type": "Linear", "out_features": 16}, {"type": "Dropout", "p": 0.1},
                          {"type": "Linear", "out_features": "auto"}]},
     "train": {"epochs": 10, "shuffle": True, "tags": []}}


def b_spec():
    b = {"name": "a", "optimizer": {"type": "Adam", "lr": 0.001},
         "model": {"layers": [{"type": "Linear", "out_features": 16}, {"type": "Dropout", "p": 0.1}]},
         "train": {"epochs": 10.0, "shuffle": 1, "tags": [], "seed": 3}}
    return b


def test_flatten_uses_dotted_paths_in_spec_order():
    flat = flatten_spec(A)
    assert list(flat)[:3] == ["name", "optimizer.type", "optimizer.lr"]
    assert flat["model.layers.1.p"] == 0.1
    assert flat["model.layers.2.out_features"] == "auto"
    assert flat["train.tags"] == []  # empty containers stay visible


def test_flatten_pydantic_spec():
    from workbench.core.spec import parse_spec

    spec = parse_spec({"data": {"source": "sample:xor"},
                       "model": {"layers": [{"type": "Linear", "out_features": 8}]}})
    flat = flatten_spec(spec)
    assert flat["data.source"] == "sample:xor"
    assert flat["model.layers.0.out_features"] == 8


def test_diff_specs_exact_rows():
    rows = diff_specs(A, b_spec())
    assert rows == [
        ("optimizer.lr", 0.01, 0.001),
        ("model.layers.2.type", "Linear", MISSING),
        ("model.layers.2.out_features", "auto", MISSING),
        ("train.shuffle", True, 1),  # a bool is not the number 1
        ("train.seed", MISSING, 3),
    ]
    assert repr(MISSING) == "MISSING"


def test_paths_only_in_b_follow_their_neighbour():
    a = {"optimizer": {"type": "Adam", "lr": 0.01}, "train": {"epochs": 3}}
    b = {"optimizer": {"type": "SGD", "momentum": 0.9, "lr": 0.01}, "train": {"epochs": 3}}
    assert [p for p, *_ in diff_specs(a, b, all_rows=True)] == [
        "optimizer.type", "optimizer.momentum", "optimizer.lr", "train.epochs"]


def test_diff_specs_all_rows_and_equal_specs():
    assert diff_specs(A, A) == []
    everything = diff_specs(A, b_spec(), all_rows=True)
    assert len(everything) == len(set(flatten_spec(A)) | set(flatten_spec(b_spec())))
    assert ("train.epochs", 10, 10.0) in everything  # equal, kept
