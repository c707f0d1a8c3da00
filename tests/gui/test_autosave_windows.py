"""Two windows keep their unsaved work apart: one autosave file each, written through temporary
files of their own; work left by closed or crashed windows comes back one per new window, and
nothing is lost (issue 8, item 15)."""

from __future__ import annotations

import json
import os
import time

from workbench.gui.autosave import leftover_files
from workbench.core.locations import user_data_dir


def _edit_and_autosave(window, epochs):
    window.session.edit({"train.epochs": epochs})
    window.project.autosave()
    return json.loads(window.project.autosave_path.read_text())


def test_two_windows_never_overwrite_each_others_autosave(qtbot, make_window):
    first, second = make_window(), make_window()
    assert first.project.autosave_path != second.project.autosave_path
    for _ in range(3):  # interleaved saves, as two windows edited at once
        assert _edit_and_autosave(first, 11)["spec"]["train"]["epochs"] == 11
        assert _edit_and_autosave(second, 22)["spec"]["train"]["epochs"] == 22
    assert json.loads(first.project.autosave_path.read_text())["spec"]["train"]["epochs"] == 11
    folder = first.project.autosave_path.parent
    assert not list(folder.glob("*.tmp"))  # no temporary file left behind
    # an open window's work is its own: a third window does not take it
    third = make_window(spec=None)
    assert not third.project.restore_autosave()
    assert first.project.autosave_path.exists() and second.project.autosave_path.exists()


def test_work_of_closed_windows_comes_back_one_per_new_window(qtbot, make_window):
    first, second = make_window(), make_window()
    _edit_and_autosave(first, 11)
    time.sleep(0.01)  # the second window's work is the newer
    _edit_and_autosave(second, 22)
    first.shutdown()  # both go without saving (a crash, a kill)
    second.shutdown()
    assert len(leftover_files(user_data_dir())) == 2
    a = make_window(spec=None)
    assert a.project.restore_autosave() and a.session.spec.train.epochs == 22
    assert "1 more unsaved experiment" in a.statusBar().currentMessage()
    b = make_window(spec=None)
    assert b.project.restore_autosave() and b.session.spec.train.epochs == 11
    c = make_window(spec=None)
    assert not c.project.restore_autosave()  # nothing left: none was lost, none restored twice
    assert c.session.spec.train.epochs not in (11, 22)


def test_a_dead_processes_file_and_the_old_single_file_are_restored(qtbot, make_window, tiny_spec):
    data = user_data_dir()
    (data / "autosave").mkdir(parents=True, exist_ok=True)
    payload = {"project": None, "saved_at": time.time() - 60,
               "spec": tiny_spec.with_values({"train.epochs": 33}).to_dict()}
    dead = data / "autosave" / "999999-1-1.json"  # a process that no longer runs
    dead.write_text(json.dumps(payload))
    (data / "autosave.json").write_text(json.dumps({**payload, "saved_at": time.time() - 120,
                                                    "spec": tiny_spec.with_values({"train.epochs": 44}).to_dict()}))
    a, b = make_window(spec=None), make_window(spec=None)
    assert a.project.restore_autosave() and a.session.spec.train.epochs == 33
    assert b.project.restore_autosave() and b.session.spec.train.epochs == 44
    assert not dead.exists() and not (data / "autosave.json").exists()  # taken over by the new windows
    assert a.project.autosave_path.exists() and os.path.dirname(a.project.autosave_path) == str(data / "autosave")


def test_the_first_edit_after_opening_is_autosaved(qtbot, make_window, monkeypatch):
    from workbench.gui import project

    monkeypatch.setattr(project, "AUTOSAVE_SECONDS", 0.05)
    window = make_window()
    window.project._autosave_timer.setInterval(50)
    window.session.edit({"train.epochs": 9})  # one edit, nothing else
    qtbot.waitUntil(lambda: window.project.autosave_path.exists(), timeout=5000)
    assert json.loads(window.project.autosave_path.read_text())["spec"]["train"]["epochs"] == 9


def test_work_left_in_the_old_autosave_folder_comes_back(qtbot, make_window, tiny_spec, tmp_path, monkeypatch):
    """Earlier versions autosaved into Qt's app data folder (~/.local/share/Workbench/workbench),
    apart from the run store's folder: a new window finds that work too, and moves it into the one
    data folder."""
    from workbench.gui import project

    old = tmp_path / "old-qt-location"
    (old / "autosave").mkdir(parents=True)
    payload = {"project": None, "saved_at": time.time() - 60,
               "spec": tiny_spec.with_values({"train.epochs": 55}).to_dict()}
    (old / "autosave" / "999999-1-1.json").write_text(json.dumps(payload))  # a window long gone
    (old / "autosave.json").write_text(json.dumps({**payload, "saved_at": time.time() - 120,
                                                   "spec": tiny_spec.with_values({"train.epochs": 66}).to_dict()}))
    monkeypatch.setattr(project, "old_autosave_dir", lambda: old)
    a = make_window(spec=None)
    assert a.project.restore_autosave() and a.session.spec.train.epochs == 55
    b = make_window(spec=None)
    assert b.project.restore_autosave() and b.session.spec.train.epochs == 66
    assert not old.exists()  # emptied, so one data folder is left
    assert a.project.autosave_path.parent == user_data_dir() / "autosave"


def test_one_data_folder_for_the_store_sweeps_cache_and_autosaves(monkeypatch, tmp_path):
    from workbench.core.runs import default_store_path

    monkeypatch.delenv("WORKBENCH_STORE")
    monkeypatch.delenv("WORKBENCH_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert user_data_dir() == tmp_path / "share" / "workbench"
    assert default_store_path() == user_data_dir() / "runs.db"
