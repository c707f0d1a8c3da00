"""Optimizer entries and `make_optimizer`.

Adam-style betas are two parameters, beta1 and beta2, mapped to PyTorch's `betas=(beta1, beta2)`.
info["state"](params) is the number of parameter-sized tensors the optimizer keeps per weight
(for the memory estimate). LBFGS has info["full_batch"] (the trainer uses one batch of all
training data) and info["needs_closure"] (the trainer calls `optimizer.step(closure)`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.catalog.registry import Entry, Param, register

if TYPE_CHECKING:
    import torch


def _optim(name: str):
    """torch.optim.<name>, imported when the first optimizer is built (the palette itself must
    import without torch, which takes seconds)."""
    import torch.optim

    return getattr(torch.optim, name)


def _lr(default: float) -> Param:
    return Param("lr", "float", default, "learning rate: the step size", 1e-6, 10.0, log=True)


_WD = Param("weight_decay", "float", 0.0, "L2 penalty on the weights", 0.0, 1.0)
_EPS = Param("eps", "float", 1e-8, "added to the denominator for numerical stability", 1e-12, 1e-2, log=True)
_B1 = Param("beta1", "float", 0.9, "decay of the running mean of gradients (betas[0])", 0.0, 0.9999)
_B2 = Param("beta2", "float", 0.999, "decay of the running mean of squared gradients (betas[1])", 0.0, 0.99999)


def _with_betas(name: str):
    def make(p, parameters):
        p = dict(p)
        p["betas"] = (p.pop("beta1"), p.pop("beta2"))
        return _optim(name)(parameters, **p)

    return make


def _plain(name: str):
    def make(p, parameters):
        return _optim(name)(parameters, **p)

    return make


def make_lbfgs(p, parameters):
    p = dict(p)
    p["line_search_fn"] = None if p["line_search_fn"] == "none" else p["line_search_fn"]
    return _optim("LBFGS")(parameters, **p)


def _check_sgd(p):
    if p["nesterov"] and (p["momentum"] <= 0 or p["dampening"] != 0):
        return [("nesterov", "Nesterov momentum needs momentum > 0 and dampening 0")]
    return []


def _opt(name, help_, params, factory, state, **info):
    register(Entry(name=name, kind="optimizer", group="Optimizer", help=help_, params=tuple(params),
                   factory=factory, info={"state": state, "full_batch": False, "needs_closure": False, **info}))


_opt("SGD", "Stochastic gradient descent, optionally with (Nesterov) momentum",
     (_lr(0.01), Param("momentum", "float", 0.0, "fraction of the previous step kept", 0.0, 0.9999),
      Param("dampening", "float", 0.0, "reduces the gradient's share of the momentum", 0.0, 1.0),
      Param("nesterov", "bool", False, "Nesterov momentum (needs momentum > 0, dampening 0)"), _WD),
     _plain("SGD"), lambda p: 1 if p["momentum"] > 0 else 0, check=_check_sgd)
_opt("Adam", "Adaptive moments; a good default", (_lr(0.001), _B1, _B2, _EPS, _WD,
     Param("amsgrad", "bool", False, "use the maximum of past squared gradients")),
     _with_betas("Adam"), lambda p: 3 if p["amsgrad"] else 2)
_opt("AdamW", "Adam with decoupled weight decay", (_lr(0.001), _B1, _B2, _EPS,
     Param("weight_decay", "float", 0.01, "decoupled weight decay", 0.0, 1.0),
     Param("amsgrad", "bool", False, "use the maximum of past squared gradients")),
     _with_betas("AdamW"), lambda p: 3 if p["amsgrad"] else 2)
_opt("RMSprop", "Divides the gradient by a running average of its magnitude",
     (_lr(0.01), Param("alpha", "float", 0.99, "smoothing constant", 0.0, 0.9999), _EPS, _WD,
      Param("momentum", "float", 0.0, "momentum factor", 0.0, 0.9999),
      Param("centered", "bool", False, "normalise by the estimated variance of the gradient")),
     _plain("RMSprop"), lambda p: 1 + (p["momentum"] > 0) + bool(p["centered"]))
_opt("Adagrad", "Per-weight learning rates shrinking with the sum of squared gradients",
     (_lr(0.01), Param("lr_decay", "float", 0.0, "learning rate decay", 0.0, 1.0), _WD,
      Param("initial_accumulator_value", "float", 0.0, "starting value of the sum", 0.0, 10.0),
      Param("eps", "float", 1e-10, "added to the denominator for numerical stability", 1e-12, 1e-2, log=True)),
     _plain("Adagrad"), lambda p: 1)
_opt("Adadelta", "Adagrad variant with a running window instead of the full sum",
     (_lr(1.0), Param("rho", "float", 0.9, "decay of the running averages", 0.0, 0.9999),
      Param("eps", "float", 1e-6, "added to the denominator for numerical stability", 1e-12, 1e-2, log=True), _WD),
     _plain("Adadelta"), lambda p: 2)
_opt("NAdam", "Adam with Nesterov momentum", (_lr(0.002), _B1, _B2, _EPS, _WD,
     Param("momentum_decay", "float", 0.004, "momentum decay", 0.0, 1.0)),
     _with_betas("NAdam"), lambda p: 2)
_opt("RAdam", "Rectified Adam: a built-in warm-up of the adaptive step", (_lr(0.001), _B1, _B2, _EPS, _WD),
     _with_betas("RAdam"), lambda p: 2)
_opt("LBFGS", "Quasi-Newton method on the full training set (full batch; best for small, smooth problems)",
     (_lr(1.0), Param("max_iter", "int", 20, "iterations per optimizer step", 1, 1000),
      Param("history_size", "int", 100, "update history kept", 1, 1000),
      Param("line_search_fn", "choice", "none", "'strong_wolfe' makes steps safer", choices=("none", "strong_wolfe"))),
     make_lbfgs, lambda p: 2 * p["history_size"] + 2, full_batch=True, needs_closure=True)


def make_optimizer(optimizer_spec, parameters) -> torch.optim.Optimizer:
    """Build the optimizer from spec.optimizer over `parameters` (e.g. model.parameters())."""
    from workbench.core.catalog.registry import get_entry

    entry = get_entry("optimizer", optimizer_spec.type)
    return entry.factory(entry.with_defaults(optimizer_spec.params), parameters)
