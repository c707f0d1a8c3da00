"""The person's own model's loss on a 2-D slice through its trained weights, along two random
directions normalised filter by filter (Li, Xu, Taylor, Studer & Goldstein, "Visualizing the
Loss Landscape of Neural Nets", NeurIPS 2018):

    L(a, b) = loss(θ* + a·δ + b·η)

δ and η are Gaussian, then every filter (a row of a Linear weight, an output channel of a
convolution) is rescaled to the norm of the same filter of θ*, so a step of 1 along a direction
is as large as the weights themselves, whatever the layer's scale. Biases and normalisation
parameters (1-D tensors) get no direction, as in the paper. The model is evaluated in eval mode
(BatchNorm's running statistics, no dropout). A ModelSlice has the Surface interface, and with
`batch` the loss is taken on a random mini-batch, so optimizers racing on it feel mini-batch
noise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.func import functional_call

from workbench.core.diagnostics.results import Cancelled

__all__ = ["ModelSlice", "filter_normalized_direction", "model_slice"]


def filter_normalized_direction(params: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A random direction shaped like `params`, each filter scaled to its weights' filter norm."""
    out = {}
    for name, w in params.items():
        if w.ndim <= 1:
            out[name] = torch.zeros_like(w)
            continue
        d = torch.randn(w.shape, generator=generator, dtype=w.dtype).to(w.device)
        w_norm = w.reshape(w.shape[0], -1).norm(dim=1)
        d_norm = d.reshape(d.shape[0], -1).norm(dim=1).clamp_min(1e-12)
        out[name] = d * (w_norm / d_norm).reshape(-1, *([1] * (w.ndim - 1)))
    return out


class ModelSlice:
    """A model's loss on the plane through its trained weights spanned by two filter-normalised random
    directions, as a race surface."""
    key = "model"
    title = "Your model"
    log_scale = False
    stochastic = True

    def __init__(self, model: torch.nn.Module, loss_fn: Any, X: torch.Tensor, y: torch.Tensor, *,
                 span: float = 1.0, seed: int = 0, name: str = "") -> None:
        self.model = model.eval()
        self.loss_fn = loss_fn
        self.X, self.y = X, y
        self.base = {k: v.detach().clone() for k, v in model.named_parameters()}
        self.buffers = {k: v for k, v in model.named_buffers()}
        g = torch.Generator().manual_seed(seed)
        self.d1 = filter_normalized_direction(self.base, g)
        self.d2 = filter_normalized_direction(self.base, g)
        self.x_range = self.y_range = (-span, span)
        self.start = (-0.7 * span, 0.55 * span)
        self.minimum = (0.0, 0.0)
        self.title = f"Your model{f' ({name})' if name else ''}"
        self.description = ("A slice through the trained weights (the centre) along two random, filter-normalised "
                            "directions (Li et al., 2018). One unit along an axis is as large as the weights. "
                            "Mini-batch racers see a different batch every step.")

    def _weights(self, a: torch.Tensor, b: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: w + a * self.d1[k] + b * self.d2[k] for k, w in self.base.items()}

    def loss(self, p: torch.Tensor, batch: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """The model's loss at p = (a, b) on the plane: on every row, or on `batch` rows drawn at
        random (the mini-batch noise a racer with a batch size sees)."""
        p = p.to(next(iter(self.base.values())).dtype) if self.base else p
        X, y = self.X, self.y
        if batch is not None and batch < len(X):
            idx = torch.randint(len(X), (batch,), generator=generator).to(X.device)
            X, y = X[idx], y[idx]
        out = functional_call(self.model, {**self._weights(p[0], p[1]), **self.buffers}, (X,))
        return self.loss_fn(out, y)

    def grid(self, n: int = 31, progress: Callable[[float], bool | None] | None = None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The loss on an n × n grid over the plotted box: (xs, ys, z). `progress(fraction done)`
        after each row; when it returns False the grid stops (Cancelled)."""
        xs = np.linspace(*self.x_range, n)
        ys = np.linspace(*self.y_range, n)
        z = np.empty((n, n))
        with torch.no_grad():
            for j, b in enumerate(ys):
                for i, a in enumerate(xs):
                    z[j, i] = float(self.loss(torch.tensor([a, b])))
                if progress is not None and progress((j + 1) / n) is False:
                    raise Cancelled("the loss grid was cancelled")
        return xs, ys, z


def _slice_of(spec, model: torch.nn.Module, data: Any, rows: int, span: float, seed: int,
              name: str) -> ModelSlice:
    from workbench.core import catalog
    from workbench.core.training import loss_target_fn

    loss_fn = catalog.make_loss(spec.loss, data.meta, data.train.y)
    target = loss_target_fn(data.meta)
    idx = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(seed))[:rows]
    X, y = data.train.X[idx], target(data.train.y[idx])
    return ModelSlice(model.cpu(), loss_fn, X, y, span=span, seed=seed, name=name)


def model_slice(spec, checkpoint: str | Path, *, data: Any = None, base_dir: str | Path | None = None,
                rows: int = 1024, span: float = 1.0, seed: int = 0) -> ModelSlice:
    """The slice through the weights saved in `checkpoint` (a run's best.pt / last.pt), with the
    loss of `spec` on up to `rows` training rows. Raises CheckpointError, DataError, ModelError."""
    from workbench.core.diagnostics.probe import load_prepared
    from workbench.core.training import CheckpointError, build_model, load_checkpoint

    data = load_prepared(spec, data, base_dir)
    model, _ = build_model(spec, data.meta)
    state = load_checkpoint(checkpoint)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"{checkpoint} does not fit this model: {str(exc).splitlines()[0]}") from None
    return _slice_of(spec, model, data, rows, span, seed, spec.name)


def run_slice(store, run_id: int, *, rows: int = 1024, span: float = 1.0, seed: int = 0) -> ModelSlice:
    """The slice through a recorded run's final weights, on its own data (runs.restore_run).
    Raises ExperimentError naming the run and what to do."""
    from workbench.core.runs import restore_run

    restored = restore_run(store, run_id)
    return _slice_of(restored.spec, restored.model, restored.prepared, rows, span, seed,
                     f"run #{run_id} {restored.name}")
