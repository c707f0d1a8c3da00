"""Shared helpers for the evaluation tests: train a tiny run in-process with the recorders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from workbench.core.data import load_dataset, prepare
from workbench.core.evaluation import EvaluationRecorder
from workbench.core.execution import recorded_run
from workbench.core.runs import RunStore
from workbench.core.spec import parse_spec
from workbench.core.training import RunRecorded


def make_spec(source: str, layers=None, *, epochs: int = 4, loss: str | None = None, **data) -> object:
    layers = layers or [{"type": "Linear", "out_features": 16}, {"type": "ReLU"},
                        {"type": "Linear", "out_features": "auto"}]
    raw = {"name": "eval-test", "data": {"source": source, **data}, "model": {"layers": layers},
           "optimizer": {"type": "Adam", "lr": 0.02},
           "train": {"epochs": epochs, "batch_size": 32, "device": "cpu", "seed": 0}}
    if loss:
        raw["loss"] = {"type": loss}
    return parse_spec(raw)


def train_recorded(tmp_path: Path, spec, *, store: RunStore | None = None, recorder: EvaluationRecorder | None = None,
                   base_dir=None):
    """Train `spec` recorded in a run store, as every run is (recorded_run: the run recorder and an
    EvaluationRecorder, or `recorder`); (run_id, events, run_dir, store)."""
    store = store or RunStore(tmp_path / "runs.db")
    data = prepare(load_dataset(spec.data, base_dir), spec.data)
    events = list(recorded_run(spec, store=store, data=data, callbacks=[recorder] if recorder else []))
    recorded = events[0]
    assert isinstance(recorded, RunRecorded), recorded
    return recorded.run_id, events[1:], Path(recorded.run_dir), store


def write_table(path: Path, n: int = 120, seed: int = 0) -> Path:
    """A CSV with two numbers, a category and a 3-class text target that depends on all three."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n) * 3 + 10
    b = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], n)
    score = (a - 10) / 3 + b + np.where(color == "red", 1.5, 0.0)
    label = np.where(score > 0.8, "high", np.where(score < -0.8, "low", "mid"))
    lines = ["a,b,color,label"] + [f"{a[i]:.4f},{b[i]:.4f},{color[i]},{label[i]}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_images(root: Path, per_class: int = 8, size: tuple[int, int] = (12, 12)) -> Path:
    """An image folder: 'bright' and 'dark' squares, with a little noise."""
    rng = np.random.default_rng(0)
    for name, level in (("bright", 200), ("dark", 50)):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            arr = np.clip(level + rng.normal(0, 20, size[::-1]), 0, 255).astype(np.uint8)
            Image.fromarray(arr, mode="L").save(folder / f"{i:03d}.png")
    return root
