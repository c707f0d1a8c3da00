"""Runs are named after their data and model unless a person named the experiment (issue 8,
item 2), and every run keeps the data path it found, so its settings load again from anywhere
(item 1)."""

from __future__ import annotations

import json

import numpy as np

from workbench.cli import main
from workbench.core.runs import RunStore, repeat_specs, spec_to_load
from workbench.core.spec import data_short_name, experiment_name, is_named, model_short_name, parse_spec


def _spec(**changes):
    raw = {"name": "", "data": {"source": "sample:digits"},
           "model": {"layers": [{"type": "Linear", "out_features": 64}, {"type": "ReLU"},
                                {"type": "Linear", "out_features": "auto"}]}}
    return parse_spec(raw).with_values(changes) if changes else parse_spec(raw)


class _Meta:
    source, target_width = "/data/customers.csv", 3


def test_names_after_data_and_model():
    assert experiment_name(_spec()) == "digits · MLP 64-auto"
    assert experiment_name(_spec(**{"data.source": "/x/customers.csv"}), _Meta()) == "customers.csv · MLP 64-3"
    assert experiment_name(_spec(name="churn study")) == "churn study" and is_named(_spec(name="churn study"))
    assert not is_named(_spec(name="experiment")) and not is_named(_spec(name="  "))
    cnn = _spec(**{"model.layers": [{"type": "Conv2d", "out_channels": 16, "kernel_size": 3}, {"type": "ReLU"},
                                    {"type": "Flatten"}, {"type": "Linear", "out_features": "auto"}]})
    assert model_short_name(cnn, 4) == "CNN 16-4"
    assert model_short_name(_spec(**{"model.layers": [{"type": "Linear", "out_features": "auto"}]}), 1) == "Linear 1"
    assert data_short_name("sample:shapes") == "shapes" and data_short_name("/a/images/") == "images"


def test_seed_groups_take_the_shown_name():
    specs, tag = repeat_specs(_spec(), 2, name="digits · MLP 64-10")
    assert [s.name for s in specs] == ["digits · MLP 64-10 · seed 0", "digits · MLP 64-10 · seed 1"]
    assert tag.startswith("group:digits")


def _customers(folder, n=80):
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{b:.3f},{'yes' if a + b > 0 else 'no'}" for a, b in rng.normal(size=(n, 2))]
    (folder / "customers.csv").write_text("a,b,churn\n" + "\n".join(rows) + "\n")
    spec = {"name": "", "data": {"source": "customers.csv"},
            "model": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                                 {"type": "Linear", "out_features": "auto"}]},
            "train": {"epochs": 1, "checkpoint": False}}
    (folder / "spec.json").write_text(json.dumps(spec))
    return folder / "spec.json"


def test_cli_run_is_named_and_keeps_the_resolved_data_path(tmp_path, capsys, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    spec_path = _customers(project)
    store_path = tmp_path / "runs.db"
    assert main(["train", str(spec_path), "--store", str(store_path), "--json"]) == 0
    out, err = capsys.readouterr()
    run_id = [json.loads(line) for line in out.splitlines()][-1]["run_id"]
    assert "Training customers.csv · MLP 8-2:" in err  # not "Training :" for an unnamed spec
    with RunStore(store_path) as store:
        record = store.get_run(run_id)
        assert record.name == "customers.csv · MLP 8-2"
        assert record.spec.data.source == "customers.csv"  # the spec as written
        loaded = spec_to_load(store, record)
    assert loaded.data.source == str(project / "customers.csv")
    # loads from another folder: the path no longer depends on where the spec was
    monkeypatch.chdir(tmp_path)
    from workbench.core.data import load_dataset

    assert load_dataset(loaded.data, base_dir=None).meta.n_samples == 80


def test_recorder_keeps_the_found_path_for_runs_started_elsewhere(tmp_path):
    """App runs (the child process records them) keep the resolved path as well."""
    from workbench.core.data import load_dataset, prepare
    from workbench.core.runs import RunRecorder
    from workbench.core.spec import load_spec
    from workbench.core.training import train

    project = tmp_path / "p"
    project.mkdir()
    spec = load_spec(_customers(project))
    prepared = prepare(load_dataset(spec.data, project), spec.data)
    with RunStore(tmp_path / "runs.db") as store:
        recorder = RunRecorder.begin(store, spec)
        list(train(spec, data=prepared, base_dir=project, callbacks=[recorder], run_dir=recorder.run_dir))
        record = store.get_run(recorder.run_id)
        data_events = [e for e in store.events(record.id) if e["kind"] == "data"]
        assert len(data_events) == 1 and data_events[0]["data"]["source"] == str(project / "customers.csv")
        assert record.name == "customers.csv · MLP 8-2"
        assert spec_to_load(store, record).data.source == str(project / "customers.csv")
