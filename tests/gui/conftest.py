"""GUI test fixtures: offscreen Qt, isolated settings, run store and app data per test.

QT_QPA_PLATFORM must be set before anything imports Qt, so it is set at the top of this file.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import functools  # noqa: E402
import itertools  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QCoreApplication, QSettings  # noqa: E402

_counter = itertools.count()

TINY_SPEC = {
    "name": "tiny",
    "data": {"source": "sample:spiral", "n_samples": 200},
    "model": {"layers": [{"type": "Linear", "out_features": 16}, {"type": "Tanh"},
                         {"type": "Linear", "out_features": "auto"}]},
    "loss": {"type": "CrossEntropyLoss"},
    "optimizer": {"type": "Adam", "lr": 0.01},
    "train": {"epochs": 3, "batch_size": 32, "device": "cpu", "checkpoint": False},
}


# No test's outcome may depend on how fast the machine is: every wait for a condition, a signal or
# a window that fails the test when it runs out gets at least this long. A condition that holds
# returns at once, so a fast machine never waits this long; a slow or busy one is given the time.
# Waits that do not fail (raising=False, as in assertNotEmitted) keep their own length.
CONDITION_TIMEOUT_MS = 30_000
_WAITS = ("waitUntil", "waitSignal", "waitSignals", "waitExposed", "waitActive", "waitCallback",
          "wait_until", "wait_signal", "wait_signals", "wait_exposed", "wait_active", "wait_callback")


def _at_least(wait):
    @functools.wraps(wait)
    def generous(*args, **kwargs):
        if kwargs.get("raising", True) is not False:
            kwargs["timeout"] = max(kwargs.get("timeout", 0), CONDITION_TIMEOUT_MS)
        return wait(*args, **kwargs)

    return generous


@pytest.fixture
def qtbot(qtbot):
    """pytest-qt's qtbot, its failing waits given at least CONDITION_TIMEOUT_MS."""
    for name in _WAITS:
        setattr(qtbot, name, _at_least(getattr(qtbot, name)))
    return qtbot


@pytest.fixture(scope="session", autouse=True)
def _torch_warm():
    """Import torch and torch._dynamo (the first optimizer imports it) once, up front."""
    import torch

    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


@pytest.fixture(scope="session", autouse=True)
def _themed_app(qapp):
    """The application looks as it does for a person: Fusion, our palette and style sheet."""
    from workbench.gui.theme import apply_theme

    apply_theme(qapp, dark=False)
    yield qapp


@pytest.fixture(scope="session", autouse=True)
def _garbage_collected_between_tests(qapp, _torch_warm):
    """Cyclic garbage is collected only between tests, on the GUI thread, once the test's widgets
    are closed and their deferred deletes have run. Never mid-test: a collection set off by a
    background thread destroyed Qt objects there ("Timers cannot be started from another
    thread"), and one on a timer (as the app does) freed wrappers of widgets a test had just let
    go of while the event loop still used them (a segfault in CI, at a different test each run).
    What the imports left, and what outlives each test, is frozen: each collection scans only
    what the last test made."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()


@pytest.fixture(autouse=True)
def _collect_garbage_after_the_test(qapp, _garbage_collected_between_tests):
    """See _garbage_collected_between_tests."""
    import gc

    from PySide6.QtCore import QEvent

    yield
    qapp.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    gc.freeze()  # what outlived the test is not garbage now; later collections skip it


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own QSettings file, run store and app data folder."""
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings_dir))
    QCoreApplication.setOrganizationName(f"WorkbenchTest{next(_counter)}")
    QCoreApplication.setApplicationName("workbench")
    monkeypatch.setenv("WORKBENCH_STORE", str(tmp_path / "runs.db"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "appdata"))
    yield tmp_path


@pytest.fixture
def tiny_spec():
    from workbench.core.spec import parse_spec

    return parse_spec(TINY_SPEC)


@pytest.fixture
def in_process_runs():
    """A run factory that trains in a thread of the test process (fast to start, easy to break)."""
    from workbench.gui.worker import InProcessRun

    def factory(spec, base_dir, store_path, train_fn=None, **options):  # options: run_dir, resume_from, parent_id...
        run = InProcessRun(spec, base_dir=base_dir, store_path=store_path, train_fn=train_fn, **options)
        run.start()
        return run

    return factory


@pytest.fixture
def make_curves(qtbot):
    """make(width, height): a shown LiveCurves of that size (the Train page's curves alone)."""
    from workbench.gui.plots.live_curves import LiveCurves

    def make(width: int = 900, height: int = 640):
        curves = LiveCurves()
        qtbot.addWidget(curves)
        curves.resize(width, height)
        curves.show()
        qtbot.waitExposed(curves)
        return curves

    return make


@pytest.fixture
def make_session(qtbot, tiny_spec, in_process_runs):
    """Session(spec, run_factory) that is shut down (threads joined) after the test."""
    from workbench.gui.session import Session

    made = []

    def make(spec=None, run_factory=in_process_runs, **kwargs):
        session = Session(spec if spec is not None else tiny_spec, run_factory=run_factory, **kwargs)
        made.append(session)
        return session

    yield make
    for session in made:
        session.shutdown()


@pytest.fixture
def make_window(qtbot, make_session):
    """A shown MainWindow around a Session; closed without prompts after the test."""
    from workbench.gui.main_window import MainWindow

    made = []

    def make(session=None, show=True, **session_kwargs):
        session = session or make_session(**session_kwargs)
        window = MainWindow(session)
        made.append(window)  # closed below, not by qtbot: closing may ask questions
        if show:
            window.resize(1366, 768)  # the smallest screen we promise to fit
            window.show()
            qtbot.waitExposed(window)
            window.windowHandle().requestActivate()  # as a person's window is: its shortcuts work
            qtbot.waitUntil(window.isActiveWindow)
        return window

    yield make
    for window in made:
        window.shutdown()
        window.close()
        window.deleteLater()


@pytest.fixture
def default_session(qtbot, tmp_path):
    """A Session on the app's default experiment and a temporary run store, its data loaded; shut
    down after the test."""
    from panel_support import make_session

    session = make_session(qtbot, tmp_path)
    yield session
    session.shutdown()
