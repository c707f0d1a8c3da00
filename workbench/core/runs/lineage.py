"""Lineage: a folder per run (runs/<id>/ beside the store), its checkpoints, and child runs that
branch from or resume a run.

Resume and branch both start a CHILD run (parent_id = the run continued) from a checkpoint of the
parent; the child's epochs continue the parent's numbering (the trainer restores the epoch, step,
optimizer and scheduler). A stopped run is never reopened: its record stays as it was, so the
history says what really happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from workbench.core.runs.errors import ExperimentError
from workbench.core.runs.groups import GROUP_PREFIX

if TYPE_CHECKING:
    from workbench.core.runs.store import RunStore
    from workbench.core.spec import ExperimentSpec

__all__ = ["run_folder", "checkpoints", "checkpoint_path", "BranchPlan", "branch_plan", "resume_plan", "lineage_rows"]


def run_folder(store_path: str | Path, run_id: int) -> Path:
    """The folder of run `run_id` (its checkpoints): runs/<id>/ beside the store file. One rule
    for every run, from the CLI, the app or a sweep; RunRecorder.begin applies it."""
    return Path(store_path).expanduser().resolve().parent / "runs" / str(run_id)


def checkpoints(store: "RunStore", run_id: int) -> dict[str, str]:
    """{"best": path, "last": path} for the checkpoint files of a run that still exist."""
    found: dict[str, str] = {}
    for art in store.artifacts(run_id):
        kind = art["kind"]
        if kind.startswith("checkpoint_") and Path(art["path"]).is_file():
            found[kind.removeprefix("checkpoint_")] = art["path"]
    if not found:  # a run whose recorder missed the artifact rows: look in its folder
        rec = store.get_run(run_id)
        for kind in ("best", "last"):
            path = Path(rec.run_dir) / f"{kind}.pt" if rec.run_dir else None
            if path is not None and path.is_file():
                found[kind] = str(path)
    return found


def checkpoint_path(store: "RunStore", run_id: int, prefer: str = "last", use: str = "to continue from") -> str:
    """The run's `prefer`red checkpoint ("last" = final weights, or "best"), else the other one;
    ExperimentError when it has none (`use` says what it was wanted for)."""
    found = checkpoints(store, run_id)
    path = found.get(prefer) or found.get("last") or found.get("best")
    if not path:
        raise ExperimentError(
            f"Run #{run_id} has no checkpoint {use} (it was trained with checkpoints off, or its files were "
            "deleted). Turn on 'Save checkpoints' (train.checkpoint) and train it again.")
    return path


@dataclass
class BranchPlan:
    """What a child run needs: the spec to train, the checkpoint to start from, its parent.
    `name` is the child run's own ("Spiral MLP (branch of #3)"); the spec keeps the parent's
    experiment name, so runs started after the branch are not named after it."""

    spec: "ExperimentSpec"
    resume_from: str
    parent_id: int
    parent_name: str
    from_epoch: int  # the parent's epoch the child continues from
    kind: str  # "branch" | "resume"
    tags: list[str] = field(default_factory=list)
    name: str = ""

    @property
    def label(self) -> str:
        verb = "resume" if self.kind == "resume" else "branch"
        return f"{verb} of #{self.parent_id} at epoch {self.from_epoch}"

    def options(self) -> dict[str, Any]:
        """Keyword options for Session.train / ProcessRun."""
        return {"resume_from": self.resume_from, "parent_id": self.parent_id, "tags": list(self.tags),
                "name": self.name or self.spec.name}


def _checkpoint_epoch(path: str) -> int | None:
    """The epoch a checkpoint was saved at; memory-mapped, so a big model's file is not read."""
    try:
        import torch

        data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        return int(data.get("epoch", 0)) if isinstance(data, dict) and "model" in data else None
    except Exception:  # noqa: BLE001 - unreadable: the caller says the checkpoint cannot be read
        return None


def branch_plan(store: "RunStore", run_id: int, changes: dict[str, Any] | None = None, *,
                prefer: str = "last", kind: str = "branch") -> BranchPlan:
    """A child of run `run_id`: its spec (with `changes`), continuing from its `prefer`red
    checkpoint (last by default; best if asked and present). When the parent trained all its
    epochs, the child gets as many again (the person edits that before pressing Train)."""
    rec = store.get_run(run_id)
    if rec.status == "running":
        raise ExperimentError(f"Run #{run_id} is still running: stop it (or pause and branch) first")
    path = checkpoint_path(store, run_id, prefer)
    epoch = _checkpoint_epoch(path)
    if epoch is None:
        raise ExperimentError(f"The checkpoint {path} of run #{run_id} cannot be read")
    spec = rec.spec
    if changes:
        spec = spec.with_values(changes)
    if not changes or "train.epochs" not in changes:
        if spec.train.epochs <= epoch:
            spec = spec.with_values({"train.epochs": epoch + rec.spec.train.epochs})
    spec = spec.with_values({"name": _without_lineage(spec.name)})  # older stores kept the suffix in the spec
    name = f"{_without_lineage(rec.name or rec.spec.name)} ({kind}{'d' if kind == 'resume' else ''} of #{run_id})"
    tags = [t for t in rec.tags if t != "sweep" and not t.startswith(GROUP_PREFIX)] + [kind]
    return BranchPlan(spec, path, run_id, rec.name or f"run {run_id}", epoch, kind, list(dict.fromkeys(tags)),
                      name)


def _without_lineage(name: str) -> str:
    """'Spiral MLP (branch of #3)' -> 'Spiral MLP'."""
    return re.sub(r" \((branch|resume)d? of #\d+\)$", "", name)


def resume_plan(store: "RunStore", run_id: int) -> BranchPlan:
    """Continue a stopped (or interrupted/failed) run from its last checkpoint to its spec's
    epochs, as a child run."""
    rec = store.get_run(run_id)
    if rec.status == "finished":
        raise ExperimentError(f"Run #{run_id} finished all its epochs: use Branch… to train it further")
    plan = branch_plan(store, run_id, prefer="last", kind="resume")
    if rec.spec.train.epochs > plan.from_epoch:  # keep the parent's target, not "as many again"
        plan.spec = plan.spec.with_values({"train.epochs": rec.spec.train.epochs})
    return plan


def lineage_rows(parent_rows: Sequence[dict], child_rows: Sequence[dict], from_epoch: int
                 ) -> tuple[list[dict], list[dict]]:
    """The parent's epochs up to the branch point, and the child's epochs joined to them (the
    branch point's row first, so the two curves meet); the child's `elapsed` is shifted to
    start where the parent's was, so time axes continue too."""
    head = [dict(r) for r in parent_rows if int(r.get("epoch", 0)) <= from_epoch]
    joint = head[-1] if head else None
    offset = float(joint.get("elapsed") or 0.0) if joint else 0.0
    tail = []
    for r in child_rows:
        r = dict(r)
        if r.get("elapsed") is not None:
            r["elapsed"] = float(r["elapsed"]) + offset
        tail.append(r)
    return head, ([dict(joint)] if joint else []) + tail
