"""RunStore: round trip, concurrent writers, interrupted runs, listing speed, migrations."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from workbench.core.runs import SCHEMA_VERSION, RunStore, StoreError, default_store_path
from workbench.core.spec import parse_spec

SPEC = {
    "name": "spiral-mlp",
    "data": {"source": "sample:spiral"},
    "model": {"layers": [{"type": "Linear", "out_features": 32}, {"type": "ReLU"},
                         {"type": "Linear", "out_features": "auto"}]},
    "loss": {"type": "CrossEntropyLoss"},
    "optimizer": {"type": "Adam", "lr": 0.01},
    "train": {"epochs": 5},
}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def spec():
    return parse_spec(SPEC)


@pytest.fixture
def store(tmp_path):
    s = RunStore(tmp_path / "runs.db")
    yield s
    s.close()


# Child processes build their spec without the catalog check (which imports torch, seconds per
# process); the store only reads name, data.source and the optimizer from it.
CHILD_SPEC = (
    "from workbench.core.spec import ExperimentSpec, DataSpec, ModelSpec, OptimizerSpec\n"
    "SPEC = ExperimentSpec.model_construct(name='child', data=DataSpec(source='sample:spiral'),"
    " model=ModelSpec(), optimizer=OptimizerSpec(type='Adam', lr=0.01), schedule=None)\n"
)


def _child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def test_round_trip(store, spec, tmp_path):
    run_id = store.create_run(spec, device="cpu", tags=["baseline"], task="classification", run_dir=tmp_path / "r1")
    rec = store.get_run(run_id)
    assert rec.status == "running" and rec.name == "spiral-mlp"
    assert rec.dataset == "sample:spiral" and rec.optimizer == "Adam" and rec.lr == 0.01
    assert rec.device == "cpu" and rec.tags == ["baseline"] and rec.pid == os.getpid()
    assert rec.model_summary == "Linear(32) ReLU Linear(auto)"
    assert rec.spec == spec  # parsed lazily from the stored JSON
    store.log_epoch(run_id, 1, {"loss": 1.0, "val_loss": 0.9, "val_accuracy": 0.5, "lr": 0.01})
    store.log_epoch(run_id, 2, {"loss": 0.5, "val_loss": 0.4, "val_accuracy": 0.8, "lr": 0.01})
    store.log_epoch(run_id, 3, {"loss": 0.4, "val_loss": float("nan"), "val_accuracy": 0.7, "lr": 0.01})
    store.log_event(run_id, "lr_changed", 2, 40, {"lr": 0.001, "previous": 0.01})
    store.add_artifact(run_id, "best", str(tmp_path / "r1" / "best.pt"))
    store.add_artifact(run_id, "best", str(tmp_path / "r1" / "best.pt"))  # idempotent
    store.finish_run(run_id, "finished", {"test_accuracy": 0.75, "test_loss": 0.6}, 12.5, "done")

    rec = store.get_run(run_id)
    assert rec.status == "finished" and rec.duration == 12.5 and rec.message == "done"
    assert rec.epochs == 3
    assert (rec.best_val_metric, rec.best_val, rec.best_epoch) == ("val_accuracy", 0.8, 2)
    assert rec.test_metric == ("test_accuracy", 0.75)
    eps = store.epochs(run_id)
    assert [e["epoch"] for e in eps] == [1, 2, 3]
    assert eps[1]["val_accuracy"] == 0.8 and eps[2]["val_loss"] is None  # NaN stored as null
    assert store.events(run_id)[0]["data"] == {"lr": 0.001, "previous": 0.01}
    assert [a["kind"] for a in store.artifacts(run_id)] == ["best"]
    json.dumps(rec.to_dict())  # JSON-able for the CLI

    store.rename(run_id, "renamed")
    store.set_tags(run_id, ["a", "b"])
    store.set_notes(run_id, "worth keeping")
    rec = store.get_run(run_id)
    assert (rec.name, rec.tags, rec.notes) == ("renamed", ["a", "b"], "worth keeping")
    with pytest.raises(KeyError):
        store.rename(9999, "x")
    with pytest.raises(ValueError):
        store.finish_run(run_id, "bogus", {}, 1.0)


def test_regression_best_metric_is_minimised_loss_or_r2(store, spec):
    a = store.create_run(spec)
    store.log_epoch(a, 1, {"loss": 2.0, "val_loss": 3.0})
    store.log_epoch(a, 2, {"loss": 1.0, "val_loss": 1.5})
    store.log_epoch(a, 3, {"loss": 0.5, "val_loss": 2.5})
    rec = store.get_run(a)
    assert (rec.best_val_metric, rec.best_val, rec.best_epoch) == ("val_loss", 1.5, 2)


def test_listing_filters_relations_and_delete(store, spec, tmp_path):
    sweep = "lr sweep"  # the Optuna study's name
    parent = store.create_run(spec, name="parent")
    kids = [store.create_run(spec, name=f"kid{i}", parent_id=parent, sweep_id=sweep, tags=["sw"]) for i in range(3)]
    store.finish_run(kids[0], "failed", {}, 1.0, "diverged")
    assert [r.name for r in store.list_runs()] == ["kid2", "kid1", "kid0", "parent"]
    assert [r.id for r in store.list_runs(limit=2)] == [kids[2], kids[1]]
    assert [r.id for r in store.runs_for_sweep(sweep)] == kids
    assert [r.id for r in store.children(parent)] == kids
    assert [r.id for r in store.list_runs(status="failed")] == [kids[0]]
    assert {r.id for r in store.list_runs(tag="sw")} == set(kids)
    assert [r.id for r in store.list_runs(search="parent")] == [parent]
    assert store.count_runs() == 4

    ckpt = tmp_path / "rd" / "last.pt"
    ckpt.parent.mkdir()
    ckpt.write_bytes(b"x")
    store.update_run(kids[1], run_dir=ckpt.parent)
    store.log_epoch(kids[1], 1, {"loss": 1.0})
    store.log_event(kids[1], "lr_changed", 1, 1, {})
    store.add_artifact(kids[1], "last", ckpt)
    store.delete_run(kids[1], delete_files=True)
    assert not ckpt.exists() and not ckpt.parent.exists()
    with pytest.raises(KeyError):
        store.get_run(kids[1])
    assert store.epochs(kids[1]) == [] and store.events(kids[1]) == [] and store.artifacts(kids[1]) == []
    store.delete_run(parent)  # children survive, detached
    assert store.get_run(kids[0]).parent_id is None


def test_interrupted_when_process_is_gone(store, spec):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_id = store.create_run(spec, pid=dead.pid)
    rec = store.get_run(run_id)
    assert rec.status == "interrupted" and rec.stored_status == "running"
    assert [r.id for r in store.list_runs(status="interrupted")] == [run_id]
    live = store.create_run(spec)  # this process: still running
    assert store.get_run(live).status == "running"
    assert [r.id for r in store.list_runs(status="running")] == [live]


def test_killed_writer_keeps_its_epochs(tmp_path):
    """A process killed mid-run loses nothing already logged, and its run reads as interrupted."""
    db = tmp_path / "runs.db"
    script = textwrap.dedent(f"""
        import sys, time
        from workbench.core.runs import RunStore
        store = RunStore({str(db)!r})
        rid = store.create_run(SPEC)
        for e in range(1, 4):
            store.log_epoch(rid, e, {{"loss": 1.0 / e, "val_loss": 1.0 / e}})
        print(rid, flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", CHILD_SPEC + script], stdout=subprocess.PIPE, text=True, env=_child_env())
    try:
        run_id = int(proc.stdout.readline())
        store = RunStore(db)
        assert store.get_run(run_id).status == "running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    rec = store.get_run(run_id)
    assert rec.status == "interrupted" and rec.epochs == 3
    assert [e["epoch"] for e in store.epochs(run_id)] == [1, 2, 3]
    store.close()


def test_concurrent_writers(tmp_path):
    """Two processes log epochs and events into one store at the same time; nothing is lost."""
    db = tmp_path / "runs.db"
    go = tmp_path / "go"
    n = 150
    script = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from workbench.core.runs import RunStore
        store = RunStore({str(db)!r})
        spec = SPEC
        print("ready", flush=True)
        while not Path({str(go)!r}).exists():
            time.sleep(0.005)
        rid = store.create_run(spec, name="w" + sys.argv[1])
        for e in range(1, {n} + 1):
            store.log_epoch(rid, e, {{"loss": 1.0 / e, "val_accuracy": e / {n}}})
            if e % 10 == 0:
                store.log_event(rid, "lr_changed", e, e, {{"lr": 0.1}})
        store.finish_run(rid, "finished", {{"test_accuracy": 1.0}}, 1.0)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", CHILD_SPEC + script, str(i)], env=_child_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    for p in procs:  # both have opened the store and wait for the word: they start together
        assert p.stdout.readline().strip() == "ready", p.communicate(timeout=60)[1]
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with RunStore(db) as store:
        runs = store.list_runs()
        assert sorted(r.name for r in runs) == ["w0", "w1"]
        for r in runs:
            assert r.status == "finished" and r.epochs == n and r.best_val == 1.0
            assert len(store.epochs(r.id)) == n and len(store.events(r.id)) == n // 10


def _bulk_insert(store: RunStore, count: int, spec_json: str) -> None:
    """Insert `count` finished runs with 10 epochs each, as fast as SQLite allows."""
    now = time.time()
    rows = [
        (f"run {i}", now - count + i, "finished", spec_json, "sample:spiral", "classification",
         "Linear(64) ReLU Linear(auto)", "Adam", 0.01, "cpu", 3.5, 20,
         json.dumps({"test_accuracy": 0.9, "test_loss": 0.3, "val_accuracy": 0.91}), 0.91, "val_accuracy", 17,
         "", "[]", "", 1, "", "host")
        for i in range(count)
    ]
    with store._write() as db:
        db.executemany(
            "INSERT INTO runs (name, created, status, spec_json, dataset, task, model_summary, optimizer, lr,"
            " device, duration, epochs_done, metrics_json, best_val, best_val_metric, best_epoch, message, tags,"
            " notes, pid, pid_token, host) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        first = db.execute("SELECT MIN(id) FROM runs").fetchone()[0]
        logs = json.dumps({"loss": 0.5, "val_loss": 0.4, "accuracy": 0.8, "val_accuracy": 0.85, "lr": 0.01})
        db.executemany(
            "INSERT INTO epochs (run_id, epoch, logs) VALUES (?, ?, ?)",
            ((first + i, e, logs) for i in range(count) for e in range(1, 11)),
        )


def test_listing_ten_thousand_runs(store, spec):
    """How fast: benchmarks/scale.py (store)."""
    _bulk_insert(store, 10_000, spec.to_json())
    runs = store.list_runs()
    assert len(runs) == 10_000 and runs[0].name == "run 9999"
    newest = store.list_runs(limit=50)
    assert [r.name for r in newest] == [f"run {i}" for i in range(9999, 9949, -1)]


def test_migration_from_empty_database(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()  # a zero-byte file is an empty SQLite database
    with RunStore(empty) as store:
        assert store.list_runs() == []
    db = sqlite3.connect(empty)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "epochs", "events", "artifacts"} <= tables and "sweeps" not in tables
    db.close()
    with RunStore(empty) as store:  # reopening an up-to-date store changes nothing
        assert store.count_runs() == 0


def test_version_1_store_is_upgraded_in_place(tmp_path, spec):
    from workbench.core.runs.schema import MIGRATIONS

    old = tmp_path / "v1.db"
    db = sqlite3.connect(old, isolation_level=None)
    db.execute("BEGIN")
    MIGRATIONS[1](db)
    db.execute("INSERT INTO sweeps (name, created) VALUES ('never used', 0)")
    db.execute("PRAGMA user_version = 1")
    db.execute("COMMIT")
    db.close()
    with RunStore(old) as store:
        run_id = store.create_run(spec)
        assert store.get_run(run_id).status == "running"
    db = sqlite3.connect(old)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'sweeps'").fetchall()
    db.close()


def test_deleting_a_run_removes_only_files_in_its_own_folder(store, spec, tmp_path):
    folder = tmp_path / "runs" / "7"
    folder.mkdir(parents=True)
    own = folder / "last.pt"
    own.write_bytes(b"weights")
    outside = tmp_path / "precious.txt"  # listed by an edited or shared store
    outside.write_text("not the run's")
    sneaky = folder / ".." / "sibling.pt"  # inside by its text, outside once resolved
    sneaky.write_bytes(b"x")
    run_id = store.create_run(spec, run_dir=folder)
    for kind, path in (("checkpoint_last", own), ("notes", outside), ("checkpoint_best", sneaky)):
        store.add_artifact(run_id, kind, path)
    assert store.own_files(run_id) == (folder.resolve(), [own.resolve()])
    store.delete_run(run_id, delete_files=True)
    assert not own.exists() and not folder.exists()
    assert outside.read_text() == "not the run's" and sneaky.resolve().exists()

    # a run whose folder is the store's own folder (or above it) owns no files at all
    stray = tmp_path / "stray.pt"
    stray.write_bytes(b"x")
    for run_dir in (store.path.parent, tmp_path.parent):
        run_id = store.create_run(spec, run_dir=run_dir)
        store.add_artifact(run_id, "checkpoint_last", stray)
        assert store.own_files(run_id) == (None, [])
        store.delete_run(run_id, delete_files=True)
        assert stray.exists() and store.path.exists()


def test_newer_or_broken_store_is_refused_with_a_message(tmp_path):
    newer = tmp_path / "newer.db"
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer Workbench"):
        RunStore(newer)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        RunStore(junk)


def test_default_path_and_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_STORE", str(tmp_path / "x" / "env.db"))
    assert default_store_path() == tmp_path / "x" / "env.db"
    with RunStore() as store:
        assert store.path == tmp_path / "x" / "env.db" and store.path.exists()
    monkeypatch.delenv("WORKBENCH_STORE")
    assert default_store_path().name == "runs.db"


def test_store_pickles_as_its_path(store, spec):
    import pickle

    run_id = store.create_run(spec)
    clone = pickle.loads(pickle.dumps(store))
    assert clone.path == store.path and clone.get_run(run_id).id == run_id
    clone.close()


def test_a_new_store_opened_by_two_processes_at_once_waits_for_the_lock(tmp_path, monkeypatch):
    """Switching a new file to WAL while another process does the same can report "database is
    locked" at once instead of waiting on the busy timeout (a concurrent-writers test failed so):
    opening tries again until the timeout."""
    import sqlite3

    real = RunStore._configure
    calls = []

    def locked_once(self, db):
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        real(self, db)

    monkeypatch.setattr(RunStore, "_configure", locked_once)
    with RunStore(tmp_path / "runs.db") as store:
        assert store.list_runs() == [] and len(calls) == 2
