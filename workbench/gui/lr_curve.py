"""The learning rate a schedule will give at each epoch, for the training panel's preview.

Steps the catalog's real scheduler on a throwaway one-parameter optimizer, so the preview is
exactly what the trainer will do (warmup included). Per-batch schedules are stepped a few
times per epoch: the shape over the run is the same, the cost stays small.
"""

from __future__ import annotations

import warnings

from workbench.core.spec import ExperimentSpec

MAX_PREVIEW_EPOCHS = 2000


def _make_scheduler():
    from workbench.core import catalog

    fn = getattr(catalog, "make_scheduler", None)
    if fn is None:
        from workbench.core.catalog import make_scheduler as fn
    return fn


def lr_curve(spec: ExperimentSpec, steps_per_epoch: int = 4) -> list[float]:
    """One learning rate per epoch (the rate used during that epoch); [] if it cannot be computed."""
    epochs = min(spec.train.epochs, MAX_PREVIEW_EPOCHS)
    lr = float(spec.optimizer.params.get("lr", 0.001))
    if spec.schedule is None:
        return [lr] * epochs  # (called on the GUI thread: must not import torch)
    import torch

    steps_per_epoch = max(1, min(int(steps_per_epoch), 8))
    try:
        weight = torch.nn.Parameter(torch.zeros(1))
        optimizer = torch.optim.SGD([weight], lr=lr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()"
            handle = _make_scheduler()(spec.schedule, optimizer, epochs, steps_per_epoch)
            if handle is None:
                return [lr] * epochs
            out = []
            for _ in range(epochs):
                out.append(float(optimizer.param_groups[0]["lr"]))
                if getattr(handle, "needs_metric", False):
                    handle.step(1.0)  # a flat metric: the preview shows the plateau schedule's floor
                elif getattr(handle, "step_per", "epoch") == "batch":
                    for _ in range(steps_per_epoch):
                        optimizer.step()
                        handle.step()
                else:
                    optimizer.step()
                    handle.step()
        return out
    except Exception:
        return []
