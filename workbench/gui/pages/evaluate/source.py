"""What the Evaluate page shows: a run (recorded, or the live one) and what is loaded of it.

Loading reads files only (predictions.npz, preprocessing.json) and runs on a background thread;
rebuilding the model (for the playground and other boundary planes) is separate and lazy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EvalSource", "Loaded", "load_source", "recent_sources", "load_source_model"]


@dataclass(frozen=True)
class EvalSource:
    """A run to evaluate: recorded (run_id) or live (its folder; the id is the child's to know)."""

    label: str
    folder: str  # "" when the run has no folder (sweep trials)
    spec_json: str
    run_id: int | None = None
    live: bool = False


@dataclass
class Loaded:
    source: EvalSource
    predictions: Any = None  # RunPredictions | None
    prep: Any = None  # Preprocessing | None
    notes: list[str] = field(default_factory=list)
    problem: str = ""  # why there is nothing to show (in words)


def _files(source: EvalSource, store_path: str | None):
    from workbench.core.evaluation import folder_files, run_files
    from workbench.core.runs import RunStore

    if source.run_id is not None and store_path:
        with RunStore(store_path) as store:
            return run_files(store, source.run_id)
    return folder_files(source.folder or None)


def load_source(source: EvalSource, store_path: str | None) -> Loaded:
    """Read a run's stored predictions and preprocessing (call off the GUI thread)."""
    from workbench.core.evaluation import EvaluationError, Preprocessing, load_predictions

    loaded = Loaded(source)
    try:
        files = _files(source, store_path)
    except EvaluationError as exc:
        loaded.problem = str(exc)
        return loaded
    if files.preprocessing is not None:
        try:
            loaded.prep = Preprocessing.load(files.preprocessing)
        except ValueError as exc:
            loaded.notes.append(str(exc))
    if files.predictions is not None:
        try:
            loaded.predictions = load_predictions(files.predictions)
        except ValueError as exc:
            loaded.problem = str(exc)
    elif not loaded.problem:
        loaded.problem = (
            "Nothing to show yet: predictions appear after the first epoch." if source.live else
            "This run stored no predictions (a sweep trial, a run recorded by an older Workbench, or its files were "
            "deleted). From the command line, `workbench evaluate` recomputes them from its weights when it kept any.")
    return loaded


def load_source_model(source: EvalSource, store_path: str | None, prep: Any):
    """The run's model (live runs: the latest weights, last.pt) and its notes (off the GUI thread)."""
    from workbench.core.evaluation import load_model
    from workbench.core.spec import parse_spec

    files = _files(source, store_path)
    prefer = ("last", "final", "best") if source.live else ("final", "best", "last")
    spec_json = source.spec_json
    if source.run_id is not None and store_path:
        from workbench.core.runs import RunStore

        with RunStore(store_path) as store:
            spec_json = store.get_run(source.run_id).spec_json
    return load_model(files, parse_spec(spec_json), prep, prefer=prefer)


def recent_sources(store_path: str | None, limit: int = 200) -> list[EvalSource]:
    """Recorded runs, newest first, as sources (call off the GUI thread)."""
    from workbench.core.runs import RunStore

    if not store_path or not Path(store_path).exists():
        return []
    with RunStore(store_path) as store:
        records = store.list_runs(limit=limit)
    out = []
    for r in records:
        data = r.dataset.removeprefix("sample:") if r.dataset.startswith("sample:") else Path(r.dataset).name
        out.append(EvalSource(f"#{r.id} {r.name} · {data} · {r.status}", r.run_dir, r.spec_json, r.id))
    return out
