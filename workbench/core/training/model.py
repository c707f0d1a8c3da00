"""spec -> nn.Module, with shape inference, parameter/FLOP counts and errors people can act on.

Layers are numbered for people from 1 ("Layer 3 (Linear)" is spec.model.layers[2]);
`ModelError.layer_index` and `LayerInfo.index` are 0-based. Inner layers of a Residual block are
named "Layer 2 (Residual), inner layer 1 (Linear)" and report the top-level index.

The model is an `nn.Sequential` whose children are spec.model.layers in order (state-dict keys
"0.weight", ...). It takes float32 input (N, *meta.input_shape) and returns (N, width).

Counting conventions (per sample, i.e. a batch of one):
- FLOPs: multiply-adds of Linear, Conv1d/Conv2d (incl. residual projections) and LSTM/GRU
  count 2 FLOPs each (torch.utils.flop_counter's convention); biases, activations,
  normalisation, pooling and residual additions are not counted.
- memory_bytes (per batch, float32): weights + gradients + optimizer state (Adam: 2 tensors per
  weight) + the input and every layer's output kept for the backward pass × batch size. A rough
  guide, not a measurement.

Shape inference runs a batch of one (zeros) through each layer as it is built, on the CPU.
Each layer's weights are first counted on PyTorch's "meta" device, so an absurd layer (over
MAX_PARAMS weights) is refused with a message instead of exhausting memory. summarize() runs
inside a forked RNG, so it never changes the random state; build_model() consumes the global RNG
exactly like constructing the layers by hand (deterministic under torch.manual_seed).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from workbench.core import catalog
from workbench.core.catalog import LayerContext, ShapeProblem, describe_shape
from workbench.core.catalog.layer_modules import GRULastStep, LSTMLastStep, Residual
from workbench.core.training.model_fit import (
    embedding_problem,
    empty_problem,
    loss_task_problem,
    output_notes,
    output_problem,
)
from workbench.core.training.model_summary import LayerInfo, ModelError, ModelSummary

MAX_PARAMS = 1_000_000_000  # a layer this large is refused with a message instead of exhausting memory
SUMMARY_REAL_PARAMS = 20_000_000  # summarize() infers shapes of larger layers on the meta device


class _Failure(Exception):
    def __init__(self, error: ModelError):
        self.error = error


# ---- FLOPs ------------------------------------------------------------------------------------


def _flops(module: nn.Module, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    if isinstance(module, nn.Linear):
        return 2 * module.in_features * module.out_features * math.prod(in_shape[:-1])
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        return 2 * math.prod(out_shape) * (module.in_channels // module.groups) * math.prod(module.kernel_size)
    if isinstance(module, (LSTMLastStep, GRULastStep)):
        rnn = module.rnn
        gates = 4 if isinstance(rnn, nn.LSTM) else 3
        dirs = 2 if rnn.bidirectional else 1
        steps, h = in_shape[0], rnn.hidden_size
        total = 0
        for layer in range(rnn.num_layers):
            i = rnn.input_size if layer == 0 else h * dirs
            total += 2 * steps * dirs * gates * h * (i + h)
        return total
    return 0


# ---- building ---------------------------------------------------------------------------------


def _prefix(path: tuple[tuple[int, str], ...]) -> str:
    head = f"Layer {path[0][0] + 1} ({path[0][1]})"
    return head + "".join(f", inner layer {i + 1} ({t})" for i, t in path[1:])


def _fail(path, message: str) -> _Failure:
    return _Failure(ModelError(f"{_prefix(path)} {message}", path[0][0], path[0][1]))


def _projection(in_shape, out_shape) -> nn.Module | None:
    """A bias-free Linear / 1x1 convolution mapping the block's input onto its output shape."""
    if len(in_shape) != len(out_shape):
        return None

    def stride_for(a: int, b: int) -> int | None:
        return next((s for s in range(1, a + 1) if (a - 1) // s + 1 == b), None)

    if len(in_shape) == 1:
        return nn.Linear(in_shape[0], out_shape[0], bias=False)
    if len(in_shape) == 2:
        if in_shape[0] == out_shape[0]:
            return nn.Linear(in_shape[1], out_shape[1], bias=False)
        s = stride_for(in_shape[1], out_shape[1])
        return None if s is None else nn.Conv1d(in_shape[0], out_shape[0], 1, stride=s, bias=False)
    if len(in_shape) == 3:
        sh, sw = stride_for(in_shape[1], out_shape[1]), stride_for(in_shape[2], out_shape[2])
        if sh is None or sw is None:
            return None
        return nn.Conv2d(in_shape[0], out_shape[0], 1, stride=(sh, sw), bias=False)
    return None


class _Builder:
    def __init__(self, meta: Any, summary_only: bool):
        self.summary_only = summary_only
        self.ctx = LayerContext(target_width=int(meta.target_width))

    def make(self, entry, params, shape, path) -> nn.Module:
        try:
            return entry.factory(params, shape, self.ctx)
        except ShapeProblem as exc:
            raise _fail(path, str(exc)) from None
        except (ValueError, RuntimeError, TypeError) as exc:  # PyTorch refusing the arguments
            raise _fail(path, f"cannot be built with these parameters: {exc}") from None

    def forward_shape(self, module: nn.Module, in_shape, path, device=None) -> tuple[int, ...]:
        module.eval()  # batch of one: BatchNorm must use running statistics
        x = torch.zeros((1, *in_shape), device=device or torch.device("cpu"))
        try:
            with torch.no_grad():
                y = module(x)
        except (RuntimeError, ValueError, IndexError, NotImplementedError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise _fail(path, f"cannot process {describe_shape(in_shape)}: {first}") from None
        finally:
            module.train()
        out = tuple(int(d) for d in y.shape[1:])
        if any(d <= 0 for d in out):
            raise _fail(path, f"would output an empty shape {out} from {describe_shape(in_shape)}; use a smaller "
                              "kernel_size or stride, or fewer pooling layers before it")
        return out

    def build_list(self, specs, in_shape, outer: tuple = ()) -> tuple[list[nn.Module], list[LayerInfo], tuple]:
        """Build layers in order. On a failure, the infos so far (the failing one carrying its error)
        travel on the _Failure's `infos`."""
        modules: list[nn.Module] = []
        infos: list[LayerInfo] = []
        shape = tuple(in_shape)
        for i, ls in enumerate(specs):
            path = (*outer, (i, ls.type))
            info = LayerInfo(index=i, type=ls.type, out_shape=(), params=0, flops=0, in_shape=shape)
            infos.append(info)
            try:
                module, shape = self.build_one(ls, shape, path, info)
            except _Failure as f:
                if info.error is None:
                    info.error = f.error.message
                f.infos = infos  # type: ignore[attr-defined]
                raise
            if ls.type == "Flatten" and not outer:
                self.ctx.flattened_at = i
            modules.append(module)
            info.out_shape = shape
        return modules, infos, shape

    def build_one(self, ls, shape, path, info: LayerInfo) -> tuple[nn.Module, tuple]:
        try:
            entry = catalog.get_entry("layer", ls.type)
        except KeyError:
            allowed = ", ".join(e.name for e in catalog.entries("layer"))
            raise _fail(path, f"is not a known layer type; allowed: {allowed}") from None
        problems = catalog.param_problems("layer", ls.type, ls.params)
        if problems:
            raise _fail(path, "has an invalid parameter: " + "; ".join(f"{p}: {m}" for p, m in problems))
        if entry.info.get("composite"):
            return self.build_residual(ls, shape, path, info)
        params = entry.with_defaults(ls.params)
        # count the weights on the meta device first (no memory): a typo like out_features=10**6 after a
        # Flatten must give a message, not exhaust the memory
        with torch.device("meta"):
            n_params = sum(p.numel() for p in self.make(entry, params, shape, path).parameters())
        if n_params > MAX_PARAMS:
            raise _fail(path, f"would have {n_params:,} parameters ({n_params * 4 / 1e9:.1f} GB); make it smaller "
                              "(fewer out_features/channels, or pooling before Flatten)")
        if self.summary_only and n_params > SUMMARY_REAL_PARAMS:
            with torch.device("meta"):  # shapes only; slower first call, but no multi-GB allocation
                module = self.make(entry, params, shape, path)
            out = self.forward_shape(module, shape, path, torch.device("meta"))
        else:
            module = self.make(entry, params, shape, path)
            out = self.forward_shape(module, shape, path)
        info.params = n_params
        info.flops = _flops(module, shape, out)
        return module, out

    def build_residual(self, ls, shape, path, info: LayerInfo) -> tuple[nn.Module, tuple]:
        if not ls.layers:
            raise _fail(path, "is empty; add at least one inner layer to the block")
        try:
            body, inner, out = self.build_list(ls.layers, shape, path)
        except _Failure as f:
            info.inner = f.infos  # type: ignore[attr-defined]
            info.error = f.error.message
            raise
        info.inner = inner
        projection = None
        flops = sum(x.flops for x in inner)
        if out != shape:
            projection = _projection(shape, out)
            if projection is None:
                raise _fail(path, f"turns {describe_shape(shape)} into {describe_shape(out)}; a residual block adds "
                                  "its input to its output, so keep the same kind of shape inside it (move Flatten, "
                                  "LSTM/GRU or Embedding out of the block)")
            proj_out = self.forward_shape(projection, shape, path)
            if proj_out != out:
                raise _fail(path, f"turns {describe_shape(shape)} into {describe_shape(out)}, which no 1x1 projection "
                                  "can match; keep the output size of the inner layers equal to their input")
            flops += _flops(projection, shape, out)
            kind = type(projection).__name__
            self.ctx.notes.append(f"{_prefix(path)}: added a {kind} projection {shape} -> {out} so the input can be "
                                  "added to the output")
        module = Residual(nn.Sequential(*body), projection)
        info.params = sum(p.numel() for p in module.parameters())
        info.flops = flops
        return module, out


def _batch(batch_size, meta) -> int:
    if isinstance(batch_size, int) and batch_size > 0:
        return batch_size
    return max(1, int(getattr(meta, "n_samples", 1) or 1))


def _optimizer_state_factor(spec) -> int:
    try:
        entry = catalog.get_entry("optimizer", spec.optimizer.type)
        return int(entry.info["state"](entry.with_defaults(spec.optimizer.params)))
    except (KeyError, TypeError):
        return 2


def _summarize(spec, meta, batch_size, summary_only: bool) -> tuple[ModelSummary, list[nn.Module]]:
    builder = _Builder(meta, summary_only)
    in_shape = tuple(int(d) for d in meta.input_shape)
    layers = spec.model.layers
    modules: list[nn.Module] = []
    try:
        modules, infos, out = builder.build_list(layers, in_shape)
    except _Failure as f:
        infos = f.infos  # type: ignore[attr-defined]
        out = ()
    infos = list(infos)
    for i in range(len(infos), len(layers)):  # not reached after a failure
        infos.append(LayerInfo(index=i, type=layers[i].type, out_shape=(), params=0, flops=0))
    total_params = sum(i.params for i in infos)  # the layers built so far when one failed
    # locked layers (fine-tuning) keep their weights: no gradients, no optimizer state for them
    trainable = total_params - sum(info.params for info, layer in zip(infos, layers) if layer.frozen)
    batch = _batch(batch_size, meta)

    def activations(infos_: list[LayerInfo]) -> int:
        return sum(math.prod(i.out_shape) + activations(i.inner) for i in infos_ if i.out_shape)

    memory = {
        "weights": 4 * total_params,
        "gradients": 4 * trainable,
        "optimizer": 4 * trainable * _optimizer_state_factor(spec),
        "activations": 4 * batch * (math.prod(in_shape) + activations(infos)),
    }
    summary = ModelSummary(
        layers=infos, total_params=total_params, trainable_params=trainable,
        total_flops=sum(i.flops for i in infos), memory_bytes=sum(memory.values()), input_shape=in_shape,
        output_shape=out if infos and not any(i.error for i in infos) else (),
        notes=list(dict.fromkeys(builder.ctx.notes)),
        memory=memory,
    )
    if summary.output_shape:
        width_error = output_problem(spec, meta, summary)
        if width_error is not None:
            infos[-1].error = width_error.message
        summary.notes.extend(output_notes(spec, layers))
    return summary, modules


# ---- public API -------------------------------------------------------------------------------


def summarize(spec, meta, batch_size: int | str = 32) -> ModelSummary:
    """Shapes, parameters, FLOPs and memory without training. Never raises for layer problems:
    the first failing layer's LayerInfo.error holds the message (layers after it have
    out_shape ()). A last layer whose width does not fit the loss carries that error too."""
    with torch.random.fork_rng(devices=[]):
        summary, _ = _summarize(spec, meta, batch_size, summary_only=True)
    return summary


def check_experiment(spec, meta) -> list[str]:
    """Every problem that stops this spec from training on this data, as messages ([] if fine)."""
    problems: list[str] = []
    empty = empty_problem(spec)
    if empty is not None:
        problems.append(empty.message)
    task = loss_task_problem(spec, meta)
    if task is not None:
        problems.append(task.message)
    embedding = embedding_problem(spec, meta)
    if embedding is not None:
        problems.append(embedding.message)
    summary = summarize(spec, meta, spec.train.batch_size)
    problems.extend(i.error for i in summary.layers if i.error)
    schedule = spec.schedule
    if schedule is not None and schedule.warmup is not None:
        entry = catalog.REGISTRY["schedule"].get(schedule.type)
        if entry is not None and not entry.info.get("warmup_ok", True):
            problems.append(f"schedule.warmup: {entry.name} has its own warm-up (pct_start); remove the warmup")
    return problems


def build_model(spec, meta) -> tuple[nn.Module, ModelSummary]:
    """The model (nn.Sequential, training mode, on the CPU) and its summary. Raises ModelError for an
    empty or impossible stack, a loss that does not fit the task, or a last layer of the wrong width.
    "auto" out_features become meta.target_width. Deterministic under torch.manual_seed."""
    empty = empty_problem(spec)
    if empty is not None:
        raise empty
    embedding = embedding_problem(spec, meta)
    if embedding is not None:
        raise embedding
    summary, modules = _summarize(spec, meta, spec.train.batch_size, summary_only=False)
    if not summary.output_shape:
        info = next(i for i in summary.layers if i.error)
        raise ModelError(info.error, info.index, info.type)
    task = loss_task_problem(spec, meta)
    if task is not None:
        raise task
    width = output_problem(spec, meta, summary)
    if width is not None:
        raise width
    model = nn.Sequential(*modules)
    model.train()
    return model, summary
