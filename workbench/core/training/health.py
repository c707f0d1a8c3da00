"""The health monitor: per-layer statistics sampled while training, and alerts in plain words.

Every sampled optimizer step it measures, for each of the model's top-level layers:
  grad_norm      ‖g‖ over the layer's parameters (after clipping, as the optimizer sees it)
  update_ratio   ‖Δw‖ / ‖w‖ of that step, w before it (about 1e-3 is healthy: Karpathy, CS231n)
  act_mean/std   mean and standard deviation of the layer's output (on up to 32 samples of the batch)
  dead_fraction  ReLU layers: the share of units (features, or channels of an image) that output
                 zero for every sample of the batch
and the total gradient norm (before clipping when train.grad_clip is set). The samples become
HealthSample events (the run store keeps them with the run); HealthRules turns them and the
epochs into HealthAlert events.

It observes the run through the optimizer's step hooks and, on a sampled step only, forward
hooks it adds for that one forward pass, so the training loop is not changed. Between samples
each step costs two Python calls that compare a counter. Samples are spaced so that their measured
cost stays near `cost` (1 %) of the training time ("auto"; the first samples, the hooks between
samples and handing samples on come on top: benchmarks/health_monitor_cost.py measures it all), at most 1/`min_gap` (50) a second, and thinner
as a long run goes on (at most about `MAX_SAMPLES_PER_LOG` per e-fold of elapsed time), so the
store stays small. A fixed `every` samples every N optimizer steps.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import deque
from typing import Any

import torch
from torch import nn

from workbench.core.training.callback import Callback, RunContext
from workbench.core.training.events import HealthSample, LRChanged
from workbench.core.training.health_rules import HealthRules

__all__ = ["HealthMonitor", "layer_names"]

DEFAULT_COST = 0.01
CALIBRATION_STEPS = 10  # after the first sample, steps timed to learn the step time
MIN_GAP_S = 0.02
MAX_SAMPLES_PER_LOG = 1000  # gap >= elapsed / this: about this many samples per e-fold of time
DEAD_TYPES = (nn.ReLU, nn.ReLU6)  # outputs >= 0: a unit is dead when its largest output is 0
ACT_ROWS = 32  # activation mean and std are estimated from this many samples of the batch


def layer_names(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's top-level layers as ("1 Linear", module), numbered from 1 like the layer stack."""
    return [(f"{i} {type(m).__name__}", m) for i, m in enumerate(model.children(), 1)]


