"""ProcessRun / WarmPool: a run in a spawned child process (each test spawns one; ~2 s each)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.core import trainer_support as ts
from workbench.core.execution import ProcessRun, WarmPool
from workbench.core.runs import RunStore
from workbench.core.training import (BatchProgress, EpochEnd, Paused, Resumed, RunFailed, RunFinished, RunRecorded,
                                      RunStarted, RunStopped)

CRASH = str(Path(__file__).with_name("child_crash_target.py")) + ":train"


def collect(run, timeout=120.0):
    out, end = [], time.perf_counter() + timeout
    while not run.finished and time.perf_counter() < end:
        out += run.events(timeout=0.2)
    return out


def wait_for(run, kind, timeout=60.0):
    """Events until one of type `kind` (bounded by `timeout`; the run must not end first)."""
    out, end = [], time.perf_counter() + timeout
    while not any(isinstance(e, kind) for e in out):
        assert not run.finished and time.perf_counter() < end, f"no {kind.__name__} in {out[-3:]}"
        out += run.events(timeout=0.2)
    return out


def spec(epochs=2, **kw):
    return ts.mlp_spec(epochs=epochs, **kw).with_values({"data.source": "sample:xor", "data.n_samples": 200})


def test_events_cross_the_process_boundary(tmp_path):
    run = ProcessRun(spec(), store_path=tmp_path / "runs.db", threads=1)
    run.start()
    events = collect(run)
    recorded, started = events[:2]
    assert isinstance(recorded, RunRecorded) and isinstance(started, RunStarted)
    assert isinstance(events[-1], RunFinished), events[-1]
    assert sum(isinstance(e, EpochEnd) for e in events) == 2
    assert run.exitcode == 0
    # the child recorded the run in its own folder, runs/<id>/ beside the store
    assert (run.run_id, run.run_dir) == (recorded.run_id, str(tmp_path / "runs" / str(recorded.run_id)))
    with RunStore(tmp_path / "runs.db") as store:
        (rec,) = store.list_runs()
        assert (rec.id, rec.status, rec.run_dir, rec.pid) == (run.run_id, "finished", run.run_dir, run.pid)
        assert (Path(run.run_dir) / "last.pt").is_file()


def test_stop_ends_quickly_and_pause_works():
    run = ProcessRun(spec(epochs=100_000, batch_size=1), progress_interval=0.05, threads=1)
    run.start()
    events = []
    while not any(isinstance(e, BatchProgress) for e in events):
        events += run.events(timeout=0.5)
        assert not run.finished, events[-1]
    run.pause()
    events += wait_for(run, Paused)
    run.resume()
    events += wait_for(run, Resumed)
    run.stop()
    events += collect(run, timeout=60)
    assert isinstance(events[-1], RunStopped), events[-1]
    assert events[-1].epochs < 100_000  # stopped mid-run, not at the end (how soon: at the next batch)


def crashing(directives: str):
    return ts.mlp_spec(epochs=2).with_values({"name": f"crash {directives}"})


def test_child_crash_becomes_run_failed_and_parent_survives(tmp_path):
    run = ProcessRun(crashing("after=2 code=3"), store_path=tmp_path / "runs.db", train_target=CRASH)
    run.start()
    events = collect(run, timeout=60)
    assert [type(e) for e in events] == [RunRecorded, EpochEnd, EpochEnd, RunFailed]
    assert "ended unexpectedly (exit code 3)" in events[-1].message
    assert run.exitcode == 3 and run.events(0) == []
    with RunStore(tmp_path / "runs.db") as store:  # the record says what happened, not "interrupted"
        rec = store.get_run(run.run_id)
        assert rec.status == "failed" and "ended unexpectedly (exit code 3)" in rec.message


def test_failing_data_source_yields_data_message(tmp_path):
    bad = spec().with_values({"data.source": str(tmp_path / "absent.csv")})
    with WarmPool(warm_delay=0.0) as pool:
        run = pool.start_run(bad)
        events = collect(run, timeout=60)
    assert len(events) == 1 and isinstance(events[0], RunFailed)
    assert "absent.csv" in events[0].message


def test_child_crash_reports_the_tail_of_its_stderr():
    run = ProcessRun(crashing("after=2 code=5 stderr=1"), train_target=CRASH)
    run.start()
    events = collect(run, timeout=60)
    end = events[-1]
    assert isinstance(end, RunFailed) and "ended unexpectedly (exit code 5)" in end.message
    assert "Its last error output: RuntimeError: the native thing broke" in end.message
    assert "some warning" in end.details and "the native thing broke" in end.details
    assert run.exitcode == 5 and run.events(0) == []


def test_native_crash_leaves_a_traceback_in_details():
    run = ProcessRun(crashing("after=2 code=segv"), train_target=CRASH)
    run.start()
    events = collect(run, timeout=60)
    end = events[-1]
    assert isinstance(end, RunFailed) and "killed by signal 11" in end.message, end
    assert "Segmentation fault" in end.message
    assert "Segmentation fault" in end.details and "most recent call first" in end.details
