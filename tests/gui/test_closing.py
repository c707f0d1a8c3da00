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
    monkeypatch.setattr("workbench.gui.prompts.ask_stop_run", lambda parent: True)
    monkeypatch.setattr(window.project, "maybe_save", lambda: True)

    window.close()  # before the fix: waited 5 s for the run, then killed it from here

    assert not window.isVisible()
    assert not run.ended and run.killed_on is None  # nothing waited for the run, nothing killed it
    qtbot.waitUntil(run.stop_asked.is_set)  # the run's own thread sends the stop
    release.set()
    assert session.wait_runs_ended(30)
    assert run.ended and run.killed_on is None  # it stopped tidily, as with the Stop button
