"""`workbench sweep` / `workbench sweep-worker`: JSON output, exit codes, joining a sweep from
another process through SQLite (always) and PostgreSQL (when a server can be started here)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from workbench.cli import main
from workbench.core.runs import RunStore
from workbench.core.spec import parse_spec
from workbench.core.sweep import SweepSettings, create_sweep, join_sweep, open_sweep, open_storage

FAKE = str(Path(__file__).with_name("sweep_fake_trainer.py")) + ":train"


def write_inputs(tmp_path, directives="", epochs=3, space=None):
    spec = {"name": f"fake {directives}", "train": {"epochs": epochs},
            "model": {"layers": [{"type": "Linear", "out_features": "auto"}]}, "optimizer": {"type": "Adam", "lr": 0.01}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    (tmp_path / "space.json").write_text(json.dumps(space or {"optimizer.lr": {"choices": [0.01, 0.02, 0.05]}}))
    return str(tmp_path / "spec.json"), str(tmp_path / "space.json")


def test_json_output_shape(tmp_path, capsys):
    spec, space = write_inputs(tmp_path, "crash_lr=0.05")
    code = main(["sweep", spec, "--space", space, "--strategy", "grid", "--parallel", "2", "--store",
                 str(tmp_path / "runs.db"), "--study", "cli", "--json", "--train-target", FAKE])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    trials, final = lines[:-1], lines[-1]
    assert len(trials) == 3 and {t["status"] for t in trials} == {"complete", "failed"}
    ok = next(t for t in trials if t["params"] == {"optimizer.lr": 0.01})
    assert set(ok) >= {"trial", "status", "value", "params", "metrics", "run_id"} and ok["value"] == pytest.approx(1 / 3 + 0.1)
    bad = next(t for t in trials if t["status"] == "failed")
    assert bad["message"] == "RuntimeError: scripted crash at lr=0.05" and bad["params"] == {"optimizer.lr": 0.05}
    assert final["status"] == "finished" and final["study"] == "cli"
    assert final["best"]["params"] == {"optimizer.lr": 0.01} and final["best"]["metric"] == "val_loss"
    assert final["best"]["run_id"] == ok["run_id"] and final["best"]["value"] == pytest.approx(ok["value"])
    assert (tmp_path / "sweeps.db").exists()  # the study sits next to the run store by default


def test_human_output_has_a_table_sorted_by_metric(tmp_path, capsys):
    spec, space = write_inputs(tmp_path)
    code = main(["sweep", spec, "--space", space, "--strategy", "grid", "--parallel", "1", "--metric", "val_accuracy",
                 "--store", str(tmp_path / "runs.db"), "--train-target", FAKE])
    out = capsys.readouterr().out
    assert code == 0 and "maximize val_accuracy" in out
    table = out[out.index("trial  status"):].splitlines()[2:5]
    assert [row.split()[3] for row in table] == ["0.01", "0.02", "0.05"]  # best (highest accuracy) first
    assert "Best: trial 1 val_accuracy=" in out  # people count from 1 (--json keeps Optuna's 0)


@pytest.mark.parametrize("space, message", [
    ({"model.layers.2.p": {"uniform": [0, 0.5]}}, "model.layers.2.p: there is no layer 2"),
    ({"optimizer.lr": {"choices": []}}, "optimizer.lr: choices is empty"),
])
def test_bad_space_exits_2_with_the_message(tmp_path, capsys, space, message):
    spec, space_file = write_inputs(tmp_path, space=space)
    code = main(["sweep", spec, "--space", space_file, "--store", str(tmp_path / "runs.db"), "--json"])
    captured = capsys.readouterr()
    assert code == 2 and message in captured.err
    assert json.loads(captured.out)["status"] == "invalid"


def test_bad_settings_exit_2_before_any_trial(tmp_path, capsys):
    spec, space = write_inputs(tmp_path)
    store = str(tmp_path / "runs.db")
    cases = [
        (["--trials", "0"], "--trials must be a whole number ≥ 1 (got 0)"),
        (["--trials", "-3"], "--trials must be a whole number ≥ 1 (got -3)"),
        (["--parallel", "0"], "--parallel must be a whole number ≥ 1 (got 0)"),
        (["--metric", "val_r2"], "metric 'val_r2' is not reported by a classification run; it is a regression "
                                 "metric; valid names: val_loss, "
                                 "val_accuracy, val_precision, val_recall, val_f1, loss, accuracy"),
        (["--metric", "val_acc"], "did you mean 'val_accuracy'?"),
    ]
    for extra, message in cases:
        code = main(["sweep", spec, "--space", space, "--store", store, "--json", "--train-target", FAKE, *extra])
        captured = capsys.readouterr()
        assert code == 2 and message in captured.err, (extra, captured.err)
        assert [json.loads(line)["status"] for line in captured.out.splitlines()] == ["invalid"]
    assert not (tmp_path / "sweeps.db").exists() or not optuna.get_all_study_summaries(
        f"sqlite:///{tmp_path / 'sweeps.db'}")  # nothing started
    # a regression spec: its own metrics
    raw = json.loads(Path(spec).read_text())
    raw["data"] = {"source": "sample:sine"}
    raw["loss"] = {"type": "MSELoss"}
    Path(spec).write_text(json.dumps(raw))
    assert main(["sweep", spec, "--space", space, "--store", store, "--metric", "val_accuracy"]) == 2
    assert "valid names: val_loss, val_mae, val_rmse, val_r2, loss" in capsys.readouterr().err


def test_bare_list_space_is_refused_and_names_the_file(tmp_path, capsys):
    spec, space = write_inputs(tmp_path, space={"optimizer.lr": [0.001, 0.1]})
    assert main(["sweep", spec, "--space", space, "--store", str(tmp_path / "runs.db")]) == 2
    err = capsys.readouterr().err
    assert f"Invalid search space in {space}:" in err
    assert ('optimizer.lr: a bare list is ambiguous; write {"choices": [0.001, 0.1]} for exactly these values or '
            '{"log_uniform": [0.001, 0.1]} for a range') in err


def test_grid_cut_short_runs_spread_out_points(tmp_path, capsys):
    lrs = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07]
    spec, space = write_inputs(tmp_path, epochs=1, space={"optimizer.lr": {"choices": lrs}})
    code = main(["sweep", spec, "--space", space, "--strategy", "grid", "--trials", "3", "--parallel", "1",
                 "--store", str(tmp_path / "runs.db"), "--train-target", FAKE])
    out = capsys.readouterr().out
    assert code == 0 and "grid has 7 points; running 3 of them" in out and "grid, 3 trials" in out
    assert "3 complete" in out
    for lr in ("0.01", "0.04", "0.07"):
        assert f"lr={lr}" in out
    assert "lr=0.02" not in out


def test_bad_spec_and_missing_space_exit_2(tmp_path, capsys):
    (tmp_path / "bad.json").write_text('{"train": {"epochs": 0}}')
    _, space = write_inputs(tmp_path)
    assert main(["sweep", str(tmp_path / "bad.json"), "--space", space, "--store", str(tmp_path / "r.db")]) == 2
    assert "train.epochs" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "spec.json"), "--store", str(tmp_path / "r.db")]) == 2
    assert "--space SPACE.json is required" in capsys.readouterr().err
    assert main(["sweep-worker", "--storage", f"sqlite:///{tmp_path / 'none.db'}", "--study", "x"]) == 2
    assert "no sweep named 'x'" in capsys.readouterr().err


# ---- joining from other processes ---------------------------------------------------------------


def _start_worker(storage: str, study: str, store: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", "sweep-worker", "--storage", storage, "--study", study, "--store",
         str(store), "--parallel", "1", "--json", "--train-target", FAKE],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def _joined_sweep(storage: str, tmp_path: Path) -> None:
    """A study made here; one sweep-worker process and this process both take its trials.
    The worker is started first and must have taken a trial before this process joins."""
    spec = parse_spec({"name": "fake delay=0.1", "train": {"epochs": 4},
                       "model": {"layers": [{"type": "Linear", "out_features": "auto"}]}})
    create_sweep(spec, {"optimizer.lr": {"log_uniform": [0.001, 0.1]}},
                 SweepSettings(strategy="random", n_trials=6, seed=1), storage=storage, study_name="joined")
    worker = _start_worker(storage, "joined", tmp_path / "worker_runs.db")
    try:
        study = optuna.load_study(study_name="joined", storage=open_storage(storage))  # one connection to poll
        deadline = time.monotonic() + 120
        while not study.get_trials(deepcopy=False) and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        assert study.get_trials(deepcopy=False), \
            f"the worker took no trial: {worker.stderr.read() if worker.poll() is not None else ''}"
        here = list(join_sweep(storage, "joined", parallel=1, store_path=str(tmp_path / "runs.db"), train_target=FAKE))
        out, err = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    final = json.loads(out.splitlines()[-1])
    assert final["status"] == "finished" and final["best"] is not None
    rec = open_sweep(storage, "joined")
    # The target is checked before each ask, so two processes that ask at the same moment take one
    # trial more than the target; the one numbered past it is told "not needed", never trained.
    done = [t for t in rec.trials if t["state"] == "complete"]
    extra = [t for t in rec.trials if t["state"] != "complete"]
    assert [t["trial"] for t in done] == list(range(6)), rec.trials
    assert all(t["trial"] >= 6 and t["state"] == "fail" and t["error"].startswith("not needed") and not t["run_ids"]
               for t in extra), extra
    assert {t["pid"] for t in done} <= {worker.pid, os.getpid()}  # who ran each trial
    assert worker.pid in {t["pid"] for t in done}
    worker_runs = RunStore(tmp_path / "worker_runs.db").runs_for_sweep("joined")
    my_runs = RunStore(tmp_path / "runs.db").runs_for_sweep("joined") if (tmp_path / "runs.db").exists() else []
    assert len(worker_runs) >= 1 and len(worker_runs) + len(my_runs) == len(done)
    # both see the same study: each best is a trial of it, and the process that finished last saw
    # every trial (the other may have ended while a better trial was still running)
    by_number = {t["trial"]: t for t in done}
    for best in (here[-1].best, final["best"]):
        assert best["value"] == by_number[best["trial"]]["value"] and best["params"] == by_number[best["trial"]]["params"]
    assert rec.best["value"] == min(t["value"] for t in done)
    assert rec.best["trial"] in (here[-1].best["trial"], final["best"]["trial"])


def test_sweep_worker_joins_through_sqlite(tmp_path):
    _joined_sweep(f"sqlite:///{tmp_path / 'sweeps.db'}", tmp_path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_bindir() -> Path | None:
    """The newest server's bin folder: Debian keeps initdb/pg_ctl in /usr/lib/postgresql/<major>/bin,
    off the PATH; elsewhere they are on it."""
    def major(path: Path) -> float:
        try:
            return float(path.parent.name)
        except ValueError:
            return 0.0

    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=major)
    if debian and (debian[-1] / "pg_ctl").exists():
        return debian[-1]
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and (Path(found).parent / "initdb").exists() else None


def _no_postgres(reason: str):
    """Skip, or fail where the PostgreSQL test must run ($WORKBENCH_REQUIRE_POSTGRES=1, set by
    .ci/run in CI after installing the server package)."""
    if os.environ.get("WORKBENCH_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL test cannot run: {reason} ($WORKBENCH_REQUIRE_POSTGRES=1 requires it)")
    pytest.skip(f"PostgreSQL test skipped: {reason}")


@pytest.fixture
def postgres_url(tmp_path):
    """A throwaway PostgreSQL server on 127.0.0.1 (initdb + pg_ctl), or skip saying why."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        _no_postgres("the psycopg2 driver is not installed (pip install psycopg2-binary)")
    bindir = _postgres_bindir()
    if bindir is None:
        _no_postgres("no initdb/pg_ctl found (install the postgresql server package)")
    # pytest's tmp folders are private to this user; the server's account must reach its folder
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
    os.chmod(root, 0o755)
    data, port = root / "data", _free_port()
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: use the postgres account
        if not shutil.which("runuser"):
            _no_postgres("running as root without runuser")
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            _no_postgres("running as root and there is no 'postgres' user")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]

    def run(*cmd, timeout=120):
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=timeout)

    r = run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    if r.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        _no_postgres(f"initdb failed: {r.stderr.strip()[-300:]}")
    opts = f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off"
    r = run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "-t", "60", "start")
    if r.returncode != 0:
        log = (root / "log").read_text()[-300:] if (root / "log").exists() else r.stderr
        shutil.rmtree(root, ignore_errors=True)
        _no_postgres(f"the server did not start: {log.strip()}")
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop", timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def test_sweep_worker_joins_through_postgresql(tmp_path, postgres_url):
    open_storage(postgres_url)  # creates the tables once, before two processes race to
    _joined_sweep(postgres_url, tmp_path)
