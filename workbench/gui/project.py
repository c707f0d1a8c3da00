"""Project files: New / Open / Save / Save As, recent files, the unsaved-changes prompt and
autosave.

Autosave writes {"project": path or null, "saved_at": time, "spec": {...}} to this window's
own file (gui/autosave.py: one per window, so two windows never overwrite each other) a few
seconds after an unsaved change; a clean save or an explicit "Don't save" removes it. A new
window restores the newest work a crashed or killed window left, when it is newer than the
project it came from (a crash or a kill never loses work); any other left-over work waits for
the next window.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer, Signal, Slot
from PySide6.QtWidgets import QMenu, QWidget

from workbench.core.spec import experiment_name
from workbench.core.spec import SpecError, parse_spec
from workbench.gui import prompts
from workbench.core.locations import user_data_dir
from workbench.gui.autosave import AutosaveFile, adopt_leftovers, leftover_files
from workbench.gui.session import Session
from workbench.gui.wording import spec_error_text

MAX_RECENT = 8
AUTOSAVE_SECONDS = 5


def file_name(name: str) -> str:
    """A name made safe for a file: 'customers.csv · MLP 64-3' -> 'customers.csv - MLP 64-3'."""
    safe = re.sub(r'[\\/:*?"<>|]+', "-", name.replace(" · ", " - ")).strip(" .")
    return safe or "experiment"


def old_autosave_dir() -> Path:
    """Where earlier versions kept autosaves (Qt's app data folder, e.g. ~/.local/share/Workbench/
    workbench): their left-over work is moved into the one data folder (core.locations)."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))


