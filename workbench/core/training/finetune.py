"""Fine-tuning: start from learned weights, freeze layers, give layers their own learning rates,
unfreeze later (fastai's `fine_tune`: the new head first, then everything at a lower rate).

- `load_initial_weights`: layer by layer (spec.model.layers[i] is the model's child i), a layer
  is loaded when every tensor of it is in the file with the same shape; otherwise it keeps its
  fresh initialisation and is listed ("loaded 4 of 5 layers; Layer 5 (Linear) re-initialised:
  10 → 5 classes"). With finetune.reset_head the last layer with weights starts afresh even when
  it fits: a new task gets a new head. Files: a Workbench checkpoint (.pt, read with
  `weights_only=True`) or safetensors; never an arbitrary pickle.
- `freeze_layers`: a frozen layer's parameters get requires_grad=False (BatchNorm running
  statistics still adapt to the new data).
- `parameter_groups`: one optimizer group per learning-rate multiplier (discriminative rates).
- `Unfreeze`: the callback that unfreezes everything at finetune.unfreeze_epoch and multiplies
  every group's rate (and the schedule's) by finetune.unfreeze_lr_factor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from workbench.core.training.callback import Callback
from workbench.core.training.checkpoint import CheckpointError
from workbench.core.training.events import LRChanged
from workbench.core.training.lr_control import scale_learning_rates

__all__ = ["InitReport", "read_weights", "load_initial_weights", "freeze_layers", "parameter_groups", "Unfreeze",
           "init_weights_path", "prepare_fine_tuning", "check_initial_weights"]


# exports that hold a model as a program: their weights are not read back (a safetensors export is)
PROGRAM_SUFFIXES = {".onnx": "an ONNX model", ".pt2": "a torch.export program"}


@dataclass
class InitReport:
    loaded: list[int] = field(default_factory=list)             # 0-based layer indices loaded from the file
    reinitialised: list[str] = field(default_factory=list)      # "Layer 5 (Linear) re-initialised: 10 → 5 classes"
    total: int = 0                                              # layers with weights
    source: str = ""

    @property
    def message(self) -> str:
        head = f"loaded {len(self.loaded)} of {self.total} layers from {self.source}"
        return "; ".join([head, *self.reinitialised])


def init_weights_path(spec, base_dir: str | Path | None) -> Path | None:
    """finetune.init_from as a path (relative to the spec's folder), or None."""
    ft = getattr(spec, "finetune", None)
    if ft is None or not ft.init_from:
        return None
    path = Path(ft.init_from).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a .safetensors file or a Workbench checkpoint / saved state dict (.pt),
    loaded without unpickling code. CheckpointError says what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"finetune.init_from: {path} not found; give a run's checkpoint (.pt) or a "
                              ".safetensors file")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file
            raise CheckpointError(f"finetune.init_from: {path} is not a readable safetensors file ({exc})") from None
    fix = ("Give a run id, a run's checkpoint (.pt) or a .safetensors file (`workbench export RUN --format "
           "safetensors` writes one)")
    if path.suffix in PROGRAM_SUFFIXES:
        raise CheckpointError(f"finetune.init_from: {path.name} is {PROGRAM_SUFFIXES[path.suffix]}, not a weights "
                              f"file. {fix}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - not a torch file, or one that needs code to load
        # torch names the class a pickle would have to import ("Unsupported global: GLOBAL x.Y")
        what = ("it holds pickled Python objects, which could run code when loaded"
                if "Unsupported global" in str(exc) else "it is not a PyTorch checkpoint")
        raise CheckpointError(f"finetune.init_from: cannot read {path} as weights: {what}. {fix}") from None
    state = data.get("model") if isinstance(data, dict) and isinstance(data.get("model"), dict) else data
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"finetune.init_from: {path} holds no model weights (a dict of tensors)")
    return state


def _layer_name(i: int, module: nn.Module, spec_layers) -> str:
    kind = spec_layers[i].type if i < len(spec_layers) else type(module).__name__
    return f"Layer {i + 1} ({kind})"


def _why_not(i: int, own: dict[str, torch.Tensor], given: dict[str, torch.Tensor], is_last: bool, meta) -> str:
    missing = [k for k in own if f"{i}.{k}" not in given]
    if missing and len(missing) == len(own):
        return "not in the file"
    weight, other_weight = own.get("weight"), given.get(f"{i}.weight")
    # a head for another number of outputs: the same inputs (weight shape past the first dim), other rows
    new_head = (is_last and weight is not None and other_weight is not None
                and other_weight.shape[1:] == weight.shape[1:] and other_weight.shape[0] != weight.shape[0])
    for k, tensor in own.items():
        other = given.get(f"{i}.{k}")
        if other is None or other.shape == tensor.shape:
            continue
        if new_head and k in ("weight", "bias"):
            unit = "classes" if meta is not None and meta.task == "classification" else "outputs"
            return f"{other.shape[0]} → {tensor.shape[0]} {unit}"
        return f"{k} {tuple(other.shape)} → {tuple(tensor.shape)}"
    return f"{', '.join(missing)} not in the file"


def _fits(i: int, own: dict[str, torch.Tensor], state: dict[str, torch.Tensor]) -> bool:
    return all(f"{i}.{k}" in state and state[f"{i}.{k}"].shape == v.shape for k, v in own.items())


