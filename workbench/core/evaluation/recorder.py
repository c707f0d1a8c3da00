"""EvaluationRecorder: the callback that keeps what evaluating a run needs, and shows it live.

- at the start: preprocessing.json in the run's folder (what predict needs besides the weights);
- every few epochs: the validation predictions (predictions.npz, val only) and a decision-
  boundary grid, announced by one EvaluationSnapshot event. The validation outputs are the ones
  the epoch's val metrics were computed from (no extra pass); the grid is one forward pass over
  up to 100 x 100 points. Snapshots are spaced so that their cost stays under `budget` (2.5 %) of
  the training time so far: each one's measured cost decides when the next one is due. The grid's
  size is chosen after the first epoch from a 16-point probe, so that one snapshot costs at most
  a quarter of the budget of the whole planned run; a model too slow for a 16 x 16 grid (a CNN on
  a small dataset, on a CPU) gets no live grid (the app computes it from a checkpoint instead);
- at the end (finished or stopped): predictions on train, val and test of the final weights (the
  val/test outputs the run's reported metrics came from), and the final weights (final.pt) when
  the run keeps checkpoints.
Files are written atomically and recorded as artifacts (ArtifactSaved). Without a run folder
(sweep trials) nothing is written and only the live grid is sent.
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
PROBE_CELLS = 16  # forward passes timed to size the grid
MAX_INPUT_BYTES = 16 << 20  # a split's inputs are stored for display up to this size
MAX_TRAIN_ROWS = 200_000  # train predictions are stored up to this many rows


def grid_side(per_cell: float, planned_seconds: float, budget: float, max_side: int, line: bool,
              fixed: float = 0.0) -> int:
    """Cells per side of a grid whose one evaluation (`fixed` plus per_cell seconds a cell) costs
    at most a quarter of `budget` of the planned training time; 0 when that is under MIN_GRID."""
    cells = (budget / 4 * planned_seconds - fixed) / max(per_cell, 1e-9)
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
        if self.grid:
            try:
                self.plane = default_plane(self.prep, data.train.X.numpy())
            except (np.linalg.LinAlgError, ValueError):
                self.plane = None
        self._mark = time.perf_counter()

    def on_epoch_end(self, run, epoch, logs):
        now = time.perf_counter()
        self._train_seconds += now - self._mark
        if self.prep is None:
            return
        if self.snapshot_due():
            path = self._write_live(run, epoch)
            if self.plane is not None and self._grid is None:
                self._grid = self._grid_size(run) if self.adaptive else self.grid
            boundary = self._boundary(run) if self.plane is not None and self._grid else None
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

    def _grid_size(self, run) -> int:
        """Cells per side such that one grid costs at most budget/4 of the planned training time
        (measured: one epoch so far, times the epochs planned); 0 when even MIN_GRID is too slow.
        The cost of a cell is timed on PROBE_CELLS cells and, when that is cheap, again on 16 times
        as many: the difference is the cost of a cell without the fixed cost of a forward pass."""
        predict = self._predict_fn(run)

        def timed(n: int) -> float:
            u = np.linspace(*self.plane.x_range, n)
            v = None if self.plane.is_line else np.linspace(*self.plane.y_range, n)
            X = self.plane.to_model(u, v).reshape(-1, *self.prep.input_shape)
            t0 = time.perf_counter()
            predict(X)
            return time.perf_counter() - t0

        planned = self._train_seconds * max(1, run.spec.train.epochs - run.start_epoch)
        small = timed(PROBE_CELLS)
        per_cell, fixed = small / PROBE_CELLS, 0.0
        if small < self.budget / 40 * planned:  # cheap enough to look closer
            large = timed(PROBE_CELLS * 16)
            per_cell = max((large - small) / (PROBE_CELLS * 15), 1e-9)
            fixed = max(0.0, small - per_cell * PROBE_CELLS)
        return grid_side(per_cell, planned, self.budget, self.grid, self.plane.is_line, fixed=fixed)

    def _boundary(self, run) -> dict[str, Any] | None:
        predict = self._predict_fn(run)

        data = run.data
        points = {}
        for name in ("train", "test"):
            split = getattr(data, name)
            if len(split):
                points[name] = (split.X.numpy(), split.y.numpy())
        return grid_snapshot(predict, self.plane, self.prep, grid=self._grid, points=points)
