"""A past run brought back: its spec, its trained weights in the model, its data split as in
training, and the preprocessing fitted on its training split.

    restored = restore_run(store, 12)               # RunError with a message if it cannot be done
    restored.model                                  # eval mode, CPU, takes standardised inputs
    restored.prepared.test                          # the run's test split (standardised X, y in units)
    restored.raw.test                               # the same rows with raw, unstandardised inputs
    restored.preprocessing                          # input mean/std, target scaler (plain lists)

The weights are the run's final ones (final.pt, written when the run ends: the weights its
final metrics were measured on); a run recorded before final.pt existed gives its `last`
checkpoint, which holds the same weights unless it was stopped in the middle of an epoch.
Nothing is retrained. Checkpoints load with `weights_only=True`.

The data is loaded again from the run's spec (the split is deterministic) and checked against
the standardisation stored with the run: a file changed since the run is reported, not used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.core.runs.errors import ExperimentError
from workbench.core.runs.lineage import checkpoint_path, checkpoints

if TYPE_CHECKING:
    import torch

    from workbench.core.data import Dataset, PreparedData
    from workbench.core.runs.record import RunRecord
    from workbench.core.runs.store import RunStore
    from workbench.core.spec import ExperimentSpec

__all__ = ["RestoredRun", "restore_run", "run_weights_path"]


WEIGHTS_PREFERENCE = ("final", "last", "best")  # final: the weights the run's metrics were measured on


def run_weights_path(store: "RunStore", run_id: int, which: str = "final") -> Path:
    """The file holding run `run_id`'s weights: `which` ("final", "last" or "best") if the run
    kept it, else the first of final, last, best that it kept."""
    found = checkpoints(store, run_id)
    for kind in (which, *WEIGHTS_PREFERENCE):
        if kind in found:
            return Path(found[kind])
    return Path(checkpoint_path(store, run_id, which, use="with its weights"))  # raises, naming the fix


@dataclass
class RestoredRun:
    """A past run with its trained model and its data as in training (see the module doc)."""

    run_id: int | None
    spec: "ExperimentSpec"
    model: "torch.nn.Module"
    dataset: "Dataset"
    prepared: "PreparedData"
    preprocessing: dict[str, Any]
    weights_path: Path | None = None
    record: "RunRecord | None" = None
    notes: list[str] = field(default_factory=list)

    @property
    def meta(self):
        return self.prepared.meta

    @property
    def name(self) -> str:
        if self.record is not None and self.record.name:
            return self.record.name
        return self.spec.name

    @cached_property
    def raw(self) -> "PreparedData":
        """The same split with unstandardised inputs (targets are always in their own units)."""
        from workbench.core.data import prepare

        data = self.spec.data.model_copy(update={"standardize": False, "source": self.dataset.meta.source})
        return prepare(self.dataset, data)

    @property
    def recorded_metrics(self) -> dict[str, float]:
        return dict(self.record.metrics) if self.record is not None else {}


def recorded_data_source(store: "RunStore", run_id: int, spec: "ExperimentSpec") -> str:
    """The data the run trained on: a sample, an absolute path, or the resolved path the run
    recorded for a spec with a relative path."""
    source = spec.data.source
    if source.startswith("sample:") or Path(source).expanduser().is_absolute():
        return source
    for event in store.events(run_id, kinds=("data",)):  # (not the health monitor's many samples)
        recorded = (event.get("data") or {}).get("source")
        if recorded:
            return str(recorded)
    return source


def spec_to_load(store: "RunStore", record) -> "ExperimentSpec":
    """A past run's settings, ready to load anywhere: a data path its spec gave relative to the
    spec's own folder becomes the path the run found (recorded with the run)."""
    spec = record.spec
    source = recorded_data_source(store, record.id, spec)
    return spec if source == spec.data.source else spec.with_values({"data.source": source})


def _same(stored: list[float] | None, fitted: list[float] | None) -> bool:
    if stored is None or fitted is None:
        return stored is None and fitted is None
    return len(stored) == len(fitted) and all(
        math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6) for a, b in zip(stored, fitted))


def _checkpoint_preprocessing(store: "RunStore", run_id: int) -> dict[str, Any] | None:
    """The preprocessing a run's training checkpoints carry (final.pt has none of its own)."""
    from workbench.core.training import CheckpointError, load_checkpoint

    for kind, path in checkpoints(store, run_id).items():
        if kind in ("last", "best"):
            try:
                found = load_checkpoint(path).get("preprocessing")
            except CheckpointError:
                continue
            if found:
                return found
    return None


def restore_run(store: "RunStore", run_id: int, *, data_source: str | None = None,
                base_dir: str | Path | None = None, which: str = "final") -> RestoredRun:
    """Run `run_id` with its trained weights and its data (see the module doc). `data_source`
    replaces the spec's data.source (a file moved since the run); relative paths resolve against
    `base_dir`. Raises ExperimentError with a message naming the run and the fix."""
    from workbench.core.data import DataError, load_dataset, prepare
    from workbench.core.training import CheckpointError, ModelError, build_model, load_checkpoint

    try:
        record = store.get_run(run_id)
    except KeyError:
        raise ExperimentError(f"There is no run #{run_id} in {store.path}; `workbench runs` lists them") from None
    path = run_weights_path(store, run_id, which)
    try:
        ck = load_checkpoint(path)
    except CheckpointError as exc:
        raise ExperimentError(f"Run #{run_id}: {exc}") from None
    spec = record.spec
    source = data_source or recorded_data_source(store, run_id, spec)
    data_spec = spec.data.model_copy(update={"source": source})
    try:
        dataset = load_dataset(data_spec, base_dir)
        prepared = prepare(dataset, data_spec)
    except DataError as exc:
        raise ExperimentError(f"Run #{run_id}'s data cannot be loaded: {exc}. If the file moved, give its "
                              "new place (--data PATH).") from None
    fitted = prepared.preprocessing()
    stored = ck.get("preprocessing") or _checkpoint_preprocessing(store, run_id)
    if stored:
        for key, what in (("input_mean", "input means"), ("input_std", "input spreads")):
            if not _same(stored.get(key), fitted.get(key)):
                raise ExperimentError(
                    f"Run #{run_id}'s data ({dataset.meta.source}) is not what the run trained on: its {what} "
                    "on the training split differ from those stored with the run. Give the original file "
                    "(--data PATH).")
    try:
        model, _ = build_model(spec, prepared.meta)
        model.load_state_dict(ck["model"])
    except (ModelError, RuntimeError) as exc:
        raise ExperimentError(f"Run #{run_id}'s weights ({path}) do not fit its model: "
                              f"{str(exc).splitlines()[0]}") from None
    model.eval()
    return RestoredRun(run_id=run_id, spec=spec.model_copy(update={"data": data_spec}), model=model,
                       dataset=dataset, prepared=prepared, preprocessing=stored or fitted,
                       weights_path=path, record=record)
