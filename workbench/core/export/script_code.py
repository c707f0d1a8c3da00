"""Python source for a run's model, loss, optimizer and schedule, in plain PyTorch.

The model's code is written from the built modules themselves (each constructor argument read
back from the module, defaults left out), so what the catalog's factories decided (in-features,
"auto" widths, Residual projections) is in it. Built under the same seed it gets the same
initial weights as the engine's build_model (the tests check it for every preset).
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from torch import nn

from workbench.core import catalog

__all__ = ["ScriptCodeError", "model_code", "custom_classes_code", "loss_code", "optimizer_code", "schedule_code"]

# the catalog's own small modules (catalog/layer_modules.py): plain PyTorch, copied into the script
_CUSTOM_MODULE = "workbench.core.catalog.layer_modules"
_SKIP_ARGS = {"self", "device", "dtype", "_weight", "_freeze"}
_SPATIAL = {"kernel_size", "stride", "padding", "dilation", "output_size"}  # one number stands for every dimension


class ScriptCodeError(ValueError):
    """A part of the run that the script writer cannot express in plain PyTorch."""


def _arg_value(module: nn.Module, name: str) -> Any:
    value = getattr(module, name)
    if name == "bias" and not isinstance(value, bool):
        return value is not None  # the Parameter (or None) stands for the constructor's flag
    return value


def _constructor_args(module: nn.Module) -> str:
    cls = type(module)
    init_owner = next(c for c in cls.__mro__ if "__init__" in c.__dict__)
    signature = inspect.signature(init_owner.__init__)
    parts = []
    for param in signature.parameters.values():
        if param.name in _SKIP_ARGS or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if not hasattr(module, param.name):
            if param.default is param.empty:
                raise ScriptCodeError(f"cannot read {cls.__name__}'s argument {param.name} back from the module")
            continue
        value = _arg_value(module, param.name)
        if param.name in _SPATIAL:
            value = _compact(value)
        if param.default is param.empty:
            parts.append(repr(value))
        elif not _equal(value, param.default):
            parts.append(f"{param.name}={value!r}")
    return ", ".join(parts)


def _compact(value: Any) -> Any:
    """(3, 3) -> 3: PyTorch's layers take one number for every spatial dimension."""
    if isinstance(value, tuple) and value and all(v == value[0] and type(v) is int for v in value):
        return value[0]
    return value


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                                        and not isinstance(a, bool) and a == b)
    except Exception:  # noqa: BLE001 - tensors and the like are never defaults
        return False


def _rnn_code(rnn: nn.RNNBase) -> str:
    kind = type(rnn).__name__
    args = [repr(rnn.input_size), repr(rnn.hidden_size)]
    for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                          ("bidirectional", False)):
        value = getattr(rnn, name)
        if value != default:
            args.append(f"{name}={value!r}")
    return f"nn.{kind}({', '.join(args)})"


def _indent(text: str) -> str:
    return textwrap.indent(text, "    ")


def module_code(module: nn.Module, used: set[type]) -> str:
    """A constructor expression that builds `module` (the custom classes it needs go in `used`)."""
    cls = type(module)
    if cls is nn.Sequential:
        inner = ",\n".join(_indent(module_code(m, used)) for m in module)
        return f"nn.Sequential(\n{inner},\n)" if len(module) else "nn.Sequential()"
    if isinstance(module, nn.RNNBase):
        return _rnn_code(module)
    if cls.__module__ == _CUSTOM_MODULE:
        used.add(cls)
        name = cls.__name__
        if name in ("LSTMLastStep", "GRULastStep"):
            return f"{name}({_rnn_code(module.rnn)})"
        if name == "Residual":
            projection = None if isinstance(module.projection, nn.Identity) else module_code(module.projection, used)
            return f"Residual(\n{_indent(module_code(module.body, used))},\n    {projection},\n)"
        if name == "Embedding":
            return f"Embedding({_constructor_args(module)})"
    if cls.__module__.startswith("torch.nn.") and getattr(nn, cls.__name__, None) is cls:
        return f"nn.{cls.__name__}({_constructor_args(module)})"
    raise ScriptCodeError(f"the layer {cls.__name__} has no plain-PyTorch equivalent for the script")