class ProjectController(QObject):
    status = Signal(str)  # a message for the status bar
    title_changed = Signal(str)

    def __init__(self, session: Session, window: QWidget, settings: QSettings):
        super().__init__(window)
        self.session = session
        self.window = window
        self.settings = settings
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        adopt_leftovers(old_autosave_dir(), user_data_dir())
        self._autosave = AutosaveFile(user_data_dir())
        self._autosave_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_SECONDS * 1000)
        self._autosave_timer.timeout.connect(self.autosave)
        session.spec_changed.connect(self._spec_changed)
        session.dirty_changed.connect(lambda _d: self.title_changed.emit(self.title()))
        # the first edit after a save: the spec changes before the session calls itself dirty
        session.dirty_changed.connect(lambda dirty: dirty and self._autosave_timer.start())
        session.project_changed.connect(lambda _p: self.title_changed.emit(self.title()))

    # ---- names --------------------------------------------------------------------------
    def display_name(self) -> str:
        path = self.session.project_path
        return path.name if path is not None else "Untitled"

    def experiment_name(self) -> str:
        """The experiment's name, or the one made of its data and model."""
        return experiment_name(self.session.spec, self.session.meta)

    def title(self) -> str:
        return f"{self.display_name()}{' •' if self.session.is_dirty else ''} — Workbench"

    # ---- actions ------------------------------------------------------------------------
    @Slot()
    def new(self) -> None:
        if not self.maybe_save():
            return
        self.session.new_project()
        self.remove_autosave()
        self.status.emit("New project")

    @Slot()
    def open(self) -> None:
        if not self.maybe_save():
            return
        start = str(self.session.project_path.parent) if self.session.project_path else ""
        path = prompts.ask_open_project(self.window, start)
        if path:
            self.open_path(path, ask=False)

    def open_path(self, path: str | os.PathLike, ask: bool = True) -> bool:
        if ask and not self.maybe_save():
            return False
        error = self.session.open_project(path)
        if error:
            prompts.show_error(self.window, "Cannot open the project", f"{path}:\n{error}")
            self.forget_recent(str(path))
            return False
        self.add_recent(str(Path(path).resolve()))
        self.remove_autosave()
        self.status.emit(f"Opened {path}")
        return True

    @Slot()
    def save(self) -> bool:
        if self.session.project_path is None:
            return self.save_as()
        return self._save_to(self.session.project_path)

    @Slot()
    def save_as(self) -> bool:
        current = self.session.project_path
        suggested = str(current) if current else str(Path.home() / f"{file_name(self.experiment_name())}.json")
        path = prompts.ask_save_project(self.window, suggested)
        return self._save_to(Path(path)) if path else False

    def _save_to(self, path: Path) -> bool:
        error = self.session.save_project(path)
        if error:
            prompts.show_error(self.window, "Cannot save the project", error)
            return False
        self.add_recent(str(Path(path).resolve()))
        self.remove_autosave()
        self.status.emit(f"Saved {path}")
        return True

    def maybe_save(self) -> bool:
        """Before the current project goes away: True to go on, False to cancel."""
        if not self.session.is_dirty:
            return True
        answer = prompts.ask_unsaved(self.window, self.display_name())
        if answer == "save":
            return self.save()
        if answer == "discard":
            self.remove_autosave()
            return True
        return False

    # ---- recent files -------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: str) -> None:
        files = [path] + [f for f in self.recent_files() if f != path]
        self.settings.setValue("recentFiles", files[:MAX_RECENT])

    def forget_recent(self, path: str) -> None:
        self.settings.setValue("recentFiles", [f for f in self.recent_files() if f != path])

    @Slot()
    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for i, path in enumerate(files):
            action = self.recent_menu.addAction(f"&{i + 1}  {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        if not files:
            none = self.recent_menu.addAction("No recent projects")
            none.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", lambda: self.settings.setValue("recentFiles", []))

    # ---- autosave -----------------------------------------------------------------------
    @Slot(object)
    def _spec_changed(self, _spec) -> None:
        if self.session.is_dirty:
            self._autosave_timer.start()

    @property
    def autosave_path(self) -> Path:
        """This window's autosave file."""
        return self._autosave.path

    @Slot()
    def autosave(self) -> None:
        if not self.session.is_dirty:
            return
        project = self.session.project_path
        payload = {"project": str(project) if project else None, "saved_at": time.time(),
                   "spec": self.session.spec_dict()}
        try:
            self._autosave.write(payload)
        except OSError as err:
            self.status.emit(f"Autosave failed: {err.strerror or err}")

    def flush_autosave(self) -> None:
        """The window is closing: write what is pending; the file is left-over work from now on."""
        if self._autosave_timer.isActive():
            self._autosave_timer.stop()
            self.autosave()
        self._autosave.close()

    def remove_autosave(self) -> None:
        self._autosave_timer.stop()
        self._autosave.remove()

    def restore_autosave(self) -> bool:
        """Bring back the newest unsaved work a closed-by-accident window left (one per window:
        the rest waits for the next window), if it is newer than its project."""
        for leftover in leftover_files(user_data_dir()):
            if not self._autosave.take_over(leftover):
                continue  # another window starting at the same moment took it
            if self._restore_own_file():
                return True
        return False

    def _restore_own_file(self) -> bool:
        path = self._autosave.path
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            spec = parse_spec(payload["spec"], source=str(path))
        except FileNotFoundError:
            return False
        except (OSError, ValueError, KeyError, TypeError, SpecError) as err:
            message = spec_error_text(err) if isinstance(err, SpecError) else str(err)
            self.status.emit(f"Could not restore the autosaved project ({path}): {message}")
            try:
                path.replace(path.with_suffix(".unreadable"))  # kept for a person to look at, not retried
            except OSError:
                pass
            return False
        project = payload.get("project")
        saved_at = float(payload.get("saved_at", 0))
        if project:
            project_path = Path(project)
            if project_path.exists() and project_path.stat().st_mtime >= saved_at:
                self.remove_autosave()  # the project was saved after the autosave
                return False
            if project_path.exists() and self.session.open_project(project_path) is None:
                self.add_recent(str(project_path))
        self.session.set_spec(spec, text="Restore unsaved changes")
        when = time.strftime("%H:%M", time.localtime(saved_at)) if saved_at else "the last session"
        waiting = len(leftover_files(user_data_dir()))
        more = (f"; {waiting} more unsaved experiment{'s' if waiting != 1 else ''} of other windows "
                f"{'wait' if waiting != 1 else 'waits'} for the next window you open") if waiting else ""
        self.status.emit(f"Restored unsaved changes from {when}{more}")
        return True
