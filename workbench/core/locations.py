"""Where Workbench keeps and finds things: the user's data folder (run store, sweeps, autosave)
and the files that ship with it (resources: presets, icons, style; sample_data).

The repository keeps `resources/` and `sample_data/` at its top level; the wheel carries them
inside the package (`workbench/resources`, `workbench/sample_data`, see pyproject.toml), so an
installed app finds them with importlib.resources from any folder, and a checkout (an editable
install) finds them beside the package.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

__all__ = ["user_data_dir", "shipped_dir", "resources_dir", "sample_data_dir", "presets_dir", "preset_path",
           "preset_names", "STORE_ENV", "DATA_DIR_ENV", "SAMPLE_DATA_ENV"]

STORE_ENV = "WORKBENCH_STORE"
DATA_DIR_ENV = "WORKBENCH_DATA_DIR"
SAMPLE_DATA_ENV = "WORKBENCH_SAMPLE_DATA"
APP_NAME = "workbench"


def user_data_dir() -> Path:
    """The one folder for the run store, sweeps, the data cache and the app's autosaves:
    $WORKBENCH_DATA_DIR when set, else the folder of $WORKBENCH_STORE when that is set, else the
    platform's user data folder (~/.local/share/workbench on Linux)."""
    folder = os.environ.get(DATA_DIR_ENV)
    if folder:
        return Path(folder).expanduser()
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser().resolve().parent
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def shipped_dir(name: str) -> Path:
    """A folder that ships with Workbench (`resources` or `sample_data`): inside the installed
    package, else at the top of the checkout this package runs from."""
    packaged = resources.files("workbench").joinpath(name)
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / name


def resources_dir() -> Path:
    """Icons, the style sheet, presets and the desktop file."""
    return shipped_dir("resources")


def sample_data_dir() -> Path:
    """The sample data files (iris, digits, shapes): $WORKBENCH_SAMPLE_DATA, else the shipped folder."""
    env = os.environ.get(SAMPLE_DATA_ENV)
    if env:
        return Path(env).expanduser()
    return shipped_dir("sample_data")


def presets_dir() -> Path:
    return resources_dir() / "presets"


def preset_names() -> list[str]:
    """The built-in presets by name (spiral, digits, ...), sorted."""
    return sorted(p.stem for p in presets_dir().glob("*.json"))


def preset_path(name: str) -> Path | None:
    """The preset file called `name` (with or without .json), or None."""
    path = presets_dir() / (name if name.endswith(".json") else f"{name}.json")
    return path if path.is_file() else None
