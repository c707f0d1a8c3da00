"""One autosave file per window, so two windows never overwrite each other's unsaved work.

Each window writes <app data>/autosave/<pid>-<start>-<n>.json (its process id, that process's
start time, and a number per window), through a temporary file of its own. A file belongs to a
window that is still open when its process is alive (and, in this process, when the window is
still registered); any other file is unsaved work left by a window that crashed or was killed.
A new window restores the newest such file and takes it over (an atomic rename, so two windows
starting together never take the same one); the others stay for the next windows. The single
autosave.json of earlier versions counts as left-over work too.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from pathlib import Path

from workbench.core.processes import proc_start_token, process_alive

__all__ = ["AutosaveFile", "leftover_files", "adopt_leftovers"]

FOLDER = "autosave"
LEGACY = "autosave.json"
_numbers = itertools.count(1)
_open_here: set[Path] = set()  # files of windows open in this process


def _owner(path: Path) -> tuple[int, str] | None:
    parts = path.stem.split("-")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    return int(parts[0]), parts[1]


def _is_left_over(path: Path) -> bool:
    owner = _owner(path)
    if owner is None:
        return True  # the old single autosave.json, or a name we did not write
    pid, token = owner
    if pid == os.getpid():
        return path not in _open_here
    return not process_alive(pid, token or None)


def _saved_at(path: Path) -> float:
    try:
        return float(json.loads(path.read_text(encoding="utf-8")).get("saved_at", 0))
    except (OSError, ValueError, AttributeError):
        return path.stat().st_mtime if path.exists() else 0.0


def leftover_files(data_dir: Path) -> list[Path]:
    """Unsaved work of windows that are gone, newest first."""
    folder = data_dir / FOLDER
    found = [p for p in folder.glob("*.json")] if folder.is_dir() else []
    legacy = data_dir / LEGACY
    if legacy.is_file():
        found.append(legacy)
    return sorted((p for p in found if _is_left_over(p)), key=_saved_at, reverse=True)


def adopt_leftovers(old_dir: Path, data_dir: Path) -> list[Path]:
    """Move the left-over work in `old_dir` (where earlier versions kept autosaves: Qt's app data
    folder) into `data_dir`'s autosave folder, so it is restored like any other; files of windows
    still open there are left alone. Returns the new paths."""
    if old_dir.resolve() == data_dir.resolve():
        return []
    moved = []
    for path in leftover_files(old_dir):
        target = data_dir / FOLDER / (path.name if path.name != LEGACY else f"old-autosave-{int(_saved_at(path))}.json")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.move(str(path), str(target))
        except OSError:
            continue  # unreadable or taken: it stays where it was
        moved.append(target)
    for folder in (old_dir / FOLDER, old_dir):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass
    return moved


class AutosaveFile:
    """This window's autosave file (created on the first write)."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        token = proc_start_token(os.getpid()) or "0"
        self.path = data_dir / FOLDER / f"{os.getpid()}-{token}-{next(_numbers)}.json"
        _open_here.add(self.path)

    def write(self, payload: dict) -> None:
        """Atomically: a temporary file of this window's, then a rename."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def remove(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass

    def take_over(self, leftover: Path) -> bool:
        """Make a left-over file this window's (False when another window took it first)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(leftover, self.path)
        except FileNotFoundError:
            return False
        return True

    def close(self) -> None:
        """The window is closing: what is left in its file is left-over work from now on."""
        _open_here.discard(self.path)
