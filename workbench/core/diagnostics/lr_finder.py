"""The learning-rate range test (Leslie Smith, 2015; as fastai's `lr_find` and Lightning's tuner).

The learning rate grows exponentially from `start_lr` (1e-7) to `end_lr` (10) over `steps` (100)
mini-batch steps of the real model, data, loss and optimizer; the loss is smoothed with an
exponential moving average (β = 0.98, debiased) and the test stops once the smoothed loss
exceeds 4× its best. The weights and optimizer state are put back afterwards. With
train.accumulate_batches k, each step accumulates k batches, so the suggestions are for the
effective batch the run will train with.

Suggestions, on the curve without its first tenth and last five points (as fastai):
  suggestion (valley)  fastai's default: about two thirds down the longest descending stretch
  steepest             where the loss falls fastest per decade of LR (over a few points), before
                       the lowest loss (never in the blow-up after it)
  minimum              the LR of the lowest loss, divided by 10
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Generator, Iterator, Sequence

import torch

from workbench.core import catalog
from workbench.core.diagnostics.probe import make_probe, optimizer_step
from workbench.core.spec import ExperimentSpec

__all__ = ["LRFinderResult", "LRFinderError", "LRFinderCancelled", "find_lr", "find_lr_steps", "lr_range_steps",
           "lr_range_test", "suggestions", "valley"]

START_LR, END_LR, STEPS, BETA, DIVERGE = 1e-7, 10.0, 100, 0.98, 4.0


class LRFinderError(ValueError):
    """The range test cannot run for this spec (the message says why and what to do)."""


class LRFinderCancelled(Exception):
    """The range test was stopped before its end (the weights are back as they were)."""
    pass


@dataclass(frozen=True)
class LRFinderResult:
    """A finished range test: the curve (LRs, smoothed and raw losses) and the three suggestions."""
    lrs: list[float]
    losses: list[float]  # smoothed (what the plot shows)
    raw_losses: list[float]
    suggestion: float  # valley
    steepest: float
    minimum: float  # LR of the lowest smoothed loss / 10
    stopped_early: bool  # the loss diverged before the last step
    current_lr: float | None = None  # the spec's optimizer.lr, for comparison

    def to_dict(self) -> dict[str, Any]:
        """Every field, for JSON (`workbench lr-find --json`)."""
        return asdict(self)

    def sweep_range(self) -> tuple[float, float]:
        """[valley / 10, valley × 10]: a log-uniform range for a sweep over optimizer.lr."""
        return self.suggestion / 10, self.suggestion * 10


# ---- suggestions ----------------------------------------------------------------------------------
def valley(lrs: Sequence[float], losses: Sequence[float]) -> int:
    """Index of fastai's 'valley': the longest stretch over which the loss keeps decreasing (a
    longest decreasing subsequence), then a point about two thirds of the way down it."""
    n = len(losses)
    if n < 2:
        return 0
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return min(n - 1, max(0, max_start + int(sections) + int(sections / 2)))


def suggestions(lrs: Sequence[float], losses: Sequence[float]) -> tuple[float, float, float]:
    """(valley, steepest, minimum / 10) from a range test's LRs and smoothed losses."""
    finite = next((i for i, v in enumerate(losses) if not math.isfinite(v)), len(losses))
    lrs, losses = list(lrs[:finite]), list(losses[:finite])
    if not lrs:
        raise LRFinderError("the loss was not finite even at the smallest learning rate; check the data and model "
                            "(run the pre-flight check)")
    skip_start, skip_end = len(lrs) // 10, 5
    if len(lrs) - skip_start - skip_end >= 3:
        lrs, losses = lrs[skip_start:len(lrs) - skip_end], losses[skip_start:len(losses) - skip_end]
    v = lrs[valley(lrs, losses)]
    lowest = min(range(len(losses)), key=losses.__getitem__)
    if lowest >= 1:
        # slope per e-fold of LR over a few points (not neighbours): batch noise in the early,
        # barely averaged part of the curve otherwise wins over the real descent. Only up to the
        # lowest loss: past it the loss blows up, and a fall there (it bouncing back) is no advice
        w = max(1, min(len(lrs) // 20, lowest))
        slopes = [(losses[i + w] - losses[i]) / (math.log(lrs[i + w]) - math.log(lrs[i]))
                  for i in range(lowest - w + 1)]
        steep = lrs[min(range(len(slopes)), key=slopes.__getitem__) + w // 2]
    else:
        steep = lrs[0]
    low = lrs[lowest] / 10
    return v, steep, low


# ---- the test -----------------------------------------------------------------------------------
def lr_range_steps(model: torch.nn.Module, loss_fn: Callable, optimizer: torch.optim.Optimizer,
                   batches: Callable[[int], tuple[torch.Tensor, torch.Tensor]], *, start_lr: float = START_LR,
                   end_lr: float = END_LR, steps: int = STEPS, beta: float = BETA, diverge: float = DIVERGE,
                   grad_clip: float | None = None, accumulate: int = 1,
                   ) -> Generator[tuple[int, int, float, float], None, tuple]:
    """The sweep on `model` as a generator: yields (step, steps, lr, smoothed loss) after every
    step and returns (lrs, smoothed losses, raw losses, stopped early). `batches(i)` gives the
    i-th (inputs, targets); with `accumulate` k, each step takes batches k·i .. k·i + k - 1 as one
    (gradients accumulated, each batch's loss weighted by its share of the rows), as training with
    train.accumulate_batches does. The weights and optimizer state are put back when it ends,
    also when it is closed half-way (a cancelled test)."""
    if not (0 < start_lr < end_lr) or steps < 2:
        raise LRFinderError(f"need 0 < start_lr < end_lr and at least 2 steps (got {start_lr}, {end_lr}, {steps})")
    saved_model = {k: v.detach().clone() for k, v in model.state_dict().items()}
    saved_opt = optimizer.state_dict()
    base = [float(g["lr"]) for g in optimizer.param_groups]
    scale = [b / base[0] if base[0] > 0 else 1.0 for b in base]  # keep per-group LR ratios
    lrs: list[float] = []
    smoothed: list[float] = []
    raw: list[float] = []
    avg, best, stopped = 0.0, math.inf, False
    was_training = model.training
    model.train()
    try:
        for i in range(steps):
            lr = start_lr * (end_lr / start_lr) ** (i / (steps - 1))
            for g, s in zip(optimizer.param_groups, scale):
                g["lr"] = lr * s
            if accumulate > 1:
                value = _accumulated_step(model, loss_fn, optimizer, [batches(accumulate * i + j)
                                                                      for j in range(accumulate)], grad_clip)
            else:
                X, y = batches(i)
                loss = optimizer_step(optimizer, lambda: loss_fn(model(X), y), clip=grad_clip,  # noqa: B023
                                      params=model.parameters())
                value = float(loss.detach())
            avg = beta * avg + (1 - beta) * value
            smooth = avg / (1 - beta ** (i + 1))
            lrs.append(lr)
            raw.append(value)
            smoothed.append(smooth)
            yield i + 1, steps, lr, smooth
            if not math.isfinite(smooth) or (i > 0 and smooth > diverge * best):
                stopped = i < steps - 1
                break
            best = min(best, smooth)
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_opt)
        for g, b in zip(optimizer.param_groups, base):
            g["lr"] = b
        model.train(was_training)
    return lrs, smoothed, raw, stopped


def _accumulated_step(model, loss_fn, optimizer, parts, grad_clip) -> float:
    """One optimizer step over several batches (one backward each, as in training); the loss of
    the rows together."""
    rows = sum(len(X) for X, _y in parts)
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for X, y in parts:
        loss = loss_fn(model(X), y) * (len(X) / rows)
        loss.backward()
        total = total + loss.detach()  # one read-back (a device sync) per step, below
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return float(total)


def lr_range_test(model: torch.nn.Module, loss_fn: Callable, optimizer: torch.optim.Optimizer,
                  batches: Callable[[int], tuple[torch.Tensor, torch.Tensor]], *,
                  progress: Callable[[int, int, float, float], bool | None] | None = None,
                  **options: Any) -> tuple[list[float], list[float], list[float], bool]:
    """lr_range_steps run to its end; `progress(step, steps, lr, smoothed)` may return False to
    cancel (LRFinderCancelled). Returns (lrs, smoothed losses, raw losses, stopped early)."""
    sweep = lr_range_steps(model, loss_fn, optimizer, batches, **options)
    while True:
        try:
            step = next(sweep)
        except StopIteration as end:
            return end.value
        if progress is not None and progress(*step) is False:
            sweep.close()  # puts the weights back
            raise LRFinderCancelled()


def find_lr_steps(spec: ExperimentSpec, *, data: Any = None, base_dir: str | Path | None = None,
                  device: str | None = None, start_lr: float = START_LR, end_lr: float = END_LR,
                  steps: int = STEPS) -> Iterator[tuple[int, int, float, float] | LRFinderResult]:
    """The range test on `spec`'s model (initial weights), data, loss and optimizer, as a
    generator: (step, steps, lr, smoothed loss) after every step, then the LRFinderResult.
    Raises LRFinderError for a full-batch line-search optimizer (LBFGS), DataError / ModelError
    like training."""
    info = catalog.get_entry("optimizer", spec.optimizer.type).info
    if info.get("needs_closure"):
        raise LRFinderError(f"{spec.optimizer.type} takes full-batch steps with its own step-size logic; the LR "
                            "finder needs a mini-batch optimizer (SGD, Adam, ...)")
    probe = make_probe(spec, data, base_dir, device)
    optimizer = probe.optimizer()
    n = len(probe.data.train)
    bs = max(2, min(probe.batch_size, n)) if n > 1 else 1
    g = torch.Generator().manual_seed(spec.train.seed)
    order = torch.randperm(n, generator=g)
    X_all = probe.data.train.X
    y_all = probe.target(probe.data.train.y)
    per_epoch = max(1, n // bs)

    def batches(i: int):
        nonlocal order
        k = i % per_epoch
        if k == 0 and i > 0:
            order = torch.randperm(n, generator=g)
        idx = order[k * bs:(k + 1) * bs]
        return X_all[idx].to(probe.device), y_all[idx].to(probe.device)

    lrs, smoothed, raw, stopped = yield from lr_range_steps(
        probe.model, probe.loss_fn, optimizer, batches, start_lr=start_lr, end_lr=end_lr, steps=steps,
        grad_clip=spec.train.grad_clip, accumulate=spec.train.accumulate_batches)
    v, steep, low = suggestions(lrs, smoothed)
    current = spec.optimizer.params.get("lr")
    yield LRFinderResult(lrs=lrs, losses=smoothed, raw_losses=raw, suggestion=v, steepest=steep, minimum=low,
                         stopped_early=stopped, current_lr=float(current) if current is not None else None)


def find_lr(spec: ExperimentSpec, *, progress: Callable[[int, int, float, float], bool | None] | None = None,
            **options: Any) -> LRFinderResult:
    """find_lr_steps run to its end (options as there); `progress(step, steps, lr, smoothed)`
    may return False to cancel (LRFinderCancelled)."""
    sweep = find_lr_steps(spec, **options)
    for item in sweep:
        if isinstance(item, LRFinderResult):
            return item
        if progress is not None and progress(*item) is False:
            sweep.close()
            raise LRFinderCancelled()
    raise LRFinderError("the range test ended without a result")  # (find_lr_steps always yields one)
