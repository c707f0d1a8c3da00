"""The model half of the pre-flight check, on the real model and data (a fresh copy with the
run's initial weights):

- initial loss against what it should be at the start (the loss of an all-zero output: ln K for
  cross-entropy over K classes, about 1 for squared error on a standardised target);
- every parameter gets a finite, non-zero gradient on one batch;
- the model can overfit one small batch to near-zero loss within ~200 steps (Karpathy's
  "overfit one batch"; Lightning's `overfit_batches`);
- the model does clearly better with the real inputs than with inputs set to zero after a few
  steps (the data reaches the model).
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from workbench.core.diagnostics.probe import Probe, optimizer_step
from workbench.core.diagnostics.results import CheckResult
from workbench.core.spec import OptimizerSpec
from workbench.core.training import build_model, layer_names

__all__ = ["initial_loss", "gradient_flow", "overfit_batch", "input_baseline",
           "OVERFIT_ROWS", "OVERFIT_STEPS", "BASELINE_STEPS"]

OVERFIT_ROWS = 32
OVERFIT_STEPS = 200
NEAR_ZERO = 0.05  # "near-zero": this share of the loss of an all-zero output
BASELINE_STEPS = 60
BASELINE_ROWS = 4096
CLEARLY_BETTER = 0.9  # real inputs must reach below this share of the zero-input loss
FALLBACK_OPTIMIZER = {"type": "Adam", "lr": 3e-3}


def _fmt(x: float) -> str:
    return f"{x:.4g}" if 1e-3 <= abs(x) < 1e5 or x == 0 else f"{x:.2e}"


def _expected_words(probe: Probe, ref: float) -> str:
    meta, loss = probe.data.meta, probe.spec.loss.type
    if meta.task == "classification":
        k = len(meta.class_names) or meta.target_width
        if loss in ("CrossEntropyLoss", "NLLLoss"):
            return f"ln {k} = {ref:.3f} (a uniform guess over {k} classes)"
        if loss == "BCEWithLogitsLoss":
            return f"{ref:.3f} (ln 2 per output: a 50/50 guess)"
        return f"{_fmt(ref)} (the loss of an all-zero output)"
    if loss == "MSELoss":
        return f"{_fmt(ref)}, the mean of y² (the loss of predicting 0; about 1 for a standardised target)"
    return f"{_fmt(ref)} (the loss of predicting 0)"


def _classify(out: torch.Tensor) -> torch.Tensor:
    return (out.reshape(-1) > 0).long() if out.ndim == 2 and out.shape[1] == 1 else out.argmax(1)


def _accuracy(probe: Probe, out: torch.Tensor, y_raw: torch.Tensor) -> float | None:
    if probe.data.meta.task != "classification" or y_raw.ndim != 1:
        return None
    return float((_classify(out).cpu() == y_raw.cpu()).float().mean())


# ---- initial loss -------------------------------------------------------------------------------
def initial_loss(probe: Probe) -> CheckResult:
    """The loss before any training against the loss of an all-zero output (ln K, about 1 for MSE on a
    standardised target); far off names the likely cause."""
    t0 = time.perf_counter()
    X, y = probe.rows("train", 512)
    model = probe.fresh_model()
    model.train()
    with torch.no_grad():
        out = model(X).float()
        loss = float(probe.loss_fn(out, y))
    ref = probe.reference_loss(y, out)
    expected = _expected_words(probe, ref)
    details = {"initial_loss": loss, "expected": ref, "output_std": float(out.std()) if out.numel() > 1 else 0.0}
    head = f"The loss before training is {_fmt(loss)}; expected about {expected}."

    def done(status, message):
        return CheckResult("initial_loss", "Initial loss", status, message, time.perf_counter() - t0, details)

    if not math.isfinite(loss):
        bad_inputs = not bool(torch.isfinite(X).all())
        cause = ("the inputs contain NaN or infinite values: clean the data (data.missing = 'drop' or 'impute')"
                 if bad_inputs else
                 "the outputs overflow at the start: the initial weights or inputs are far too large")
        return done("fail", f"The loss before training is {loss}: {cause}.")
    ratio = loss / ref if ref > 0 else math.inf
    details["ratio"] = ratio
    causes = []
    spread = float(X.float().std(dim=0).max()) if len(X) > 1 else 0.0
    if not probe.spec.data.standardize and spread > 10:
        causes.append(f"the inputs are not standardised (a feature's spread is {_fmt(spread)}): turn on "
                      "data.standardize")
    if probe.data.meta.task == "classification" and details["output_std"] > 2:
        causes.append(f"the outputs start large (standard deviation {details['output_std']:.2g}), so the model "
                      "starts confident and wrong: smaller initial weights in the last layer, or a normalisation "
                      "layer (BatchNorm, LayerNorm) before it")
    if probe.data.meta.task == "regression" and ref > 10:
        causes.append(f"the target is not standardised (its mean square is {_fmt(ref)}): large targets make the "
                      "first gradients huge; turn on data.standardize_target or expect to need a smaller learning rate")
    if ratio > 4:
        likely = "; or ".join(causes) or "large initial weights"
        return done("fail", f"{head} That is {ratio:.0f}× too high: likely {likely}.")
    if ratio > 1.5:
        return done("warn", f"{head} It is {ratio:.1f}× higher than expected: "
                            f"{'; or '.join(causes) or 'the initial weights are somewhat large'}.")
    if ratio < 0.5 and probe.data.meta.task == "classification":
        return done("warn", f"{head} It is lower than chance before any training: check that the loss suits "
                            "the task and that the target does not leak into the inputs.")
    if causes:
        return done("warn", f"{head} Close, but " + "; ".join(causes) + ".")
    return done("pass", head)


# ---- gradient flow ------------------------------------------------------------------------------
def gradient_flow(probe: Probe) -> CheckResult:
    """One backward pass: every trainable parameter must get a finite, non-zero gradient; the layers that
    do not are named."""
    t0 = time.perf_counter()
    X, y = probe.rows("train", max(2, min(probe.batch_size, 256)))
    model = probe.fresh_model()
    model.train()
    model.zero_grad(set_to_none=True)
    loss = probe.loss_fn(model(X), y)
    loss.backward()
    none, zero, bad, frozen = [], [], [], []
    n_params = 0
    for name, module in layer_names(model):
        for pname, p in module.named_parameters():
            label = f"{name} ({pname})"
            if not p.requires_grad:
                frozen.append(label)
                continue
            n_params += 1
            if p.grad is None:
                none.append(label)
            elif not bool(torch.isfinite(p.grad).all()):
                bad.append(label)
            elif not bool(p.grad.ne(0).any()):
                zero.append(label)
    details = {"parameters": n_params, "no_gradient": none, "zero_gradient": zero, "non_finite": bad,
               "frozen": frozen}
    elapsed = time.perf_counter() - t0

    def listed(items):
        return ", ".join(items[:6]) + (f" and {len(items) - 6} more" if len(items) > 6 else "")

    if bad:
        return CheckResult("gradients", "Gradients", "fail",
                           f"Non-finite (NaN/inf) gradients on one batch in {listed(bad)}: the loss "
                           f"({_fmt(float(loss))}) or the inputs overflow. Check the data for extreme values and "
                           "lower the initial weights.", elapsed, details)
    if none or zero:
        parts = []
        if none:
            parts.append(f"no gradient reaches {listed(none)} (the layer is not part of the computation of the loss)")
        if zero:
            parts.append(f"the gradient is exactly zero for {listed(zero)} (every unit before it is inactive on "
                         "this batch, e.g. dead ReLUs, or the output is cut off from the loss)")
        text = "; ".join(parts)
        return CheckResult("gradients", "Gradients", "fail",
                           text[0].upper() + text[1:] + ". Those weights will never change: check the layer "
                           "order and activations (a ReLU right before the output, a Softmax before a "
                           "cross-entropy loss).", elapsed, details)
    extra = f" ({len(frozen)} frozen parameters skipped)" if frozen else ""
    return CheckResult("gradients", "Gradients", "pass",
                       f"All {n_params} parameter tensors get a finite, non-zero gradient on one batch{extra}.",
                       elapsed, details)


# ---- overfit one batch --------------------------------------------------------------------------
def _fit_batch(probe: Probe, X, y, optimizer_spec, steps: int) -> tuple[float, float | None, int, list[float]]:
    """Train a fresh model on one batch; (final loss in eval mode, its accuracy, steps, curve)."""
    model = probe.fresh_model()
    opt = probe.optimizer(optimizer_spec, model)
    clip = probe.spec.train.grad_clip
    ref = probe.reference_loss(y, model(X).detach())
    target = NEAR_ZERO * ref / 4  # train until comfortably below the bar (train mode has dropout)
    curve = []
    model.train()
    step = 0
    for step in range(1, steps + 1):
        loss = optimizer_step(opt, lambda: probe.loss_fn(model(X), y), clip=clip, params=model.parameters())
        value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        curve.append(value)
        if not math.isfinite(value) or value < target:
            break
    # judged in eval mode (dropout off); but BatchNorm's running statistics lag the weights after a
    # few dozen steps on one batch, so train mode (batch statistics) counts too: the better of the two
    y_raw = probe.data.train.y[:len(X)]
    judged = []
    with torch.no_grad():
        for mode in (False, True):
            model.train(mode)
            out = model(X)
            judged.append((float(probe.loss_fn(out, y)), _accuracy(probe, out, y_raw)))
    final, acc = min(judged, key=lambda r: (not math.isfinite(r[0]), -(r[1] or 0), r[0]))
    return final, acc, step, curve


def overfit_batch(probe: Probe, rows: int = OVERFIT_ROWS, steps: int = OVERFIT_STEPS) -> CheckResult:
    """Fit `rows` training rows for up to `steps` steps with the spec's optimizer (then Adam at 3e-3 if
    that fails) and say which of model, loss or optimizer is at fault."""
    t0 = time.perf_counter()
    X, y = probe.rows("train", max(2, rows))
    with torch.no_grad():
        ref = probe.reference_loss(y, probe.fresh_model().eval()(X))
    final, acc, used, curve = _fit_batch(probe, X, y, None, steps)
    details: dict[str, Any] = {"rows": len(X), "steps": used, "final_loss": final, "reference": ref,
                               "accuracy": acc, "curve": curve[:: max(1, len(curve) // 50)]}

    def fitted(loss, accuracy):
        return math.isfinite(loss) and loss <= NEAR_ZERO * ref and (accuracy is None or accuracy >= 1.0)

    def done(status, message):
        return CheckResult("overfit_batch", "Overfit one batch", status, message, time.perf_counter() - t0, details)

    opt_words = f"{probe.spec.optimizer.type} (lr {_fmt(float(probe.spec.optimizer.params.get('lr', 0) or 0))})"
    acc_words = f", {acc:.0%} right" if acc is not None else ""
    if fitted(final, acc):
        details["fitted_by"] = "spec"
        return done("pass", f"Fitted {len(X)} training rows to a loss of {_fmt(final)}{acc_words} in {used} steps "
                            f"with {opt_words}: the model and loss can learn.")
    fallback = OptimizerSpec(**FALLBACK_OPTIMIZER)
    f_final, f_acc, f_used, _ = _fit_batch(probe, X, y, fallback, steps)
    details.update(fallback_loss=f_final, fallback_accuracy=f_acc, fallback_steps=f_used)
    fell = (f"the loss went from {_fmt(curve[0])} to {_fmt(final)}{acc_words}" if curve and math.isfinite(final)
            else f"the loss became {final}")
    if fitted(f_final, f_acc):
        details["fitted_by"] = "fallback"
        finite = [v for v in curve if math.isfinite(v)]
        # too high: NaN, a loss that ends above where it started, spikes, or one that fell and came back up
        unstable = (not math.isfinite(final) or not finite or final > finite[0] or max(finite) > 1.5 * finite[0]
                    or min(finite) < 0.5 * final)
        why = ("it jumps around or diverges, so the learning rate is likely too high" if unstable
               else "it is still going down slowly, so the learning rate is likely too low")
        return done("warn", f"With {opt_words} the model could not fit {len(X)} rows in {steps} steps ({fell}; "
                            f"{why}), but Adam at lr 3e-3 did (loss {_fmt(f_final)} in {f_used} steps): the model "
                            "can learn; the optimizer settings are the problem. Try Find LR.")
    n_params = sum(p.numel() for p in probe.model.parameters() if p.requires_grad)
    tail = curve[-20:]
    settled = (len(curve) >= 40 and all(math.isfinite(v) for v in tail)
               and max(tail) - min(tail) <= 0.02 * max(abs(min(tail)), 1e-12))
    if n_params < y.numel() and settled and final <= 0.25 * ref:
        # fewer weights than numbers to fit: zero loss is out of reach by counting alone (a linear
        # model on a noisy target); what it can show is that it learned and settled
        return done("warn", f"The model has {n_params} trainable parameters for the {y.numel()} target values of "
                            f"{len(X)} rows, so it cannot memorise them: it settled at a loss of {_fmt(final)} "
                            f"({final / ref:.0%} of the loss of predicting 0) and stopped improving. If the target "
                            "is noisy that is the best a model this size can do; if not, give it more units or "
                            "layers.")
    reg = []
    for layer in probe.spec.model.layers:
        if layer.type.startswith("Dropout") and layer.params.get("p", 0) >= 0.5:
            reg.append(f"{layer.type} p={layer.params['p']}")
    wd = probe.spec.optimizer.params.get("weight_decay", 0) or 0
    if wd >= 0.1:
        reg.append(f"weight decay {wd}")
    hints = ["a model too small or too constrained for the data (more units or layers)",
             "a last layer or loss that does not match the target"]
    if reg:
        hints.insert(0, "strong regularisation (" + ", ".join(reg) + ")")
    hints[:0] = _setup_problems(probe, X)
    return done("fail", f"The model could not fit {len(X)} training rows in {steps} steps ({fell}), not even with "
                        f"Adam at lr 3e-3 (loss {_fmt(f_final)}). If it cannot memorise a handful of rows it cannot "
                        f"learn the data. Likely: {'; '.join(hints)}; or identical inputs with different labels.")


def _setup_problems(probe: Probe, X: torch.Tensor) -> list[str]:
    """What in the spec itself keeps a model from fitting: inputs left unstandardised with a large
    spread, and the model's own notes on its last layer (a Softmax or ReLU before a loss that wants
    raw scores)."""
    found = []
    spread = float(X.float().std(dim=0).max()) if len(X) > 1 else 0.0
    if not probe.spec.data.standardize and spread > 10:
        found.append(f"inputs that are not standardised (a feature's spread is {_fmt(spread)}): turn on "
                     "data.standardize")
    _model, summary = build_model(probe.spec, probe.data.meta)
    found += [note[0].lower() + note[1:] for note in summary.notes if "ends the model" in note]
    return found


# ---- input-independent baseline ----------------------------------------------------------------
def input_baseline(probe: Probe, steps: int = BASELINE_STEPS, overfit: CheckResult | None = None) -> CheckResult:
    """Train one copy on the real inputs and one on zeroed inputs for a few steps; the real inputs must do
    clearly better. `overfit`: the overfit-one-batch result, when it ran; a model that memorised a
    batch took its inputs in, so a slow start is then not called "the inputs do not help"."""
    t0 = time.perf_counter()
    n = min(len(probe.data.train), BASELINE_ROWS)
    X, y = probe.rows("train", n)
    split = "val" if len(probe.data.val) else "train"
    Xe, ye = probe.rows(split, 2048)
    bs = max(2, min(probe.batch_size, n))
    real, blind = probe.fresh_model(), probe.fresh_model()
    opt_real, opt_blind = probe.optimizer(model=real), probe.optimizer(model=blind)
    clip = probe.spec.train.grad_clip
    g = torch.Generator().manual_seed(probe.spec.train.seed)
    order = torch.randperm(n, generator=g).to(probe.device)

    def evaluate(model, inputs):
        model.eval()
        with torch.no_grad():
            value = float(probe.loss_fn(model(inputs), ye))
        model.train()
        return value

    start = evaluate(real, Xe)
    real.train()
    blind.train()
    for step in range(steps):
        a = (step * bs) % n
        idx = order[a:a + bs] if a + bs <= n else order[:bs]
        for model, opt, inputs in ((real, opt_real, X[idx]), (blind, opt_blind, torch.zeros_like(X[idx]))):
            optimizer_step(opt, lambda: probe.loss_fn(model(inputs), y[idx]),  # noqa: B023 (used at once)
                           clip=clip, params=model.parameters())
    with_inputs, without = evaluate(real, Xe), evaluate(blind, torch.zeros_like(Xe))
    details = {"steps": steps, "loss_with_inputs": with_inputs, "loss_inputs_zeroed": without, "start": start,
               "evaluated_on": split}
    elapsed = time.perf_counter() - t0
    where = "validation" if split == "val" else "training"
    nums = (f"after {steps} steps the {where} loss is {_fmt(with_inputs)} with the real inputs and "
            f"{_fmt(without)} with every input set to zero")
    if math.isfinite(with_inputs) and math.isfinite(without) and with_inputs < CLEARLY_BETTER * without:
        return CheckResult("input_baseline", "Inputs matter", "pass",
                           f"The data reaches the model: {nums}.", elapsed, details)
    if not math.isfinite(with_inputs):
        return CheckResult("input_baseline", "Inputs matter", "warn",
                           f"Training with {probe.spec.optimizer.type} diverged within {steps} steps (the {where} "
                           f"loss became {with_inputs}), so it cannot show whether the inputs help: the learning "
                           "rate is likely too high (try Find LR) or the inputs are too large (data.standardize).",
                           elapsed, details)
    if math.isfinite(with_inputs) and abs(with_inputs - start) < 0.02 * max(abs(start), 1e-12):
        return CheckResult("input_baseline", "Inputs matter", "warn",
                           f"The model learned nothing in {steps} steps (the loss stayed at {_fmt(start)}), so it "
                           "cannot show whether the inputs help: the learning rate is likely too low (try Find LR).",
                           elapsed, details)
    fitted_by = (overfit.details.get("fitted_by") if overfit is not None else None)
    if fitted_by:
        lr_words = ("fix the optimizer settings as Overfit one batch says (try Find LR)" if fitted_by == "fallback"
                    else "it needs more steps, or another learning rate (try Find LR)")
        return CheckResult("input_baseline", "Inputs matter", "warn",
                           f"Not clearly yet: {nums}. The inputs do reach the model (it memorised a batch in "
                           f"Overfit one batch), so this is a slow start: {lr_words}. If a full run also stays "
                           "near the zero-input loss, the features carry little that holds for new rows.",
                           elapsed, details)
    setup = _setup_problems(probe, X)
    likely = (f"Likely: {'; '.join(setup)}. Otherwise the" if setup else "The")
    return CheckResult("input_baseline", "Inputs matter", "warn",
                       f"The inputs do not help: {nums}. The model learns only the target's average. {likely} "
                       "features may carry no information about the target (wrong target column, shuffled labels, "
                       "inputs not reaching the model), or it needs many more steps.", elapsed, details)