def model_code(model: nn.Module) -> tuple[str, set[type]]:
    """`def build_model()` for the run's model, and the custom classes it uses."""
    used: set[type] = set()
    body = module_code(model, used)
    return f"def build_model() -> nn.Module:\n    return {body.replace(chr(10), chr(10) + '    ')}\n", used


def custom_classes_code(used: set[type]) -> str:
    """The source of the small modules the catalog adds to torch.nn (plain PyTorch)."""
    return "\n\n".join(inspect.getsource(cls) for cls in sorted(used, key=lambda c: c.__name__))


# ---- loss -------------------------------------------------------------------------------------
_BALANCED = '''    counts = torch.bincount(train_y.reshape(-1).long(), minlength={n})[:{n}].float()
'''


def loss_code(spec: Any, meta: Any, out_width: int) -> str:
    """`def make_loss(train_y)` returning loss_fn(output, y) as the engine's loss wrapper."""
    entry = catalog.get_entry("loss", spec.loss.type)
    params = entry.with_defaults(spec.loss.params)
    n = len(meta.class_names) or meta.target_width
    name = entry.name
    if meta.task == "regression":
        args = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return (f"def make_loss(train_y):\n    criterion = nn.{name}({args})\n\n"
                "    def loss_fn(out, y):\n        y = y.to(out.dtype)\n"
                "        return criterion(out, y if y.shape == out.shape else y.reshape(out.shape))\n\n"
                "    return loss_fn\n")
    if name in ("CrossEntropyLoss", "NLLLoss"):
        lines = ["def make_loss(train_y):"]
        weight = "None"
        if params.get("weight") == "balanced":
            lines.append(_BALANCED.format(n=n).rstrip("\n"))
            lines.append("    weight = torch.where(counts > 0, counts.sum() / (len(counts) * counts.clamp(min=1)), "
                         "torch.ones_like(counts))")
            weight = "weight"
        args = ([f"weight={weight}"] if weight != "None" else []) + [
            f"{k}={v!r}" for k, v in params.items() if k != "weight" and not (k == "label_smoothing" and v == 0)]
        lines.append(f"    criterion = nn.{name}({', '.join(args)})")
        head = "F.log_softmax(out, dim=1)" if name == "NLLLoss" else "out"
        lines.append(f"    return lambda out, y: criterion({head}, y.reshape(-1).long())")
        return "\n".join(lines) + "\n"
    if name == "BCEWithLogitsLoss":
        lines = ["def make_loss(train_y):", "    pos_weight = None"]
        if params.get("pos_weight") == "balanced":
            lines.append(_BALANCED.format(n=n).rstrip("\n"))
            lines.append("    pos_weight = torch.where(counts > 0, (counts.sum() - counts) / counts.clamp(min=1), "
                         "torch.ones_like(counts))")
        if out_width == 1:
            lines += ["", "    def loss_fn(out, y):",
                      "        pw = pos_weight[1:2] if pos_weight is not None else None",
                      "        return F.binary_cross_entropy_with_logits(out, y.reshape(-1, 1).to(out.dtype), "
                      "pos_weight=pw)"]
        else:
            lines += ["", "    def loss_fn(out, y):",
                      "        target = F.one_hot(y.reshape(-1).long(), out.shape[1]).to(out.dtype)",
                      "        return F.binary_cross_entropy_with_logits(out, target, pos_weight=pos_weight)"]
        lines += ["", "    return loss_fn"]
        return "\n".join(lines) + "\n"
    raise ScriptCodeError(f"the loss {name} has no script equivalent yet")