def _refuse_other_inputs(model: nn.Sequential, state: dict[str, torch.Tensor], weighted: list[int], layers,
                         source: str, meta) -> None:
    """Weights made for other inputs (another dataset's columns) whose deeper layers happen to
    have this model's shapes: loading those by shape alone would start from weights that mean
    nothing here, so refuse rather than start half-trained from them."""
    if len(weighted) < 2:
        return
    first = weighted[0]
    own = model[first].state_dict()
    if _fits(first, own, state) or not any(f"{first}.{k}" in state for k in own):
        return
    if not any(_fits(i, model[i].state_dict(), state) for i in weighted[1:]):
        return  # nothing would load: the "none of the layers fit" refusal says so
    raise CheckpointError(
        f"finetune.init_from: {source} was trained on other inputs ({_layer_name(first, model[first], layers)}: "
        f"{_why_not(first, own, state, False, meta)}), so its layers do not fit this data. Start from a run "
        "or file trained on data with the same inputs, or start from fresh weights")


@torch.no_grad()
def load_initial_weights(model: nn.Sequential, state: dict[str, torch.Tensor], spec, meta=None,
                         source: str = "the file") -> InitReport:
    """Copy the layers of `state` that fit into `model` (see the module doc)."""
    layers = spec.model.layers
    weighted = [i for i, m in enumerate(model) if m.state_dict()]
    report = InitReport(total=len(weighted), source=source)
    reset_head = bool(getattr(spec.finetune, "reset_head", False)) if spec.finetune is not None else False
    _refuse_other_inputs(model, state, weighted, layers, source, meta)
    for i in weighted:
        module = model[i]
        own = module.state_dict()
        name = _layer_name(i, module, layers)
        is_last = i == weighted[-1]
        fits = _fits(i, own, state)
        if fits and is_last and reset_head:
            report.reinitialised.append(f"{name} re-initialised: a new head (finetune.reset_head)")
            continue
        if not fits:
            report.reinitialised.append(f"{name} re-initialised: {_why_not(i, own, state, is_last, meta)}")
            continue
        module.load_state_dict({k: state[f"{i}.{k}"].to(v.dtype) for k, v in own.items()})
        report.loaded.append(i)
    if not report.loaded and weighted and not (reset_head and len(weighted) == 1):
        why = "; ".join(r.replace(" re-initialised:", ":") for r in report.reinitialised[:3])
        more = f"; and {len(report.reinitialised) - 3} more" if len(report.reinitialised) > 3 else ""
        raise CheckpointError(
            f"finetune.init_from: none of the layers of {source} fit this model ({why}{more}; shapes are the file's "
            "→ this model's). Start from a run or file of a model with the same layers, at least in part, or "
            "change the model's layers to match")
    return report


def freeze_layers(model: nn.Sequential, spec) -> list[int]:
    """requires_grad=False for the parameters of frozen layers; returns their indices."""
    frozen = [i for i, layer in enumerate(spec.model.layers) if layer.frozen and i < len(model)]
    for i in frozen:
        for p in model[i].parameters():
            p.requires_grad_(False)
    return frozen


def parameter_groups(model: nn.Sequential, spec, base_lr: float | None) -> Any:
    """model.parameters(), or one group per learning-rate multiplier when layers have one
    (frozen layers are in their group too, so unfreezing needs no new optimizer)."""
    mults = [layer.lr_mult for layer in spec.model.layers]
    if all(m is None or m == 1.0 for m in mults) or base_lr is None:
        return model.parameters()
    groups: dict[float, list[torch.nn.Parameter]] = {}
    for i, module in enumerate(model):
        mult = mults[i] if i < len(mults) and mults[i] is not None else 1.0
        groups.setdefault(float(mult), []).extend(module.parameters())
    return [{"params": params, "lr": base_lr * mult, "lr_mult": mult} for mult, params in groups.items() if params]


class Unfreeze(Callback):
    """At the end of epoch `epoch - 1`: every parameter trains from `epoch` on, at `factor` times
    the learning rates of then (each group's, and the schedule's)."""

    def __init__(self, epoch: int, factor: float):
        self.epoch = int(epoch)
        self.factor = float(factor)

    def on_epoch_end(self, run, epoch, logs):
        if epoch != self.epoch - 1 or run.model is None:
            return
        for p in run.model.parameters():
            p.requires_grad_(True)
        previous = run.lr
        scale_learning_rates(run.optimizer, run.scheduler, self.factor)
        run.emit(LRChanged(epoch=epoch, step=run.step, lr=run.lr, previous=previous))


def prepare_fine_tuning(model: nn.Sequential, spec, meta, base_dir: str | Path | None) -> list[str]:
    """Load finetune.init_from into `model` and freeze the locked layers; notes for people."""
    notes: list[str] = []
    path = init_weights_path(spec, base_dir)
    if path is not None:
        run = getattr(spec.finetune, "init_run", None)
        source = f"run #{run} ({path.name})" if run else path.name
        notes.append(load_initial_weights(model, read_weights(path), spec, meta, source).message)
    frozen = freeze_layers(model, spec)
    if frozen:
        names = ", ".join(str(i + 1) for i in frozen)
        until = spec.finetune.unfreeze_epoch if spec.finetune is not None else None
        notes.append(f"layer{'s' if len(frozen) > 1 else ''} {names} frozen" + (f" until epoch {until}" if until else ""))
    return notes


def check_initial_weights(spec, meta, base_dir: str | Path | None) -> list[str]:
    """What prepare_fine_tuning would report, without training (a model is built under a forked
    random state). Raises CheckpointError when the weights cannot be used."""
    from workbench.core.training.model import build_model

    if init_weights_path(spec, base_dir) is None:
        return []
    with torch.random.fork_rng(devices=[]):
        model, _ = build_model(spec, meta)
        return prepare_fine_tuning(model, spec, meta, base_dir)
