"""The wheel carries what an installed Workbench needs (presets, icons, style sheet, sample data),
and a package unpacked from it finds them from any folder, without the checkout.

The wheel is built with hatchling's own builder (the project's build backend, in the test extra),
in-process and offline. .ci/run goes further: it pip-installs the wheel into a fresh environment
and runs the CLI and the window from there (.ci/smoke_installed.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hatchling.builders.wheel import WheelBuilder

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("resources", "sample_data")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    (path,) = WheelBuilder(str(ROOT)).build(directory=str(out), versions=["standard"])
    return Path(path)


def shipped_files() -> set[str]:
    """Every file of resources/ and sample_data/ in the checkout, as the wheel names it."""
    found = set()
    for folder in SHIPPED:
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                found.add(f"workbench/{path.relative_to(ROOT).as_posix()}")
    return found


def test_the_wheel_carries_the_shipped_files_inside_the_package(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = shipped_files() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    for needed in ("workbench/resources/style.qss", "workbench/resources/icons/train.svg",
                   "workbench/resources/presets/spiral.json", "workbench/sample_data/iris.csv",
                   "workbench/sample_data/digits.csv"):
        assert needed in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "resources/", "sample_data/"))]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "workbench = workbench.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


PROBE = """
import json, workbench
from workbench.core import locations
from workbench.core.data import load_dataset
from workbench.core.spec import DataSpec, load_spec
shapes = load_dataset(DataSpec(source="sample:shapes"))
iris = load_dataset(DataSpec(source="sample:iris"))
print(json.dumps({
    "package": workbench.__file__,
    "resources": str(locations.resources_dir()),
    "sample_data": str(locations.sample_data_dir()),
    "presets": locations.preset_names(),
    "spiral": load_spec(locations.preset_path("spiral")).data.source,
    "icons": sorted(p.name for p in (locations.resources_dir() / "icons").glob("*.svg")),
    "style": (locations.resources_dir() / "style.qss").is_file(),
    "loaded": [shapes.meta.n_samples, iris.meta.n_samples],
}))
"""


def test_an_unpacked_wheel_finds_its_files_from_any_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_SAMPLE_DATA",)}
    env["PYTHONPATH"] = str(site)  # ahead of the checkout an editable install points to
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=elsewhere, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    package = site / "workbench"
    assert Path(found["package"]).parent == package
    assert Path(found["resources"]) == package / "resources"
    assert Path(found["sample_data"]) == package / "sample_data"
    assert found["presets"] == sorted(p.stem for p in (ROOT / "resources" / "presets").glob("*.json"))
    assert found["spiral"] == "sample:spiral" and found["style"]
    assert found["icons"] == sorted(p.name for p in (ROOT / "resources" / "icons").glob("*.svg"))
    assert found["loaded"][0] > 0 and found["loaded"][1] == 150
