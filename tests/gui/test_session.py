"""Session and RunWorker: spec edits, undo, background data, validity, runs and their events."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from helpers import wait_ready
from workbench.core.training import (
    EpochEnd,
    LRChanged,
    Paused,
    Resumed,
    RunFailed,
    RunFinished,
    RunRecorded,
    RunStarted,
    RunStopped,
)
from workbench.gui.worker import RunWorker


def collect(session):
    events = []
    session.run_event.connect(events.append)
    return events


def test_default_session_loads_spiral_and_is_ready(qtbot, make_session):
    from workbench.gui.session import Session

    session = make_session(spec=None)
    assert isinstance(session, Session)
    assert session.spec.data.source == "sample:spiral"
    wait_ready(qtbot, session)
    assert session.validity == (True, "")
    assert session.dataset.meta.task == "classification"
    assert session.summary.total_params > 0
    assert not session.is_dirty


def test_edit_undo_redo_and_dirty(qtbot, make_session):
    session = make_session()
    wait_ready(qtbot, session)
    dirty = []
    session.dirty_changed.connect(dirty.append)
    with qtbot.waitSignal(session.spec_changed):
        assert session.edit({"optimizer.lr": 0.05}) is None
    assert session.spec.optimizer.params["lr"] == 0.05
    assert session.is_dirty and dirty == [True]
    session.undo_stack.undo()
    assert session.spec.optimizer.params["lr"] == 0.01
    assert not session.is_dirty
    session.undo_stack.redo()
    assert session.spec.optimizer.params["lr"] == 0.05


def test_quick_edits_of_one_field_are_one_undo_step(qtbot, make_session):
    session = make_session()
    for epochs in (4, 5, 6, 7):
        assert session.edit({"train.epochs": epochs}) is None
    assert session.undo_stack.count() == 1
    session.undo_stack.undo()
    assert session.spec.train.epochs == 3


def test_bad_edit_is_refused_in_words(qtbot, make_session):
    session = make_session()
    before = session.spec
    error = session.edit({"optimizer.lr": -1.0})
    assert error and error.startswith("Optimizer: lr:")  # named as the Train page names it
    assert session.spec is before
    assert session.undo_stack.count() == 0


def test_missing_file_shows_a_data_error_and_disables_training(qtbot, make_session, tmp_path):
    session = make_session()
    wait_ready(qtbot, session)
    with qtbot.waitSignal(session.data_error, check_params_cb=bool, timeout=8000):
        session.load_data(str(tmp_path / "nope.csv"))
    wait_ready(qtbot, session)
    ok, reason = session.validity
    assert not ok and reason.startswith("No data:") and "nope.csv" in reason


def test_regression_data_switches_to_a_regression_loss(qtbot, make_session):
    session = make_session()
    wait_ready(qtbot, session)
    session.load_data("sample:sine")
    wait_ready(qtbot, session)
    assert session.dataset.meta.task == "regression"
    assert session.spec.loss.type == "MSELoss"
    assert session.validity[0], session.validity


def test_an_image_sample_gets_a_model_that_takes_images(qtbot, make_session):
    """The default MLP starts with Linear, which cannot take 28×28 images: choosing the Shapes
    sample puts a Flatten first (one undo step, said in the status bar) and Train is possible."""
    session = make_session()
    wait_ready(qtbot, session)
    mlp = [layer.type for layer in session.spec.model.layers]
    assert mlp[0] == "Linear"
    with qtbot.waitSignal(session.notice, timeout=20_000) as notice:
        session.load_data("sample:shapes")
    wait_ready(qtbot, session, timeout=20_000)
    assert "The sample is 28×28 images: added a Flatten layer" in notice.args[0]
    assert [layer.type for layer in session.spec.model.layers] == ["Flatten", *mlp]
    assert session.validity == (True, ""), session.validity
    session.undo_stack.undo()
    assert [layer.type for layer in session.spec.model.layers] == mlp
    assert session.spec.data.source == "sample:shapes"


def test_impossible_model_names_the_layer(qtbot, make_session):
    session = make_session()
    wait_ready(qtbot, session)
    session.set_layers([{"type": "Conv2d", "out_channels": 4}, {"type": "Linear", "out_features": "auto"}])
    wait_ready(qtbot, session)
    ok, reason = session.validity
    assert not ok and "Layer 1 (Conv2d)" in reason
    assert session.train() is False


def test_train_emits_events_and_returns_to_idle(qtbot, make_session):
    session = make_session()
    wait_ready(qtbot, session)
    events = collect(session)
    states = []
    session.run_state_changed.connect(states.append)
    assert session.train()
    qtbot.waitUntil(lambda: session.state == "idle", timeout=8000)
    kinds = [type(e) for e in events]
    assert kinds[:2] == [RunRecorded, RunStarted] and kinds[-1] is RunFinished
    assert sum(k is EpochEnd for k in kinds) == 3
    # the run's folder is runs/<id>/ beside the store, known as soon as the run is recorded
    assert session.current_run_dir == Path(session.store_path).resolve().parent / "runs" / str(events[0].run_id)
    assert states[:2] == ["starting", "running"] and states[-1] == "idle"


def test_pause_set_lr_resume_stop(qtbot, make_session, tiny_spec):
    session = make_session(spec=tiny_spec.with_values({"train.epochs": 500, "data.n_samples": 2000}))
    wait_ready(qtbot, session)
    events = collect(session)
    session.train()
    qtbot.waitUntil(lambda: any(isinstance(e, EpochEnd) for e in events), timeout=8000)
    session.pause()
    qtbot.waitUntil(lambda: session.state == "paused", timeout=5000)
    assert session.set_lr(0.002) is None
    session.resume()
    qtbot.waitUntil(lambda: any(isinstance(e, LRChanged) for e in events), timeout=5000)
    assert session.state == "running"
    session.stop()
    assert session.state == "stopping"
    qtbot.waitUntil(lambda: session.state == "idle", timeout=5000)
    kinds = [type(e) for e in events]
    assert Paused in kinds and Resumed in kinds and kinds[-1] is RunStopped
    change = next(e for e in events if isinstance(e, LRChanged))
    assert change.lr == pytest.approx(0.002)


def test_a_run_that_raises_becomes_run_failed(qtbot, make_session, in_process_runs):
    def broken_train(spec, **kwargs):
        raise RuntimeError("the GPU caught fire")
        yield  # a generator, like the trainer

    session = make_session(run_factory=lambda s, b, p: in_process_runs(s, b, p, train_fn=broken_train))
    wait_ready(qtbot, session)
    events = collect(session)
    session.train()
    qtbot.waitUntil(lambda: session.state == "idle", timeout=5000)
    assert isinstance(events[-1], RunFailed)
    assert "the GPU caught fire" in events[-1].message
    assert "RuntimeError" in events[-1].details
    assert session.train()  # still usable


class _StuckRun:
    """A run whose child neither answers nor dies (a hang)."""

    def __init__(self, dies: bool = False):
        self.dies, self.killed, self.exitcode = dies, False, None
        self.started = time.monotonic()

    def events(self, timeout=0.0):
        time.sleep(timeout or 0)
        return []

    def pause(self): ...
    def resume(self): ...
    def set_lr(self, lr): ...
    def stop(self): ...

    def kill(self):
        self.killed = True

    @property
    def finished(self):
        if self.dies and time.monotonic() - self.started > 0.2:
            self.exitcode = -9
            return True
        return False


def test_worker_kills_a_hung_run_after_stop(qtbot):
    run = _StuckRun()
    worker = RunWorker(lambda: run, stop_grace=0.3)
    batches = []
    worker.events_ready.connect(batches.extend)
    with qtbot.waitSignal(worker.done, timeout=5000):
        worker.start()
        worker.send("stop")
    assert run.killed
    assert isinstance(batches[-1], RunStopped)
    assert worker.shutdown(1.0)


def test_worker_reports_a_child_that_died(qtbot):
    worker = RunWorker(lambda: _StuckRun(dies=True))
    batches = []
    worker.events_ready.connect(batches.extend)
    with qtbot.waitSignal(worker.done, timeout=5000):
        worker.start()
    assert isinstance(batches[-1], RunFailed)
    assert "exit code -9" in batches[-1].message
    assert worker.shutdown(1.0)


def test_worker_reports_a_run_that_cannot_start(qtbot):
    def cannot():
        raise OSError("no more processes")

    worker = RunWorker(cannot)
    batches = []
    worker.events_ready.connect(batches.extend)
    with qtbot.waitSignal(worker.done, timeout=5000):
        worker.start()
    assert isinstance(batches[-1], RunFailed) and "no more processes" in batches[-1].message


def test_project_round_trip(qtbot, make_session, tmp_path):
    session = make_session()
    session.edit({"train.epochs": 9, "optimizer.lr": 0.02})
    path = tmp_path / "proj.json"
    assert session.save_project(path) is None
    assert not session.is_dirty and session.project_path == path.resolve()
    other = make_session(spec=None)
    assert other.open_project(path) is None
    assert other.spec == session.spec
    assert other.undo_stack.count() == 0 and not other.is_dirty
    assert other.open_project(tmp_path / "missing.json") is not None


def test_shutdown_during_a_run_joins_everything(qtbot, make_session, tiny_spec):
    session = make_session(spec=tiny_spec.with_values({"train.epochs": 1000}))
    wait_ready(qtbot, session)
    events = collect(session)
    session.train()
    qtbot.waitUntil(lambda: any(isinstance(e, RunStarted) for e in events), timeout=8000)
    worker = session._worker
    session.shutdown()
    assert not worker.is_alive()
    assert session.state == "idle"


class _FakePool:
    closed = False

    def close(self) -> None:
        self.closed = True


def test_a_pool_spawned_before_the_window_is_the_sessions_and_closes_with_it(make_session):
    """app.main spawns the spare process before building the window (issue 8: first point
    after the first click); the session takes it over as its warm pool."""
    session = make_session()
    pool = _FakePool()
    session.adopt_pool(pool)
    assert session.warm_pool() is pool and not pool.closed
    session.shutdown()
    assert pool.closed
    late = _FakePool()
    session.adopt_pool(late)  # after shutdown: not kept alive
    assert late.closed
