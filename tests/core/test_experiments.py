"""core.experiments: repeats, groups, the filter language, branch/resume plans from checkpoints."""

from __future__ import annotations

import pytest

from workbench.core.runs import (ExperimentError, branch_plan, group_of, group_runs, lineage_rows, load_runs,
                                        parse_filter, repeat_specs, resume_plan)
from workbench.core.runs import RunStore
from workbench.core.spec import parse_spec

SPEC = {
    "name": "tiny",
    "data": {"source": "sample:spiral", "n_samples": 200},
    "model": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "Tanh"},
                         {"type": "Linear", "out_features": "auto"}]},
    "loss": {"type": "CrossEntropyLoss"},
    "optimizer": {"type": "Adam", "lr": 0.01},
    "train": {"epochs": 2, "batch_size": 32, "device": "cpu", "seed": 5},
}


@pytest.fixture
def store(tmp_path):
    with RunStore(tmp_path / "runs.db") as s:
        yield s


def test_repeat_specs_seeds_and_group():
    specs, tag = repeat_specs(parse_spec(SPEC), 3)
    assert [s.train.seed for s in specs] == [5, 6, 7]
    assert tag.startswith("group:tiny-")
    assert specs[1].name == "tiny · seed 6"
    with pytest.raises(ExperimentError):
        repeat_specs(parse_spec(SPEC), 0)


def test_groups_and_filter(store):
    spec = parse_spec(SPEC)
    a = store.create_run(spec, tags=["group:g1", "repeat"])
    b = store.create_run(spec.with_values({"optimizer": {"type": "SGD", "lr": 0.1}, "train.batch_size": 64}),
                         tags=["baseline"], name="sgd run")
    store.finish_run(a, "finished", {}, 1.0)
    store.finish_run(b, "stopped", {}, 1.0)
    runs = {r.id: r for r in load_runs(store)}
    assert group_of(runs[a]) == "g1" and group_of(runs[b]) is None
    assert list(group_runs(runs.values())) == ["g1"]

    def ids(text):
        flt = parse_filter(text)
        assert not flt.error, flt.error
        return {r.id for r in runs.values() if flt.matches(r)}

    assert ids("lr<0.05") == {a}
    assert ids("optimizer=sgd status=stopped") == {b}
    assert ids("batch>=64") == {b}
    assert ids("train.seed=5 tag=baseline") == {b}
    assert ids("model.layers.0.out_features=8") == {a, b}
    assert ids("sgd") == {b}
    assert ids("tag~base") == {b}
    assert "unknown field 'colour'" in parse_filter("colour=red").error
    assert parse_filter("lr<").error


def test_branch_and_resume_plans(store, tmp_path):
    from workbench.core.execution import recorded_run
    from workbench.core.training import EpochEnd, RunStarted

    spec = parse_spec(SPEC)
    events = list(recorded_run(spec, store=store))
    parent = store.list_runs()[0]
    assert parent.status == "finished"
    plan = branch_plan(store, parent.id, {"optimizer.lr": 0.001})
    assert plan.from_epoch == 2 and plan.parent_id == parent.id
    assert plan.spec.train.epochs == 4  # finished: as many again
    assert plan.spec.optimizer.params["lr"] == 0.001
    assert plan.resume_from.endswith("last.pt")
    # the child run is named after its parent; the spec (and so every later run) is not
    assert plan.options()["name"] == f"{parent.name} (branch of #{parent.id})"
    assert plan.spec.name == parent.spec.name and "branch of" not in plan.spec.name
    with pytest.raises(ExperimentError, match="finished all its epochs"):
        resume_plan(store, parent.id)

    child_events = list(recorded_run(plan.spec, store=store, resume_from=plan.resume_from, **{
        k: v for k, v in plan.options().items() if k != "resume_from"}))
    started = next(e for e in child_events if isinstance(e, RunStarted))
    assert started.start_epoch == 2
    assert [e.epoch for e in child_events if isinstance(e, EpochEnd)] == [3, 4]
    child = store.children(parent.id)[0]
    assert child.run_dir == str(tmp_path / "runs" / str(child.id)) and "branch" in child.tags
    assert [r["epoch"] for r in store.epochs(child.id)] == [3, 4]
    head, tail = lineage_rows(store.epochs(parent.id), store.epochs(child.id), 2)
    assert [r["epoch"] for r in head] == [1, 2] and [r["epoch"] for r in tail] == [2, 3, 4]
    assert events


def test_branch_without_checkpoint_says_why(store):
    run = store.create_run(parse_spec(SPEC))
    store.finish_run(run, "stopped", {}, 1.0)
    with pytest.raises(ExperimentError, match="no checkpoint"):
        branch_plan(store, run)