class HealthMonitor(Callback):
    """The callback that samples per-layer health during training and turns samples and epochs into alerts
    (see the module doc)."""
    def __init__(self, every: int | str = "auto", *, cost: float = DEFAULT_COST, min_gap: float = MIN_GAP_S,
                 alerts: bool = True) -> None:
        self.fixed = every if isinstance(every, int) else None
        self.cost = cost
        self.min_gap = min_gap
        self.alerts = alerts
        self.samples: list[HealthSample] = []  # kept for callers that run train() in-process
        self._hooks: list[Any] = []
        self._fwd: list[Any] = []

    # ---- setup / teardown -------------------------------------------------------------------
    def on_run_start(self, run: RunContext, event) -> None:
        self.run = run
        self.rules = HealthRules(run.spec.train.grad_clip)
        layers = layer_names(run.model)
        self.names = [n for n, _ in layers]
        self.modules = [m for _, m in layers]
        # every parameter (a frozen layer may be unfrozen later); frozen ones are left out per sample
        self.params = [list(m.parameters()) for m in self.modules]
        self.flat = [p for ps in self.params for p in ps]
        self.dead_layers = {i for i, m in enumerate(self.modules) if isinstance(m, DEAD_TYPES)}
        self.steps = 0  # optimizer steps seen by this monitor
        self.start_step = run.step  # > 0 when the run continues from a checkpoint
        self.next_sample = 1
        self.step_time = 0.0  # seconds per optimizer step, measured between samples
        self._calibrate_at = -1
        self._costs: deque[float] = deque(maxlen=5)
        self._t_start = self._t_last = time.perf_counter()
        self._steps_last = 0
        self._before: list[torch.Tensor] | None = None
        self._acts: list[torch.Tensor | None] = []
        self._spent = 0.0
        opt = run.optimizer
        self._hooks = [opt.register_step_pre_hook(self._pre_step), opt.register_step_post_hook(self._post_step)]
        self._arm()

    def on_run_end(self, run, event) -> None:
        self._disarm()
        for h in self._hooks:
            h.remove()
        self._hooks = []

    def on_event(self, run, event) -> None:
        if isinstance(event, LRChanged):
            self.rules.on_lr_changed(event.epoch)

    # ---- forward hooks, present only for the sampled step's forward pass ---------------------
    def _arm(self) -> None:
        self._acts = [None] * len(self.modules)
        self._fwd = [m.register_forward_hook(self._capture(i)) for i, m in enumerate(self.modules)]

    def _disarm(self) -> None:
        for h in self._fwd:
            h.remove()
        self._fwd = []

    def _capture(self, i: int):
        dead = i in self.dead_layers

        def hook(module, inputs, output):
            if not module.training or self._acts[i] is not None or not isinstance(output, torch.Tensor):
                return
            t0 = time.perf_counter()
            with torch.no_grad():
                out = output.detach()
                # mean and std from the first ACT_ROWS samples, as two float64 sums (std_mean's
                # two passes cost 5x more: 16 ms on a 128x32x28x28 activation on one CPU thread)
                rows = (out[:ACT_ROWS] if out.ndim >= 2 else out).float()
                n = rows.numel()
                total = rows.sum(dtype=torch.float64)
                mean = total / max(n, 1)
                if n > 1:
                    var = (rows.square().sum(dtype=torch.float64) - total * mean) / (n - 1)
                    std = var.clamp_min(0).sqrt()
                else:
                    std = mean * 0
                if dead and out.ndim >= 2:
                    # a unit (feature, or channel of an image) is dead when it is 0 for every sample
                    # of the whole batch; ReLU outputs are >= 0, so when its largest output is 0
                    peak = out.flatten(2).amax(2) if out.ndim > 2 else out
                    dead_share = peak.amax(0).eq(0).float().mean()
                else:
                    dead_share = torch.full((), math.nan, device=out.device)
                self._acts[i] = torch.stack([mean.float(), std.float(), dead_share])
            self._spent += time.perf_counter() - t0

        return hook

    # ---- optimizer hooks ------------------------------------------------------------------------
    def _pre_step(self, optimizer, args, kwargs) -> None:
        if self.steps + 1 != self.next_sample:
            return
        t0 = time.perf_counter()
        with torch.no_grad():
            self._before = [p.detach().clone() for p in self.flat]
        self._spent += time.perf_counter() - t0

    def _post_step(self, optimizer, args, kwargs) -> None:
        self.steps += 1
        if self.steps == self.next_sample and self._before is not None:
            self._sample()
        elif self.steps + 1 == self.next_sample:
            self._arm()
        elif self.steps == self._calibrate_at:
            self._calibrate()

    def _sample(self) -> None:
        t0 = time.perf_counter()
        self._disarm()
        with torch.no_grad():
            values = self._measure()
        self._before = None
        sample = self._make_sample(values)
        self.samples.append(sample)
        self.run.emit(sample)
        if self.alerts:
            for alert in self.rules.on_sample(sample):
                self.run.emit(alert)
        self._spent += time.perf_counter() - t0
        self._schedule_next()
        if self.steps + 1 == self.next_sample:
            self._arm()

    def _measure(self) -> list[float]:
        """Every number of a sample in one tensor, read back with one device sync: per parameter
        ‖g‖, ‖Δw‖, ‖w‖ before the step (one fused norm each); per layer mean, std, dead; the pre-clip norm."""
        dev = self.flat[0].device if self.flat else torch.device("cpu")
        parts: list[torch.Tensor] = []
        if self.flat:
            grads = [p.grad.detach() if p.grad is not None else torch.zeros_like(p) for p in self.flat]
            deltas = torch._foreach_sub([p.detach() for p in self.flat], self._before)
            for tensors in (grads, deltas, self._before):
                parts.append(torch.stack(torch._foreach_norm(tensors)).float())
        nan3 = torch.full((3,), math.nan, device=dev)
        parts += [a.to(dev) if a is not None else nan3 for a in self._acts]
        clip = getattr(self.run, "grad_norm_before_clip", None)
        parts.append(clip.detach().float().reshape(1).to(dev) if isinstance(clip, torch.Tensor)
                     else torch.full((1,), math.nan, device=dev))
        return torch.cat([x.reshape(-1) for x in parts]).tolist()

    def _make_sample(self, values: list[float]) -> HealthSample:
        n_params = len(self.flat)
        g_norms, d_norms, w_norms = (values[j * n_params:(j + 1) * n_params] for j in range(3))
        per_param = [(g * g, d * d, w * w) for g, d, w in zip(g_norms, d_norms, w_norms)]
        offset = 3 * n_params
        grad, update, act_mean, act_std, dead = [], [], [], [], []
        k = 0
        total_g2 = 0.0
        for i, ps in enumerate(self.params):
            rows = [r for r, p in zip(per_param[k:k + len(ps)], ps) if p.requires_grad]
            k += len(ps)
            if rows:
                g2 = sum(r[0] for r in rows)
                total_g2 += g2
                w2 = sum(r[2] for r in rows)
                grad.append(math.sqrt(g2))
                update.append(math.sqrt(sum(r[1] for r in rows)) / math.sqrt(w2) if w2 > 0 else math.nan)
            else:
                grad.append(math.nan)
                update.append(math.nan)
            m, s, d = values[offset + 3 * i: offset + 3 * i + 3]
            act_mean.append(m)
            act_std.append(s)
            dead.append(d)
        before_clip = values[-1]
        total = before_clip if math.isfinite(before_clip) else math.sqrt(total_g2)
        run = self.run
        return HealthSample(epoch=run.epoch + 1, step=self.start_step + self.steps, layers=list(self.names),
                            grad_norm=grad, update_ratio=update, act_mean=act_mean, act_std=act_std,
                            dead_fraction=dead, total_grad_norm=total, lr=run.lr)

    def _schedule_next(self) -> None:
        now = time.perf_counter()
        steps = self.steps - self._steps_last
        if steps >= CALIBRATION_STEPS and self._steps_last > 0:
            # time per step between the last two samples, less what sampling itself cost
            self.step_time = max(1e-7, (now - self._t_last - self._spent) / steps)
        self._t_last, self._steps_last = now, self.steps
        self._last_cost, self._spent = self._spent, 0.0
        if self.fixed is not None:
            self.next_sample = self.steps + self.fixed
        elif self.step_time <= 0:  # the first sample: time a few plain steps before planning
            self._calibrate_at = self.steps + CALIBRATION_STEPS
            self.next_sample = -1
        else:
            self._plan(now)

    def _calibrate(self) -> None:
        """The step time is known: sample the next step too. The first sample paid for first
        calls (allocations, kernels loaded); this one's cost plans the rest."""
        now = time.perf_counter()
        self.step_time = max(1e-7, (now - self._t_last) / CALIBRATION_STEPS)
        self._t_last, self._steps_last = now, self.steps
        self.next_sample = self.steps + 1
        self._arm()

    def _plan(self, now: float) -> None:
        """The next sampled step: the last sample's cost stays `cost` of the steps in between."""
        self._costs.append(self._last_cost)
        cost = statistics.median(self._costs)  # one slow sample (a GC pause, a busy machine) is not the rule
        gap = max(self.min_gap, (now - self._t_start) / MAX_SAMPLES_PER_LOG)
        every = max(cost / (self.cost * self.step_time), gap / self.step_time, 1.0)
        self.next_sample = self.steps + int(math.ceil(every))

    # ---- epochs -----------------------------------------------------------------------------------
    def on_epoch_end(self, run, epoch, logs) -> None:
        if self.alerts:
            for alert in self.rules.on_epoch(epoch, run.step, logs, run.lr):
                run.emit(alert)
