"""Helpers for the export tests: train a spec into a temporary run store (in-process CLI), then
bring the run back as `runs.restore_run` does for `workbench export`."""

from __future__ import annotations

import importlib.util
import json
import sys
from argparse import Namespace
from pathlib import Path

from workbench.cli import main
from workbench.core.locations import preset_path
from workbench.core.runs import RunStore, restore_run

PRESET_NAMES = ("circle", "xor", "gauss", "spiral", "moons", "sine", "linear", "iris", "digits", "shapes", "digits-cnn")


def train_run(tmp_path: Path, spec: str | dict, *extra: str, epochs: int = 2) -> tuple[Path, int]:
    """Train `spec` (a preset name or a spec dict) for `epochs`; (store path, run id)."""
    db = tmp_path / "runs.db"
    if isinstance(spec, dict):
        path = tmp_path / f"{spec.get('name', 'spec')}.json"
        path.write_text(json.dumps(spec), encoding="utf-8")
        spec = str(path)
    else:
        spec = str(preset_path(spec))
    argv = ["train", spec, "--store", str(db), "--epochs", str(epochs), "-q", "--device", "cpu", *extra]
    assert main(argv) == 0
    with RunStore(db) as store:
        run_id = max(r.id for r in store.list_runs())
    return db, run_id


def restored(db: Path, run_id: int):
    with RunStore(db) as store:
        return restore_run(store, run_id)


def load_script(path: Path):
    """A generated script as a module (its `train` can then run in this process)."""
    spec = importlib.util.spec_from_file_location(f"script_{path.stem.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_script(module, epochs: int | None = None) -> tuple[list[dict], dict]:
    """Run a generated script's training in this process: (per-epoch logs, final metrics)."""
    logs: list[dict] = []
    module.report = lambda args, entry: logs.append(dict(entry))
    final = module.train(Namespace(data=module.DATA, epochs=epochs or module.EPOCHS, save=None, json=True))
    return logs, final