# ---- optimizer ----------------------------------------------------------------------------------
def optimizer_kwargs(spec: Any) -> dict[str, Any]:
    """The optimizer's keyword arguments as PyTorch takes them."""
    entry = catalog.get_entry("optimizer", spec.optimizer.type)
    params = dict(entry.with_defaults(spec.optimizer.params))
    if "beta1" in params:
        params = {("betas" if k == "beta1" else k): ((v, params["beta2"]) if k == "beta1" else v)
                  for k, v in params.items() if k != "beta2"}
    if spec.optimizer.type == "LBFGS" and params.get("line_search_fn") == "none":
        params["line_search_fn"] = None
    return params


def optimizer_code(spec: Any, parameters_expr: str = "model.parameters()") -> str:
    """`def make_optimizer(model)`; `parameters_expr` may build param groups."""
    kwargs = ", ".join(f"{k}={v!r}" for k, v in optimizer_kwargs(spec).items())
    return (f"def make_optimizer(model):\n    return torch.optim.{spec.optimizer.type}({parameters_expr}, {kwargs})\n")


# ---- schedule -----------------------------------------------------------------------------------
def _main_schedule(entry, params: dict[str, Any], epochs: int) -> str:
    name = entry.name
    if name == "CosineAnnealingLR":
        t_max = max(1, epochs) if params["T_max"] == "auto" else params["T_max"]
        return f"S.CosineAnnealingLR(optimizer, T_max={t_max!r}, eta_min={params['eta_min']!r})"
    if name == "MultiStepLR":
        milestones = sorted(params["milestones"]) if isinstance(params["milestones"], (list, tuple)) else [
            params["milestones"]]
        return f"S.MultiStepLR(optimizer, milestones={milestones!r}, gamma={params['gamma']!r})"
    if name == "OneCycleLR":
        p = dict(params)
        cycle = p.pop("cycle_momentum")
        args = ", ".join(f"{k}={v!r}" for k, v in p.items())
        momentum = "bool({'momentum', 'betas'} & set(optimizer.defaults))" if cycle else "False"
        return (f"S.OneCycleLR(optimizer, total_steps=max(1, {epochs} * steps_per_epoch), {args}, "
                f"cycle_momentum={momentum})")
    args = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return f"S.{name}(optimizer{', ' + args if args else ''})"


def schedule_code(spec: Any) -> tuple[str, bool]:
    """`def make_schedule(optimizer, steps_per_epoch)` as catalog.make_scheduler builds it, and
    whether it needs the WarmupThenPlateau helper."""
    schedule = spec.schedule
    if schedule is None:
        return "def make_schedule(optimizer, steps_per_epoch):\n    return None\n", False
    entry = catalog.get_entry("schedule", schedule.type)
    params = entry.with_defaults(schedule.params)
    warm = schedule.warmup
    epochs = spec.train.epochs
    main_epochs = max(1, epochs - warm.epochs) if warm is not None else epochs
    per, needs_metric = entry.info["step_per"], entry.info["needs_metric"]
    lines = ["def make_schedule(optimizer, steps_per_epoch):", "    S = torch.optim.lr_scheduler",
             f"    main = {_main_schedule(entry, params, main_epochs)}"]
    if warm is None:
        total = f"max(1, {epochs} * steps_per_epoch) - 1" if per == "batch" else "None"
        lines.append(f"    return Schedule(main, {per!r}, {needs_metric!r}, {total})")
        return "\n".join(lines) + "\n", False
    lines.append(f"    warmup = S.LinearLR(optimizer, start_factor={warm.start_factor!r}, end_factor=1.0, "
                 f"total_iters={warm.epochs!r})")
    if needs_metric:
        lines.append(f"    return Schedule(WarmupThenPlateau(warmup, main, {warm.epochs!r}), 'epoch', True)")
        return "\n".join(lines) + "\n", True
    lines.append(f"    return Schedule(S.SequentialLR(optimizer, [warmup, main], milestones=[{warm.epochs!r}]))")
    return "\n".join(lines) + "\n", False
