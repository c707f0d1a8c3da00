"""Evaluating and using a recorded run: its files, its stored predictions, its model rebuilt from
the spec + final (or best/last) weights + preprocessing, and predictions on new data.

    result = evaluate_run(store, 12, split="test")             # stored predictions, nothing retrained
    result = evaluate_run(store, 12, data="new_labelled.csv")  # the run's model on a new file
    table = predict_file(store, 12, "new_rows.csv")            # one row per input row

A run recorded before predictions were stored (or whose files were moved) is evaluated from its
weights on its own data, reloaded through its spec. Problems are EvaluationErrors whose message
names the run, the file and what to do.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.data import DataError
from workbench.core.evaluation.predictions import (
    PREDICTIONS_FILE,
    SPLITS,
    RunPredictions,
    SplitPredictions,
    load_predictions,
)
from workbench.core.evaluation.preprocessing import PREPROCESSING_FILE, Preprocessing
from workbench.core.evaluation.report import split_report

__all__ = [
    "WEIGHT_PREFERENCE",
    "EvaluationError",
    "EvaluationResult",
    "PredictionTable",
    "RunFiles",
    "RunModel",
    "evaluate_run",
    "load_run_model",
    "load_run_predictions",
    "load_run_preprocessing",
    "predict_file",
    "run_files",
    "write_csv",
]

WEIGHT_PREFERENCE = ("final", "best", "last")  # final: the weights the run's metrics came from


class EvaluationError(ValueError):
    """A run or file that cannot be evaluated; the message says why and what to do."""


@dataclass
class RunFiles:
    run_id: int
    folder: Path | None
    predictions: Path | None
    preprocessing: Path | None
    weights: dict[str, Path]  # "final" | "best" | "last" -> file


FOLDER_FILES = (("predictions", PREDICTIONS_FILE), ("preprocessing", PREPROCESSING_FILE),
                ("checkpoint_final", "final.pt"), ("checkpoint_best", "best.pt"), ("checkpoint_last", "last.pt"))


def folder_files(folder: str | Path | None, run_id: int = 0, found: dict[str, Path] | None = None) -> RunFiles:
    """The evaluation files in a run folder (a live run's, whose id the app may not know yet);
    `found` (artifact kind -> file) takes precedence."""
    found = dict(found or {})
    folder = Path(folder) if folder else None
    if folder is not None:
        for kind, name in FOLDER_FILES:
            if kind not in found and (folder / name).is_file():
                found[kind] = folder / name
    weights = {k.removeprefix("checkpoint_"): v for k, v in found.items() if k.startswith("checkpoint_")}
    return RunFiles(run_id, folder, found.get("predictions"), found.get("preprocessing"), weights)


def run_files(store: Any, run_id: int) -> RunFiles:
    """The files a run keeps (from its artifact records, else its folder); missing ones None."""
    try:
        rec = store.get_run(run_id)
    except KeyError:
        raise EvaluationError(f"there is no run #{run_id} in {store.path} (see `workbench runs`)") from None
    found = {art["kind"]: Path(art["path"]) for art in store.artifacts(run_id) if Path(art["path"]).is_file()}
    return folder_files(rec.run_dir or None, run_id, found)


def load_run_predictions(store: Any, run_id: int) -> RunPredictions | None:
    """The run's stored predictions (the final ones once it ended; the latest val snapshot while
    it runs), or None when it has none."""
    files = run_files(store, run_id)
    if files.predictions is None:
        return None
    try:
        return load_predictions(files.predictions)
    except ValueError as exc:
        raise EvaluationError(f"run #{run_id}: {exc}") from None


def _reload_data(spec: Any, base_dir: str | Path | None):
    from workbench.core.data import load_dataset, prepare

    try:
        return prepare(load_dataset(spec.data, base_dir), spec.data)
    except DataError as exc:
        raise EvaluationError(f"cannot reload the run's data ({spec.data.source}): {exc}. Evaluate it on a file "
                              "with --data FILE instead.") from None


def load_run_preprocessing(store: Any, run_id: int, base_dir: str | Path | None = None
                           ) -> tuple[Preprocessing, list[str]]:
    """The run's preprocessing.json, or (for a run recorded without one) rebuilt from its spec by
    reloading its data; the notes say which."""
    files = run_files(store, run_id)
    if files.preprocessing is not None:
        try:
            return Preprocessing.load(files.preprocessing), []
        except ValueError as exc:
            raise EvaluationError(f"run #{run_id}: {exc}") from None
    spec = store.get_run(run_id).spec
    data = _reload_data(spec, base_dir)
    note = (f"run #{run_id} has no preprocessing.json (recorded by an older Workbench); rebuilt from its data "
            f"{spec.data.source}")
    return Preprocessing.from_run(spec, data), [note]


class RunModel:
    """A run's model rebuilt on the CPU (or `device`), in eval mode, with its preprocessing."""

    def __init__(self, model: Any, prep: Preprocessing, spec: Any, weights: Path, kind: str, device: Any):
        self.model, self.prep, self.spec, self.weights, self.kind, self.device = model, prep, spec, weights, kind, device

    def outputs(self, X_model: np.ndarray) -> np.ndarray:
        """Raw outputs for model inputs (standardised), float32."""
        import torch

        from workbench.core.training import model_outputs

        X = torch.from_numpy(np.ascontiguousarray(X_model, dtype=np.float32)).to(self.device)
        return model_outputs(self.model, X).cpu().numpy()

    def split_predictions(self, X_raw: np.ndarray, y: np.ndarray | None, split: str,
                          labels: list[str] | None = None, X_is_model: bool = False) -> SplitPredictions:
        """Predictions for raw inputs (or model inputs with X_is_model), in the stored form."""
        prep = self.prep
        X_model = np.asarray(X_raw, dtype=np.float32) if X_is_model else prep.to_model(X_raw)
        out = self.outputs(X_model) if len(X_model) else np.zeros((0, max(1, prep.target_width)), np.float32)
        y_true = y  # targets are always in their own units
        if prep.task == "regression":
            out = prep.target_to_units(out).astype(np.float32)
        if y_true is None:
            y_true = (np.zeros(len(X_model), np.int64) if prep.task == "classification"
                      else np.full((len(X_model), 1), np.nan))
        raw = prep.to_raw(X_model) if X_is_model else np.asarray(X_raw, dtype=np.float32)
        inputs = np.clip(np.rint(raw * 255), 0, 255).astype(np.uint8) if prep.kind == "image" else raw
        return SplitPredictions(split, prep.task, prep.class_names, np.asarray(y_true), out, prep.probability,
                                prep.target_names, None, np.asarray(labels, dtype=str) if labels else None, inputs)


