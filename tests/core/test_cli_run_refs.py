"""One way to name a run on the command line: an id, '#id' or 'latest', wherever a run is taken;
a data file given where a spec is expected gets a hint to use --data."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.cli.common import run_reference
from workbench.core.runs import RunStore


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = tmp_path_factory.mktemp("refs") / "runs.db"
    for _ in range(2):
        assert main(["train", "gauss", "--epochs", "1", "-q", "--store", str(db)]) == 0
    return str(db)


def test_run_references_read_alike():
    assert [run_reference(t) for t in ("12", "#12", " 3 ", "latest", "LAST", "x", "1.5", "", "#")] == [
        12, 12, 3, "latest", "latest", None, None, None, None]


def test_latest_and_hash_ids_wherever_a_run_is_taken(store, tmp_path, capsys):
    with RunStore(store) as s:
        newest = s.list_runs(limit=1)[0]
    assert newest.id == 2
    assert main(["export", "latest", "--format", "safetensors", "--out", str(tmp_path / "a"), "--store", store,
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == 2
    assert main(["export", "#1", "--format", "safetensors", "--out", str(tmp_path / "b"), "--store", store]) == 0
    assert capsys.readouterr().out.startswith("Exported run 1 (")
    assert main(["runs", "show", "latest", "--store", store]) == 0
    assert capsys.readouterr().out.startswith("Run 2: ")
    assert main(["runs", "show", "#1", "--store", store]) == 0
    assert capsys.readouterr().out.startswith("Run 1: ")
    assert main(["train", "gauss", "--epochs", "1", "--init-from", "latest", "--store", store]) == 0
    with RunStore(store) as s:
        assert s.get_run(3).spec.finetune.init_run == 2
    capsys.readouterr()
    for argv in (["export", "first", "--out", str(tmp_path)], ["runs", "show", "x"]):
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--store", store])
        assert exit_.value.code == 2 and "'latest'" in capsys.readouterr().err


def test_a_data_file_where_a_spec_is_expected_gets_the_data_flag(tmp_path, capsys):
    table = tmp_path / "customers.csv"
    table.write_text("age,churned\n30,yes\n40,no\n")
    assert main(["train", str(table), "--store", str(tmp_path / "runs.db")]) == 2
    said = capsys.readouterr().err
    assert "is data, not an experiment spec" in said and f"--data {table}" in said


def test_an_export_is_named_after_the_run_as_listed(tmp_path, capsys):
    """`train spiral --data customers.csv` then `export latest`: named after the customers run,
    not after the preset it started from (spiral-mlp.onnx)."""
    from workbench.core.export import file_stem

    table = tmp_path / "customers.csv"
    rows = [f"{i % 7},{(i * 13) % 11},{'yes' if i % 2 else 'no'}" for i in range(60)]
    table.write_text("age,visits,churned\n" + "\n".join(rows) + "\n")
    db = str(tmp_path / "runs.db")
    assert main(["train", "spiral", "--data", str(table), "--epochs", "1", "-q", "--store", db]) == 0
    with RunStore(db) as s:
        run = s.get_run(1)
    assert run.name.startswith("customers.csv · ")
    capsys.readouterr()
    assert main(["export", "latest", "--format", "safetensors", "--out", str(tmp_path / "out"), "--store", db,
                 "--json"]) == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert [f.rsplit("/", 1)[-1] for f in files][0] == f"{file_stem(run.name)}.safetensors"
    assert file_stem(run.name).startswith("customers-csv-")
