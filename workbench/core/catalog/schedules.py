"""Learning-rate schedule entries, `make_scheduler`, `SchedulerHandle` and `lr_curve`.

A schedule factory is `factory(params, optimizer, epochs, steps_per_epoch) -> scheduler`, where
`epochs` is the number of epochs the schedule itself runs (the total minus any warmup).
info["step_per"] is "epoch" or "batch" (OneCycleLR); info["needs_metric"] marks
ReduceLROnPlateau (the trainer passes the validation loss, or the training loss without
validation data).

Warmup (spec.schedule.warmup): a LinearLR from start_factor to 1 over warmup.epochs, then the
schedule (SequentialLR). With ReduceLROnPlateau the warmup epochs ignore the metric, then the
plateau logic takes over. OneCycleLR has its own warm-up phase (pct_start), so a warmup is an
error there.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from typing import TYPE_CHECKING

from workbench.core.catalog.registry import Entry, Param, register

if TYPE_CHECKING:
    from torch.optim import lr_scheduler as S


def _S():
    """torch.optim.lr_scheduler, imported when the first schedule is built (the palette itself
    must import without torch, which takes seconds)."""
    from torch.optim import lr_scheduler

    return lr_scheduler


def _as_list(v):
    return sorted(v) if isinstance(v, (list, tuple)) else [v]


def _T_max(p, epochs):
    return max(1, epochs) if p["T_max"] == "auto" else p["T_max"]


def make_onecycle(p, optimizer, epochs, steps_per_epoch):
    p = dict(p)
    if p["cycle_momentum"] and not ({"momentum", "betas"} & set(optimizer.defaults)):
        p["cycle_momentum"] = False  # this optimizer has no momentum to cycle
    return _S().OneCycleLR(optimizer, total_steps=max(1, epochs * steps_per_epoch), **p)


def _sched(name, help_, params, factory, step_per="epoch", needs_metric=False, **info):
    register(Entry(name=name, kind="schedule", group="Schedule", help=help_, params=tuple(params), factory=factory,
                   info={"step_per": step_per, "needs_metric": needs_metric, **info}))


_GAMMA = Param("gamma", "float", 0.1, "factor the learning rate is multiplied by", 1e-6, 1.0)
_ETA_MIN = Param("eta_min", "float", 0.0, "lowest learning rate", 0.0, 10.0)

_sched("StepLR", "Multiplies the learning rate by gamma every step_size epochs",
       (Param("step_size", "int", 10, "epochs between decays", 1, 100_000), _GAMMA),
       lambda p, o, e, s: _S().StepLR(o, **p))
_sched("MultiStepLR", "Multiplies the learning rate by gamma at each milestone epoch",
       (Param("milestones", "ints", [30, 40], "epochs at which to decay", 1, 100_000), _GAMMA),
       lambda p, o, e, s: _S().MultiStepLR(o, milestones=_as_list(p["milestones"]), gamma=p["gamma"]))
_sched("ExponentialLR", "Multiplies the learning rate by gamma every epoch",
       (Param("gamma", "float", 0.95, "factor per epoch", 1e-6, 1.0),), lambda p, o, e, s: _S().ExponentialLR(o, **p))
_sched("CosineAnnealingLR", "Cosine decay from the learning rate to eta_min over T_max epochs",
       (Param("T_max", "int_or_auto", "auto", "epochs of the decay; 'auto' = the whole run (after warmup)", 1,
              100_000), _ETA_MIN),
       lambda p, o, e, s: _S().CosineAnnealingLR(o, T_max=_T_max(p, e), eta_min=p["eta_min"]))
_sched("CosineAnnealingWarmRestarts", "Cosine decay restarted every T_0 epochs (cycles grow by T_mult)",
       (Param("T_0", "int", 10, "epochs of the first cycle", 1, 100_000),
        Param("T_mult", "int", 1, "growth factor of each later cycle", 1, 10), _ETA_MIN),
       lambda p, o, e, s: _S().CosineAnnealingWarmRestarts(o, **p))
_sched("OneCycleLR", "Rises to max_lr then anneals far below it, stepped every batch (has its own warm-up)",
       (Param("max_lr", "float", 0.01, "peak learning rate (replaces the optimizer's lr)", 1e-6, 10.0, log=True),
        Param("pct_start", "float", 0.3, "fraction of the run spent rising", 0.01, 0.99),
        Param("anneal_strategy", "choice", "cos", "shape of the curve", choices=("cos", "linear")),
        Param("div_factor", "float", 25.0, "start lr = max_lr / div_factor", 1.0, 1e4),
        Param("final_div_factor", "float", 1e4, "final lr = start lr / final_div_factor", 1.0, 1e8),
        Param("three_phase", "bool", False, "a third phase annihilates the lr"),
        Param("cycle_momentum", "bool", True, "cycle momentum inversely (ignored for optimizers without one)")),
       make_onecycle, step_per="batch", warmup_ok=False)
_sched("ReduceLROnPlateau", "Multiplies the learning rate by factor when the validation loss stops improving",
       (Param("mode", "choice", "min", "'min': the metric should fall; 'max': rise", choices=("min", "max")),
        Param("factor", "float", 0.1, "multiplier on each reduction", 0.001, 0.999),
        Param("patience", "int", 10, "epochs without improvement before reducing", 0, 10_000),
        Param("threshold", "float", 1e-4, "minimum relative change that counts as improvement", 0.0, 1.0),
        Param("cooldown", "int", 0, "epochs to wait after a reduction", 0, 10_000),
        Param("min_lr", "float", 0.0, "lowest learning rate", 0.0, 10.0)),
       lambda p, o, e, s: _S().ReduceLROnPlateau(o, **p), needs_metric=True)
_sched("LinearLR", "Scales the learning rate linearly from start_factor to end_factor over total_iters epochs "
       "(a warm-up)",
       (Param("start_factor", "float", 1 / 3, "multiplier at the start", 1e-4, 1.0),
        Param("end_factor", "float", 1.0, "multiplier at the end", 0.0, 1.0),
        Param("total_iters", "int", 5, "epochs to go from start to end", 1, 100_000)),
       lambda p, o, e, s: _S().LinearLR(o, **p))


class WarmupThenPlateau:
    """LinearLR for the warmup epochs, then ReduceLROnPlateau (SequentialLR cannot pass metrics)."""

    def __init__(self, warmup: S.LinearLR, plateau: S.ReduceLROnPlateau, warmup_epochs: int):
        self.warmup, self.plateau, self.warmup_epochs, self.epoch = warmup, plateau, warmup_epochs, 0

    def step(self, metric: float) -> None:
        self.epoch += 1
        if self.epoch <= self.warmup_epochs:
            self.warmup.step()
        else:
            self.plateau.step(metric)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "warmup": self.warmup.state_dict(), "plateau": self.plateau.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = state["epoch"]
        self.warmup.load_state_dict(state["warmup"])
        self.plateau.load_state_dict(state["plateau"])


@dataclass
class SchedulerHandle:
    """What the trainer drives: call step() after every epoch or batch as `step_per` says;
    with `needs_metric`, pass the monitored value (validation loss)."""

    scheduler: Any
    step_per: str                      # "epoch" | "batch"
    needs_metric: bool
    total_steps: int | None = None     # per-batch schedules: steps beyond this many are ignored
    steps: int = field(default=0)

    def step(self, metric: float | None = None) -> None:
        if self.needs_metric:
            if metric is None:
                raise ValueError("ReduceLROnPlateau needs the monitored value (validation loss) at each step")
            self.scheduler.step(float(metric))
        else:
            if self.total_steps is not None and self.steps >= self.total_steps:
                return  # OneCycleLR is at its final lr: hold it (a resumed or extended run steps on)
            self.scheduler.step()
        self.steps += 1

    def state_dict(self) -> dict:
        return {"steps": self.steps, "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]
        self.scheduler.load_state_dict(state["scheduler"])


def make_scheduler(schedule_spec, optimizer, epochs: int, steps_per_epoch: int) -> SchedulerHandle | None:
    """Build the schedule (None when the spec has none). Raises ValueError for a warmup on a
    schedule that cannot take one."""
    from workbench.core.catalog.registry import get_entry

    if schedule_spec is None:
        return None
    entry = get_entry("schedule", schedule_spec.type)
    params = entry.with_defaults(schedule_spec.params)
    warm = getattr(schedule_spec, "warmup", None)
    info = entry.info
    if warm is not None and not info.get("warmup_ok", True):
        raise ValueError(f"{entry.name} has its own warm-up (pct_start); remove the schedule's warmup")
    main_epochs = max(1, epochs - warm.epochs) if warm is not None else epochs
    main = entry.factory(params, optimizer, main_epochs, steps_per_epoch)
    # OneCycleLR reaches its final lr after total_steps - 1 steps; the last step would extrapolate
    # the curve back up (and more would raise), so the handle stops there
    total = max(1, epochs * steps_per_epoch) - 1 if info["step_per"] == "batch" else None
    if warm is None:
        return SchedulerHandle(main, info["step_per"], info["needs_metric"], total)
    S = _S()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warmup = S.LinearLR(optimizer, start_factor=warm.start_factor, end_factor=1.0, total_iters=warm.epochs)
        if info["needs_metric"]:
            return SchedulerHandle(WarmupThenPlateau(warmup, main, warm.epochs), "epoch", True)
        seq = S.SequentialLR(optimizer, [warmup, main], milestones=[warm.epochs])
    return SchedulerHandle(seq, "epoch", False)


def lr_curve(schedule_spec, base_lr: float, epochs: int, steps_per_epoch: int = 1) -> list[float]:
    """The learning rate in effect during each epoch (at its first batch), found by stepping the
    real scheduler on a dummy optimizer. ReduceLROnPlateau is shown as if the monitored value never
    improves. Per-batch schedules over very long runs are previewed with fewer steps per epoch
    (same shape)."""
    epochs = max(1, int(epochs))
    steps_per_epoch = max(1, int(steps_per_epoch))
    if epochs * steps_per_epoch > 20_000:
        steps_per_epoch = max(1, 20_000 // epochs)
    import torch

    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=base_lr, momentum=0.9)
    handle = make_scheduler(schedule_spec, opt, epochs, steps_per_epoch)
    opt.step()  # grad is None: a no-op that keeps the "scheduler stepped before optimizer" warning away
    lrs = []
    for _ in range(epochs):
        lrs.append(float(opt.param_groups[0]["lr"]))
        if handle is None:
            continue
        if handle.step_per == "batch":
            for _ in range(steps_per_epoch):
                handle.step()
        else:
            handle.step(1.0 if handle.needs_metric else None)
    return lrs