def load_run_model(store: Any, run_id: int, *, prefer: tuple[str, ...] = WEIGHT_PREFERENCE, device: str = "cpu",
                   base_dir: str | Path | None = None) -> tuple[RunModel, list[str]]:
    """The run's model with the first stored weights in `prefer` order; notes say what was used."""
    files = run_files(store, run_id)
    if not files.weights:
        load_model(files, None, None)  # raises the message
    prep, notes = load_run_preprocessing(store, run_id, base_dir)
    model, more = load_model(files, store.get_run(run_id).spec, prep, prefer=prefer, device=device)
    return model, notes + more


def load_model(files: RunFiles, spec: Any, prep: Preprocessing | None, *, prefer: tuple[str, ...] = WEIGHT_PREFERENCE,
               device: str = "cpu") -> tuple[RunModel, list[str]]:
    """A model rebuilt from a run's files (weights in `prefer` order), its spec and preprocessing."""
    import torch

    from workbench.core.training import CheckpointError, ModelError, build_model, load_checkpoint

    name = f"run #{files.run_id}" if files.run_id else "this run"
    kind = next((k for k in prefer if k in files.weights), None)
    if kind is None:
        raise EvaluationError(
            f"{name} kept no weights (it was a sweep trial, was trained with checkpoints off, or its files "
            "were deleted), so its model cannot be rebuilt. Train it again with checkpoints on.")
    notes: list[str] = []
    try:
        state = load_checkpoint(files.weights[kind], map_location=device)
        torch.manual_seed(0)
        model, _ = build_model(spec, prep.meta())
        model.load_state_dict(state["model"])
    except (CheckpointError, ModelError, RuntimeError) as exc:
        raise EvaluationError(f"{name}: cannot rebuild its model from {files.weights[kind]}: {exc}") from None
    model.to(device)
    model.eval()
    if kind != "final":
        notes.append(f"using the {kind} checkpoint (epoch {int(state.get('epoch', 0))}): it has no final "
                     "weights, so numbers may differ from the ones it reported")
    return RunModel(model, prep, spec, files.weights[kind], kind, torch.device(device)), notes


