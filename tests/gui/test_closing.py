"""Closing the window during a run: the window goes at once (nothing on the GUI thread waits
for the run), and the run still stops tidily on its own thread."""

from __future__ import annotations

import threading

from helpers import wait_ready

from workbench.core.training import RunStopped


class _HeldRun:
    """A run that stops only once the test lets it (release), and notes who killed it."""

    def __init__(self, release: threading.Event):
        self.release = release
        self.stop_asked = threading.Event()
        self.ended = False
        self.killed_on: str | None = None
        self.exitcode = None

    def events(self, timeout=0.0):
        if self.stop_asked.is_set() and self.release.wait(timeout or 0):
            self.ended = True
            return [RunStopped(epochs=0, metrics={}, duration=0.0)]
        self.release.wait(timeout or 0)
        return []

    def pause(self): ...
    def resume(self): ...
    def set_lr(self, lr): ...

    def stop(self):
        self.stop_asked.set()

    def kill(self):
        self.killed_on = threading.current_thread().name

    @property
    def finished(self):
        return self.ended


def test_closing_the_window_during_a_run_leaves_the_stop_to_the_run_thread(qtbot, make_window, monkeypatch):
    release = threading.Event()
    run = _HeldRun(release)
    window = make_window(run_factory=lambda spec, base_dir, store_path: run)
    session = window.session
    wait_ready(qtbot, session)
    assert session.train()
    qtbot.waitUntil(lambda: session.is_running)
    monkeypatch.setattr("workbench.gui.prompts.ask_stop_run", lambda parent, unsaved=None: "stop")
    monkeypatch.setattr(window.project, "maybe_save", lambda: True)

    window.close()  # before the fix: waited 5 s for the run, then killed it from here

    assert not window.isVisible()
    assert not run.ended and run.killed_on is None  # nothing waited for the run, nothing killed it
    qtbot.waitUntil(run.stop_asked.is_set)  # the run's own thread sends the stop
    release.set()
    assert session.wait_runs_ended(30)
    assert run.ended and run.killed_on is None  # it stopped tidily, as with the Stop button


def test_closing_during_a_run_asks_once_and_pauses_the_run_meanwhile(qtbot, make_window, tiny_spec):
    """With unsaved changes and a run going, closing asks one question, not two; the run is paused
    while it is asked; Keep training resumes it, Stop without saving closes."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QAbstractButton, QApplication

    window = make_window(spec=tiny_spec.with_values({"train.epochs": 100_000}))
    session = window.session
    wait_ready(qtbot, session)
    assert window.train_action.isEnabled()
    window.train_action.trigger()
    qtbot.waitUntil(lambda: session.state == "running")
    assert session.edit({"train.batch_size": 16}) is None and session.is_dirty  # an unsaved change

    asked, states, answers = [], [], []

    def answer():
        box = QApplication.activeModalWidget()
        if box is not None and answers:
            asked.append(box.text())
            qtbot.waitUntil(lambda: session.state == "paused")  # the run waits for the answer
            states.append(session.state)
            qtbot.mouseClick(box.findChild(QAbstractButton, answers.pop(0)), Qt.MouseButton.LeftButton)
        elif box is not None:
            asked.append(box.text())  # a question nobody expected: cancel it, the test then fails
            box.reject()

    timer = QTimer(interval=20, timeout=answer)
    timer.start()
    answers.append("keepButton")
    assert not window.close()
    assert len(asked) == 1 and "unsaved changes" in asked[0] and states == ["paused"]
    qtbot.waitUntil(lambda: session.state == "running")  # Keep training: it trains on

    answers.append("discardButton")
    assert window.close()
    timer.stop()
    assert len(asked) == 2, asked  # one question per close
    assert session.wait_runs_ended(30)


def test_closing_never_waits_for_a_diagnostic_in_progress(qtbot, make_window):
    """A diagnostic computing (a loss surface, the health of a long run) when the window closes:
    the window goes at once; the computation's result is dropped."""
    window = make_window()
    wait_ready(qtbot, window.session)
    started, release = threading.Event(), threading.Event()
    later = threading.Timer(60, release.set)  # bounds the test if closing waits after all
    later.start()
    outcome = []

    def computing():
        started.set()
        release.wait()
        return "result"

    window.diagnostics.background.submit(computing, on_done=outcome.append)
    assert started.wait(30)
    try:
        assert window.close()
        assert not release.is_set(), "closing waited for the computation"
    finally:
        release.set()
        later.cancel()
    assert not window.isVisible() and outcome == []
