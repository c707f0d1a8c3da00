"""Smoke test of an INSTALLED Workbench: a wheel in a fresh environment, used from a folder
outside the checkout (.ci/run runs it with that environment's python, from an empty folder).

    python smoke_installed.py            the command line, then the window (in a child process)
    python smoke_installed.py window     only the window

Command line: `workbench --version`, `workbench presets` lists every preset, `workbench train
gauss` and `workbench train iris` (a generated sample and one read from the shipped sample
data) train to a good test accuracy, and `workbench runs` lists both runs.

Window (QT_QPA_PLATFORM=offscreen): the app's own `main()` opens the window with the spiral
preset, the style sheet and the icons (all found inside the installed package); Train starts a
run in a spawned child process, two epochs arrive, Stop ends it, and the window closes. Any
exception, Qt warning or a condition not met within generous time limits fails the check.

Every check waits on a condition, never on a fixed delay, and gives up only after minutes: a
slow machine makes it slower, not red. Nothing outside the temporary folder is written (HOME,
the run store and the settings point into it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]  # only to know which presets the wheel must carry
PRESETS = {p.stem for p in (CHECKOUT / "resources" / "presets").glob("*.json")}
WINDOW_DEADLINE_S = 300  # the app, torch in a background thread, a spawned child, two epochs
QT_NOISE = ("This plugin does not support propagateSizeHints",)  # offscreen platform chatter


def fail(message: str) -> None:
    print(f"SMOKE FAILED: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def installed_workbench() -> Path:
    """The package this python imports; it must be the installed one, not a checkout."""
    import workbench

    location = Path(workbench.__file__).resolve().parent
    if Path(sys.prefix).resolve() not in location.parents:
        fail(f"workbench is imported from {location}, not from the environment at {sys.prefix}")
    return location


def workbench_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("workbench")
    result = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout)
    print(f"$ workbench {' '.join(args)}  -> exit {result.returncode}", flush=True)
    return result


def final_json(result: subprocess.CompletedProcess) -> dict:
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        fail(f"exit {result.returncode}\nstdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}")
    return json.loads(lines[-1])


def check_cli(folder: Path) -> None:
    store = folder / "runs.db"
    version = workbench_cli("--version")
    if version.returncode != 0 or not version.stdout.startswith("workbench "):
        fail(f"`workbench --version` printed {version.stdout!r} {version.stderr!r}")

    listed = {row["name"]: row for row in final_json(workbench_cli("presets", "--json"))["presets"]}
    if set(listed) != PRESETS:
        fail(f"`workbench presets` lists {sorted(listed)}, expected {sorted(PRESETS)}")
    package = installed_workbench()
    outside = [row["path"] for row in listed.values() if package not in Path(row["path"]).resolve().parents]
    if outside:
        fail(f"presets found outside the installed package: {outside}")

    for preset, threshold in (("gauss", 0.9), ("iris", 0.8)):
        final = final_json(workbench_cli("train", preset, "--json", "--quiet", "--device", "cpu", "--store", str(store)))
        accuracy = final.get("metrics", {}).get("test_accuracy")
        if final.get("status") != "finished" or accuracy is None or accuracy < threshold:
            fail(f"`workbench train {preset}` ended with {final}")
        print(f"  {preset}: {final['status']}, {final['epochs']} epochs, test_accuracy {accuracy:.3f}", flush=True)

    listing = workbench_cli("runs", "--json", "--store", str(store))
    recorded = sorted(json.loads(line)["dataset"] for line in listing.stdout.splitlines() if line.startswith("{"))
    if listing.returncode != 0 or recorded != ["sample:gauss", "sample:iris"]:
        fail(f"`workbench runs` lists {recorded} (exit {listing.returncode}): {listing.stderr[-1000:]}")


def check_window_in_child(folder: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, __file__, "window"], cwd=folder, env=env, text=True,
                                capture_output=True, timeout=WINDOW_DEADLINE_S + 60)
    except subprocess.TimeoutExpired as exc:
        fail(f"the window check hung for {exc.timeout:.0f} s\n{(exc.stderr or b'').decode(errors='replace')[-4000:]}")
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        fail(f"the window check exited {result.returncode} after {time.monotonic() - started:.0f} s\n"
             f"{result.stderr[-4000:]}")


# ---- the window, in its own process --------------------------------------------------------


def check_window() -> int:
    """Run the app's main() with a probe that drives it; 0 when every check held."""
    from PySide6.QtCore import QTimer, QtMsgType, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from workbench.core.locations import preset_path
    from workbench.core.spec import load_spec
    from workbench.core.training import EpochEnd, RunStopped
    from workbench.gui import app as workbench_app

    problems: list[str] = []
    package = installed_workbench()

    def on_qt_message(kind, context, message):
        if kind != QtMsgType.QtDebugMsg and kind != QtMsgType.QtInfoMsg and not message.startswith(QT_NOISE):
            problems.append(f"Qt {kind.name}: {message}")

    def on_exception(kind, value, tb):
        import traceback

        problems.append("".join(traceback.format_exception(kind, value, tb)))

    qInstallMessageHandler(on_qt_message)
    sys.excepthook = on_exception
    qapp = workbench_app.create_app()  # main() reuses it; the probe's timer needs it first
    started = time.monotonic()
    events: list = []
    steps: list[tuple[str, object]] = []  # (what we wait for, condition or action)

    def window():
        return next((w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow"), None)

    def shown_with_preset():
        w = window()
        if w is None or not w.isVisible() or w.session.dataset is None:
            return False
        if not qapp.styleSheet().strip():
            problems.append("the style sheet was not found (empty)")
        for action in (w.train_action, w.pause_action, w.stop_action):
            if action.icon().isNull():
                problems.append(f"the {action.text()!r} action has no icon (resources not found)")
        if w.windowIcon().isNull():
            problems.append("the window has no icon")
        preset = load_spec(preset_path("spiral"))
        if package not in preset_path("spiral").resolve().parents:
            problems.append(f"the spiral preset comes from {preset_path('spiral')}, not the installed package")
        if w.session.spec.model.model_dump() != preset.model.model_dump():
            problems.append("the window did not start with the spiral preset's model")
        w.session.run_event.connect(events.append)
        print(f"  window shown after {time.monotonic() - started:.1f} s", flush=True)
        return True

    def trainable():
        return window().session.validity[0] and window().train_button.isEnabled()

    def click_train():
        print(f"  Train enabled after {time.monotonic() - started:.1f} s", flush=True)
        window().train_button.click()

    def two_epochs():
        return sum(isinstance(e, EpochEnd) for e in events) >= 2

    def click_stop():
        w = window()
        if not w.isVisible():
            problems.append("the window went away while training")
        print(f"  two epochs from the child after {time.monotonic() - started:.1f} s", flush=True)
        w.stop_button.click()

    def stopped():
        return window().session.state == "idle" and bool(events) and isinstance(events[-1], RunStopped)

    def recorded_by_a_child():  # the child writes the run's end; the window may be idle before
        from workbench.core.runs import RunStore

        with RunStore(window().session.store_path) as store:
            runs = store.list_runs()
        if len(runs) > 1:
            problems.append(f"the run store holds {len(runs)} runs, expected one")
        if not runs or runs[0].status != "stopped":
            return False
        if runs[0].epochs < 2 or runs[0].pid in (None, os.getpid()):
            problems.append(f"the run has {runs[0].epochs} epochs, recorded by pid {runs[0].pid} "
                            f"(this process: {os.getpid()}); expected 2 or more, by a child process")
        return True

    steps += [("the window with the spiral preset", shown_with_preset), ("Train enabled", trainable),
              ("", click_train), ("two epochs", two_epochs), ("", click_stop),
              ("the run to stop", stopped), ("the stopped run in the run store", recorded_by_a_child),
              ("", lambda: window().close())]

    def probe():
        try:
            while steps and not steps[0][0]:  # actions run at once
                steps.pop(0)[1]()
            if steps and steps[0][1]():
                steps.pop(0)
        except Exception:
            on_exception(*sys.exc_info())
        if problems:
            qapp.exit(1)
        elif steps and time.monotonic() - started > WINDOW_DEADLINE_S:
            problems.append(f"gave up after {WINDOW_DEADLINE_S} s waiting for {steps[0][0]}")
            qapp.exit(1)
        elif steps:
            QTimer.singleShot(100, probe)
        # else: the window is closing; main() returns when it has

    QTimer.singleShot(0, probe)
    rc = workbench_app.main([])
    if steps:
        problems.append(f"the app ended (exit {rc}) while waiting for {steps[0][0] or 'an action'}")
    for problem in problems:
        print(f"SMOKE FAILED: {problem}", file=sys.stderr, flush=True)
    if not problems:
        print(f"  window closed cleanly after {time.monotonic() - started:.1f} s (exit {rc})", flush=True)
    return 1 if problems or rc else 0


def main() -> int:
    if sys.argv[1:] == ["window"]:
        return check_window()
    with tempfile.TemporaryDirectory(prefix="workbench-smoke-") as tmp:
        folder = Path(tmp)
        # everything the app and CLI write goes here: settings, the user data folder, run stores
        (folder / "home").mkdir()
        os.environ.update({"HOME": str(folder / "home"), "XDG_CONFIG_HOME": str(folder / "home" / ".config"),
                           "XDG_DATA_HOME": str(folder / "home" / ".local" / "share"),
                           "WORKBENCH_STORE": str(folder / "gui-runs.db"), "OMP_NUM_THREADS": "1"})
        os.chdir(folder)
        print(f"installed package: {installed_workbench()}", flush=True)
        check_cli(folder)
        check_window_in_child(folder)
    print("smoke test passed", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
