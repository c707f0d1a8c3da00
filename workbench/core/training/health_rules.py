"""The health monitor's judgements, in plain words: exploding and vanishing gradients, dead ReLU
units, a loss plateau under a tiny learning rate, and overfitting judged on smoothed curves.

Pure Python (no torch): the app draws the overfitting mark with `judge_overfitting` before torch
is loaded. `HealthRules` turns HealthSamples and epoch logs into HealthAlerts; each kind of alert
is raised once (per layer where it names one), except exploding gradients (at most once an epoch)
and a plateau (again after the learning rate changes).
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass
from typing import Sequence

from workbench.core.training.events import HealthAlert, HealthSample

__all__ = [
    "HealthRules", "Overfitting", "judge_overfitting", "smooth",
    "EXPLODE_FACTOR", "EXPLODE_MIN_NORM", "VANISH_RATIO", "DEAD_FRACTION", "HEALTHY_UPDATE_RATIO",
]

EXPLODE_FACTOR = 10.0  # total gradient norm above this many times its running median
# ... and above this absolute size: a healthy run whose norm wanders between 0.05 and 4 jumps ten
# times its median now and then, and clipping at 1.0 (the usual advice) would not change that
EXPLODE_MIN_NORM = 10.0
EXPLODE_MIN_SAMPLES = 5  # samples needed before a median means anything
VANISH_RATIO = 1e-3  # first layer's gradient norm below this share of the last layer's
# A ReLU layer with more than this share of units dead. Dead is measured on a sample of 32 rows, so a
# unit that fires only for a small region of the inputs counts as dead too: the Spiral sample's default
# MLP shows 58-59 % in its second ReLU from the first step while it learns to 100 % accuracy. A dying
# network (too high a learning rate) goes far beyond that.
DEAD_FRACTION = 0.75
PERSIST = 3  # samples in a row a vanishing / dead condition must hold
PLATEAU_EPOCHS = 5
PLATEAU_CHANGE = 0.01  # relative change of the training loss over PLATEAU_EPOCHS
TINY_LR = 1e-5
TINY_UPDATE_RATIO = 1e-5  # updates this small against the weights move nothing
HEALTHY_UPDATE_RATIO = 1e-3
JUDGE_EVERY_EPOCH = 64  # the overfitting rule looks at every epoch up to this many, then more sparsely


def _fmt(x: float) -> str:
    """Plain where it fits ('0.0005', '2.5'), powers of ten only beyond ('3e-7', '1.2e5')."""
    text = f"{x:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


# ---- overfitting on smoothed curves -----------------------------------------------------------
@dataclass(frozen=True)
class Overfitting:
    """Validation loss has stayed clearly above its best while the training loss kept falling."""

    since_epoch: int  # first epoch of the sustained rise
    best_epoch: int  # the epoch with the lowest validation loss (the one to keep)


def smooth(values: Sequence[float], beta: float = 0.6) -> list[float]:
    """Debiased exponential moving average (as TensorBoard's smoothing): NaNs are skipped."""
    out: list[float] = []
    avg, weight = 0.0, 0.0
    for v in values:
        if math.isfinite(v):
            avg = beta * avg + (1 - beta) * v
            weight = beta * weight + (1 - beta)
        out.append(avg / weight if weight > 0 else math.nan)
    return out


def _noise(values: Sequence[float]) -> float:
    """Robust size of the epoch-to-epoch noise around the curve's trend: from the median absolute
    second difference (a smooth trend has almost none; white noise of σ gives σ·√6)."""
    d2 = [abs(c - 2 * b + a) for a, b, c in zip(values, values[1:], values[2:])
          if math.isfinite(a) and math.isfinite(b) and math.isfinite(c)]
    return 1.4826 * statistics.median(d2) / math.sqrt(6) if d2 else 0.0


def judge_overfitting(epochs: Sequence[int], train_loss: Sequence[float], val_loss: Sequence[float],
                      *, patience: int = 3, margin: float = 0.02) -> Overfitting | None:
    """Overfitting, judged on smoothed curves so noisy real curves are not flagged by chance:
    the smoothed validation loss has stayed above its minimum by more than `margin` (relative,
    and at least three times the curve's own epoch-to-epoch noise) for the last `patience` epochs, while the
    smoothed training loss is still lower than it was at that minimum. None otherwise."""
    n = min(len(epochs), len(train_loss), len(val_loss))
    if n < patience + 2:
        return None
    sv, st = smooth(val_loss[:n]), smooth(train_loss[:n])
    finite = [i for i in range(n) if math.isfinite(sv[i])]
    if not finite:
        return None
    b = min(finite, key=lambda i: sv[i])
    if n - 1 - b < patience:
        return None
    # the smoothed minimum of a noisy flat curve sits ~1.25σ below its mean by chance; 3σ above it
    # keeps pure noise from looking like a rise (σ: the raw curve's epoch-to-epoch noise)
    threshold = sv[b] + max(margin * abs(sv[b]), 3.0 * _noise(val_loss[:n]), 1e-12)
    above = {i for i in range(b + 1, n) if math.isfinite(sv[i]) and sv[i] > threshold}
    # the rise must be unbroken up to now, for at least `patience` epochs
    since = n
    while since - 1 > b and (since - 1) in above:
        since -= 1
    if n - since < patience:
        return None
    if not (math.isfinite(st[-1]) and math.isfinite(st[b]) and st[-1] < st[b] - margin / 2 * abs(st[b])):
        return None
    raw = [i for i in range(n) if math.isfinite(val_loss[i])]
    best = min(raw, key=lambda i: val_loss[i])
    return Overfitting(since_epoch=int(epochs[since]), best_epoch=int(epochs[best]))


# ---- the rules ----------------------------------------------------------------------------------
class HealthRules:
    """Watches samples and epochs; returns the alerts they call for."""

    def __init__(self, grad_clip: float | None = None) -> None:
        self.grad_clip = grad_clip
        self.norms: deque[float] = deque(maxlen=50)
        self.raised: set[tuple[str, str]] = set()
        self.exploded_in_epoch = 0
        self.vanish_streak = 0
        self.dead_streak: dict[str, int] = {}
        self.epochs: list[int] = []
        self.train_loss: list[float] = []
        self.val_loss: list[float] = []
        self.update_ratios: deque[float] = deque(maxlen=20)
        self.plateau_from_epoch = 0  # epochs before this do not count (an LR change re-arms)

    def _once(self, kind: str, layer: str = "") -> bool:
        if (kind, layer) in self.raised:
            return False
        self.raised.add((kind, layer))
        return True

    # ---- per sample ---------------------------------------------------------------------------
    def on_sample(self, s: HealthSample) -> list[HealthAlert]:
        """Alerts that one more sample calls for: exploding or vanishing gradients, dead units."""
        alerts = []
        alerts += self._exploding(s)
        alerts += self._vanishing(s)
        alerts += self._dead(s)
        ratios = [r for r in s.update_ratio if math.isfinite(r) and r > 0]
        if ratios:
            self.update_ratios.append(statistics.median(ratios))
        return alerts

    def _exploding(self, s: HealthSample) -> list[HealthAlert]:
        norm = s.total_grad_norm
        out = []
        if len(self.norms) >= EXPLODE_MIN_SAMPLES and math.isfinite(norm):
            median = statistics.median(self.norms)
            if (median > 0 and norm > max(EXPLODE_FACTOR * median, EXPLODE_MIN_NORM)
                    and self.exploded_in_epoch != s.epoch):
                self.exploded_in_epoch = s.epoch
                clip = (f"Gradient clipping at {_fmt(self.grad_clip)} is limiting the step"
                        if self.grad_clip else "Enable gradient clipping (train.grad_clip, e.g. 1.0)")
                out.append(HealthAlert(
                    kind="exploding", epoch=s.epoch, step=s.step, value=norm / median,
                    message=(f"Exploding gradients: the gradient norm jumped to {_fmt(norm)}, "
                             f"{norm / median:.0f}× its recent median ({_fmt(median)}). {clip}, or lower the "
                             f"learning rate (now {_fmt(s.lr)})."),
                ))
        if math.isfinite(norm):
            self.norms.append(norm)
        return out

    def _vanishing(self, s: HealthSample) -> list[HealthAlert]:
        with_params = [i for i, g in enumerate(s.grad_norm) if math.isfinite(g)]
        if len(with_params) < 2:
            return []
        first, last = with_params[0], with_params[-1]
        g_first, g_last = s.grad_norm[first], s.grad_norm[last]
        if g_last > 0 and g_first < VANISH_RATIO * g_last:
            self.vanish_streak += 1
        else:
            self.vanish_streak = 0
        if self.vanish_streak < PERSIST or not self._once("vanishing"):
            return []
        return [HealthAlert(
            kind="vanishing", epoch=s.epoch, step=s.step, layer=s.layers[first], value=g_first / g_last,
            message=(f"Vanishing gradients: the first layer ({s.layers[first]}) gets a gradient of "
                     f"{_fmt(g_first)}, under 1/1000 of the last layer's ({_fmt(g_last)}), so the early "
                     "layers barely learn. Use ReLU-family activations instead of Sigmoid/Tanh, add "
                     "BatchNorm or LayerNorm, use a Residual block, or use fewer layers."),
        )]

    def _dead(self, s: HealthSample) -> list[HealthAlert]:
        out = []
        for layer, dead in zip(s.layers, s.dead_fraction):
            if not math.isfinite(dead):
                continue
            streak = self.dead_streak.get(layer, 0) + 1 if dead > DEAD_FRACTION else 0
            self.dead_streak[layer] = streak
            if streak >= PERSIST and self._once("dead_units", layer):
                out.append(HealthAlert(
                    kind="dead_units", epoch=s.epoch, step=s.step, layer=layer, value=dead,
                    message=(f"Dead units: {dead:.0%} of the units of layer {layer} output zero for every "
                             "sample of the batch (dead ReLUs); they get no gradient and stop learning. Lower "
                             f"the learning rate (now {_fmt(s.lr)}), use LeakyReLU or ELU, or add BatchNorm "
                             "before the activation."),
                ))
        return out

    # ---- per epoch ------------------------------------------------------------------------------
    def on_lr_changed(self, epoch: int) -> None:
        """A person changed the learning rate: the plateau rule starts counting afresh."""
        self.plateau_from_epoch = epoch
        self.raised.discard(("plateau", ""))

    def on_epoch(self, epoch: int, step: int, logs: dict[str, float], lr: float) -> list[HealthAlert]:
        """Alerts that an epoch's logs call for: a plateau under a tiny learning rate, overfitting."""
        self.epochs.append(epoch)
        self.train_loss.append(float(logs.get("loss", math.nan)))
        self.val_loss.append(float(logs.get("val_loss", math.nan)))
        return self._plateau(epoch, step, lr) + self._overfitting(epoch, step)

    def _plateau(self, epoch: int, step: int, lr: float) -> list[HealthAlert]:
        recent = [(e, v) for e, v in zip(self.epochs, self.train_loss) if e > self.plateau_from_epoch]
        if len(recent) < PLATEAU_EPOCHS + 1:
            return []
        a, b = recent[-PLATEAU_EPOCHS - 1][1], recent[-1][1]
        if not (math.isfinite(a) and math.isfinite(b)) or abs(a - b) > PLATEAU_CHANGE * max(abs(a), 1e-12):
            return []
        ratio = statistics.median(self.update_ratios) if self.update_ratios else math.nan
        tiny_lr = lr < TINY_LR
        tiny_updates = math.isfinite(ratio) and ratio < TINY_UPDATE_RATIO
        if not (tiny_lr or tiny_updates) or not self._once("plateau"):
            return []
        moves = (f"; each step moves the weights by {_fmt(ratio)} of their size (healthy is about 1e-3)"
                 if math.isfinite(ratio) else "")
        suggested = lr * (HEALTHY_UPDATE_RATIO / ratio if tiny_updates and ratio > 0 else 10.0)
        suggested = min(suggested, lr * 1000.0)
        return [HealthAlert(
            kind="plateau", epoch=epoch, step=step, value=ratio if math.isfinite(ratio) else 0.0,
            suggested_lr=suggested,
            # (a learning rate of 0.1 whose steps barely move the weights is not "tiny" itself)
            message=(f"Loss plateau: the training loss moved less than {PLATEAU_CHANGE:.0%} in "
                     f"{PLATEAU_EPOCHS} epochs ({_fmt(a)} → {_fmt(b)}) and "
                     + (f"the learning rate is tiny ({_fmt(lr)}{moves})" if tiny_lr else
                        f"the updates are tiny at a learning rate of {_fmt(lr)}{moves}")
                     + f". Raise it, to about {_fmt(suggested)}, or run Find LR."),
        )]

    def _overfitting(self, epoch: int, step: int) -> list[HealthAlert]:
        if ("overfitting", "") in self.raised:
            return []
        n = len(self.epochs)
        if n > JUDGE_EVERY_EPOCH and n % (n // JUDGE_EVERY_EPOCH):
            return []  # judging costs O(epochs): on a long run, every (epochs / 64)-th epoch keeps it O(64)
        found = judge_overfitting(self.epochs, self.train_loss, self.val_loss)
        if found is None or not self._once("overfitting"):
            return []
        return [HealthAlert(
            kind="overfitting", epoch=epoch, step=step, best_epoch=found.best_epoch, value=found.since_epoch,
            message=(f"Overfitting: the validation loss has stayed above its best (epoch {found.best_epoch}) "
                     f"since epoch {found.since_epoch} while the training loss keeps falling. Keep the "
                     "weights of the best epoch (early stopping with train.early_stopping.restore_best), add regularisation "
                     "(Dropout, weight decay), get more data, or use a smaller model."),
        )]
