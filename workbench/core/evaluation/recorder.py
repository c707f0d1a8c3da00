"""EvaluationRecorder: the callback that keeps what evaluating a run needs, and shows it live.

- at the start: preprocessing.json in the run's folder (what predict needs besides the weights);
- every few epochs: the validation predictions (predictions.npz, val only) and a decision-
  boundary grid, announced by one EvaluationSnapshot event. The validation outputs are the ones
  the epoch's val metrics were computed from (no extra pass); the grid is one forward pass over
  up to 100 x 100 points. Snapshots are spaced so that their cost stays under `budget` (2.5 %) of
  the training time so far: each one's measured cost decides when the next one is due. The grid
  starts at 16 x 16 and each grid's measured cost sets the next one's size, so that one costs
  about a twelfth of the budget of the whole planned run (about a dozen refreshes a run, finer
  grids for longer runs). A model too slow even for 16 x 16
  (timed on 16 training rows first, before the plane, a PCA for many inputs, is computed: a CNN on
  a small dataset, on a CPU) gets no live grid; the app computes it from the weights instead;
- at the end (finished or stopped): predictions on train, val and test of the final weights (the
  val/test outputs the run's reported metrics came from), and the final weights (final.pt) when
  the run keeps checkpoints.
Files are written atomically and recorded as artifacts (ArtifactSaved). Without a run folder
nothing is written and only the live grid is sent; sweep trials get grid=0 (nobody watches them).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.core.evaluation.boundary import GRID, Plane, default_plane, grid_snapshot
from workbench.core.evaluation.predictions import (
    PREDICTIONS_FILE,
    RunPredictions,
    SplitPredictions,
    save_predictions,
)
from workbench.core.evaluation.preprocessing import Preprocessing, target_scaler
from workbench.core.training import (
    ArtifactSaved,
    Callback,
    EvaluationSnapshot,
    RunFailed,
    model_outputs,
    save_checkpoint,
    state_dict_to_cpu,
)

__all__ = ["FINAL_WEIGHTS_FILE", "MAX_INPUT_BYTES", "EvaluationRecorder"]

FINAL_WEIGHTS_FILE = "final.pt"
MIN_GRID = 16  # a live grid coarser than this is not worth sending
SNAPSHOTS_PER_RUN = 12  # a grid may cost budget / this of the planned run: about this many refreshes
PROBE_CELLS = 16  # training rows whose forward pass is timed before the first grid
MAX_INPUT_BYTES = 16 << 20  # a split's inputs are stored for display up to this size
MAX_TRAIN_ROWS = 200_000  # train predictions are stored up to this many rows


def grid_side(per_cell: float, planned_seconds: float, budget: float, max_side: int, line: bool,
              fixed: float = 0.0) -> int:
    """Cells per side of a grid whose one evaluation (`fixed` plus per_cell seconds a cell) costs
    at most budget / SNAPSHOTS_PER_RUN of the planned training time; 0 when that is under MIN_GRID."""
    cells = (budget / SNAPSHOTS_PER_RUN * planned_seconds - fixed) / max(per_cell, 1e-9)
    side = int(min(max_side, cells if line else np.sqrt(cells)))
    return side if side >= MIN_GRID else 0


class EvaluationRecorder(Callback):
    """See the module doc. `budget`: the most the live snapshots may cost, as a fraction of the
    training time; `grid`: cells per side of the boundary grid (0: no grid)."""

    def __init__(self, budget: float = 0.025, grid: int = GRID, adaptive: bool = True) -> None:
        self.budget = budget
        self.adaptive = adaptive  # False: always `grid` cells per side (tests)
        self.grid = grid  # the most cells per side; the size used is chosen after the first epoch
        self._grid: int | None = None
        self.prep: Preprocessing | None = None
        self.plane: Plane | None = None
        self._train_seconds = 0.0
        self._snap_seconds = 0.0
        self._last_cost = 0.0
        self._mark = 0.0
        self._announced: set[str] = set()
        self.snapshots = 0

    # ---- hooks ---------------------------------------------------------------------------------
    def on_run_start(self, run, event):
        data = run.data
        if data is None:
            return
        self.prep = Preprocessing.from_run(run.spec, data)
        if run.run_dir is not None:
            path = self.prep.save(run.run_dir)
            run.emit(ArtifactSaved(kind="preprocessing", path=str(path), epoch=event.start_epoch))
        self._mark = time.perf_counter()

    def on_epoch_end(self, run, epoch, logs):
        now = time.perf_counter()
        self._train_seconds += now - self._mark
        if self.prep is None:
            return
        if self.snapshot_due():
            path = self._write_live(run, epoch)
            if self._grid is None:  # the first snapshot: a coarse grid, if the model is cheap enough
                self._grid = (self._first_side(run) if self.adaptive else self.grid) if self.grid else 0
                self.plane = self._default_plane(run) if self._grid else None
            boundary = None
            if self.plane is not None and self._grid:
                t0 = time.perf_counter()
                boundary = self._boundary(run)
                if self.adaptive:  # the next grid as fine as its measured cost allows
                    self._grid = self._next_side(run, self._grid, time.perf_counter() - t0)
            cost = time.perf_counter() - now
            self._snap_seconds += cost
            self._last_cost = cost
            self.snapshots += 1
            run.emit(EvaluationSnapshot(epoch=epoch, predictions_path=str(path or ""), boundary=boundary,
                                        seconds=cost))
        self._mark = time.perf_counter()

    def snapshot_due(self) -> bool:
        """The first epoch always; later ones when the snapshots so far plus one more (costing what
        the last one did) stay within `budget` of the training time so far."""
        return self.snapshots == 0 or self._snap_seconds + self._last_cost <= self.budget * self._train_seconds

    def on_run_end(self, run, event):
        if self.prep is None or run.run_dir is None or isinstance(event, RunFailed) or run.model is None:
            return
        splits = {}
        data = run.data
        for name in ("train", "val", "test"):
            split = getattr(data, name)
            if not len(split) or (name == "train" and len(split) > MAX_TRAIN_ROWS):
                continue
            out = run.outputs.get(name)
            if out is None:
                if name != "train":
                    continue  # not evaluated at the end (a NaN stop): keep no made-up numbers
                out = model_outputs(run.model, split.X.to(run.device), run.precision)
            splits[name] = self._split_predictions(name, split, out, data)
        if splits:
            path = save_predictions(Path(run.run_dir) / "predictions.npz",
                                    RunPredictions(splits, run.epoch, True, self.prep.task, self.prep.class_names))
            run.emit(ArtifactSaved(kind="predictions", path=str(path), epoch=run.epoch))
        if run.spec.train.checkpoint:
            path = save_checkpoint(Path(run.run_dir) / FINAL_WEIGHTS_FILE, {
                "model": state_dict_to_cpu(run.model.state_dict()), "epoch": int(run.epoch),
                "step": int(run.step), "spec_json": run.spec.to_json(), "metrics": dict(getattr(event, "metrics", {})),
            })
            run.emit(ArtifactSaved(kind="checkpoint_final", path=str(path), epoch=run.epoch))

    # ---- pieces --------------------------------------------------------------------------------
    def _split_predictions(self, name: str, split: Any, out: torch.Tensor, data: Any) -> SplitPredictions:
        prep = self.prep
        out = out.detach().float()
        scaler = target_scaler(data)
        if prep.task == "regression" and scaler is not None:
            # exactly as the trainer turns outputs into the units its metrics are computed in
            out = scaler.to_units(out.reshape(len(out), -1))
        outputs = out.cpu().numpy()
        y = split.y.cpu().numpy()  # the splits keep targets in their own units
        rows = np.asarray(split.rows) if getattr(split, "rows", None) is not None else None
        return SplitPredictions(name, prep.task, prep.class_names, y, outputs, prep.probability, prep.target_names,
                                rows, None, self._display_inputs(split.X))

    def _display_inputs(self, X: torch.Tensor) -> np.ndarray | None:
        prep = self.prep
        if prep.kind == "image":
            if X.numel() > MAX_INPUT_BYTES:
                return None
            raw = prep.to_raw(X.numpy())
            return np.clip(np.rint(raw * 255.0), 0, 255).astype(np.uint8)
        if X.numel() * 4 > MAX_INPUT_BYTES:
            return None
        return prep.to_raw(X.numpy()).astype(np.float32)

    def _write_live(self, run, epoch: int) -> Path | None:
        out = run.outputs.get("val")
        if run.run_dir is None or out is None or not len(run.data.val):
            return None
        sp = self._split_predictions("val", run.data.val, out, run.data)
        path = save_predictions(Path(run.run_dir) / PREDICTIONS_FILE,
                                RunPredictions({"val": sp}, epoch, False, self.prep.task, self.prep.class_names))
        if "predictions" not in self._announced:
            self._announced.add("predictions")
            run.emit(ArtifactSaved(kind="predictions", path=str(path), epoch=epoch))
        return path

    def _predict_fn(self, run):
        model, device, precision = run.model, run.device, run.precision

        def predict(X: np.ndarray) -> np.ndarray:
            return model_outputs(model, torch.from_numpy(X).to(device), precision).cpu().numpy()

        return predict

    def _planned_seconds(self, run) -> float:
        """The whole run's training time, as far as one can tell: the time so far per epoch, times
        the epochs planned."""
        done = max(1, run.epoch - run.start_epoch)
        return self._train_seconds / done * max(1, run.spec.train.epochs - run.start_epoch)

    def _first_side(self, run) -> int:
        """MIN_GRID to start with, or 0 when a forward pass over that many training rows already
        costs more than twice one snapshot's share (budget / SNAPSHOTS_PER_RUN of the planned run)."""
        predict = self._predict_fn(run)
        train_X = run.data.train.X
        X = train_X[np.arange(PROBE_CELLS) % len(train_X)].numpy()  # rows of the model's input shape
        t0 = time.perf_counter()
        predict(X)
        estimate = (time.perf_counter() - t0) / PROBE_CELLS * MIN_GRID ** 2
        return MIN_GRID if estimate <= 2 * self.budget / SNAPSHOTS_PER_RUN * self._planned_seconds(run) else 0

    def _next_side(self, run, side: int, seconds: float) -> int:
        """The grid size for the next snapshot from what this one cost (all of it: the forward
        pass, the probabilities, the points); 0 when even MIN_GRID costs more than twice its share."""
        cells = side if self.plane is not None and self.plane.is_line else side * side
        per_cell = seconds / max(1, cells)
        next_side = grid_side(per_cell, self._planned_seconds(run), self.budget, self.grid,
                              self.plane is not None and self.plane.is_line)
        if next_side == 0 and seconds <= 2 * self.budget / SNAPSHOTS_PER_RUN * self._planned_seconds(run):
            return side  # dearer than its share, but not by much: keep the size it has
        return next_side

    def _default_plane(self, run) -> Plane | None:
        try:
            return default_plane(self.prep, run.data.train.X.numpy())
        except (np.linalg.LinAlgError, ValueError):
            return None

    def _boundary(self, run) -> dict[str, Any] | None:
        predict = self._predict_fn(run)

        data = run.data
        points = {}
        for name in ("train", "test"):
            split = getattr(data, name)
            if len(split):
                points[name] = (split.X.numpy(), split.y.numpy())
        return grid_snapshot(predict, self.plane, self.prep, grid=self._grid, points=points)