@dataclass
class EvaluationResult:
    run_id: int
    predictions: SplitPredictions
    report: dict[str, Any]
    source: str  # "stored" | "recomputed" | the data file
    notes: list[str] = field(default_factory=list)


def evaluate_run(store: Any, run_id: int, split: str = "test", data: str | Path | None = None,
                 threshold: float | None = None, base_dir: str | Path | None = None) -> EvaluationResult:
    """The report of a run on one of its splits (from its stored predictions, or recomputed from
    its weights on its reloaded data when it stored none) or on a new labelled file `data`."""
    if split not in SPLITS:
        raise EvaluationError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    notes: list[str] = []
    if data is not None:
        rm, notes = load_run_model(store, run_id, base_dir=base_dir)
        try:
            from workbench.core.evaluation.inputs import read_new_data

            new = read_new_data(rm.prep, data, labelled=True)
        except DataError as exc:
            raise EvaluationError(str(exc)) from None
        sp = rm.split_predictions(new.X, new.y, Path(data).name, new.labels)
        return _result(run_id, sp, str(data), notes + new.notes, threshold)
    stored = load_run_predictions(store, run_id)
    if stored is not None and split in stored.splits:
        if not stored.final:
            notes.append(f"run #{run_id} is still running (or was interrupted): predictions of epoch {stored.epoch}")
        return _result(run_id, stored.splits[split], "stored", notes, threshold)
    rec = store.get_run(run_id)
    rm, notes = load_run_model(store, run_id, base_dir=base_dir)
    prepared = _reload_data(rec.spec, base_dir)
    part = getattr(prepared, split)
    if not len(part):
        raise EvaluationError(f"run #{run_id} has no {split} split (its spec gives it no rows); choose another "
                              "with --split")
    y = part.y.numpy()
    sp = rm.split_predictions(part.X.numpy(), y, split, X_is_model=True)
    sp.rows = np.asarray(part.rows) if part.rows is not None else None
    notes.append(f"run #{run_id} stored no {split} predictions; recomputed from its {rm.kind} weights")
    return _result(run_id, sp, "recomputed", notes, threshold)


def _result(run_id: int, sp: SplitPredictions, source: str, notes: list[str], threshold) -> EvaluationResult:
    if not len(sp):
        raise EvaluationError(f"run #{run_id}: the {sp.split} split has no rows")
    try:
        report = split_report(sp, threshold)
    except ValueError as exc:
        raise EvaluationError(str(exc)) from None
    return EvaluationResult(run_id, sp, report, source, notes)


@dataclass
class PredictionTable:
    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    predictions: SplitPredictions | None = None


def _fmt(v: float) -> str:
    return "" if not math.isfinite(v) else f"{v:.6g}"


def predict_file(store: Any, run_id: int, path: str | Path, base_dir: str | Path | None = None) -> PredictionTable:
    """Predictions of the run's model for every row (or image) of `path`: an id column, then
    `prediction` (the class name, or the value in the target's units), then `p_<class>` per class."""
    rm, notes = load_run_model(store, run_id, base_dir=base_dir)
    from workbench.core.evaluation.inputs import read_new_data

    try:
        new = read_new_data(rm.prep, path)
    except DataError as exc:
        raise EvaluationError(str(exc)) from None
    sp = rm.split_predictions(new.X, None, "new", new.labels)
    prep = rm.prep
    if prep.task == "classification":
        columns = [new.id_name, "prediction", *[f"p_{c}" for c in prep.class_names]]
        probs = sp.probabilities
        rows = [[i, prep.class_names[k], *[_fmt(p) for p in probs[r]]]
                for r, (i, k) in enumerate(zip(new.ids, sp.predicted))]
    else:
        names = prep.target_names
        pred_cols = ["prediction"] if len(names) == 1 else [f"prediction_{n}" for n in names]
        columns = [new.id_name, *pred_cols]
        rows = [[i, *[_fmt(v) for v in sp.predictions[r]]] for r, i in enumerate(new.ids)]
    return PredictionTable(columns, rows, notes + new.notes, sp)


def write_csv(table: PredictionTable, path: str | Path) -> Path:
    """Write a prediction table as CSV (UTF-8, header row)."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(table.columns)
        writer.writerows(table.rows)
    return path
