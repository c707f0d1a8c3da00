"""Loss entries and `make_loss`.

Every loss is built as a wrapper module with one calling convention, so the trainer stays
generic: `loss_fn(model_output, y)` where `y` is the target exactly as the data layer stores it
(classification: int64 class indices, shape (N,); regression: float32 (N, target_width)).

Output/target conventions:
- regression losses: output (N, target_width); y is reshaped to the output's shape.
- CrossEntropyLoss: output (N, n_classes) raw logits.
- NLLLoss: output (N, n_classes) raw logits; the wrapper applies log_softmax itself (so it equals
  CrossEntropyLoss; do not end the model with Softmax).
- BCEWithLogitsLoss: either output (N, 1) for 2 classes (y is used as the 0/1 target of class 1;
  predict class 1 when the logit > 0), or output (N, n_classes) with one-hot targets built here
  (multi-class, one sigmoid per class; predict the argmax).

Wrappers keep class weights as buffers: move the loss with `.to(device)` like the model (it also
moves itself on first use on another device).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.core.catalog.registry import REGISTRY, Entry, Param, register

if TYPE_CHECKING:
    import torch

    from workbench.core.catalog.loss_modules import TaskLoss

# The wrapper modules live in loss_modules.py so that this palette imports without torch (which
# takes seconds).


# ---- class weights ----------------------------------------------------------------------------


def class_counts(meta: Any, train_y: torch.Tensor | None) -> torch.Tensor:
    import torch

    n = len(meta.class_names) or meta.target_width
    if train_y is not None:
        return torch.bincount(train_y.reshape(-1).long().cpu(), minlength=n)[:n].to(torch.float32)
    return torch.tensor(list(meta.class_counts), dtype=torch.float32)


def balanced_weights(counts: torch.Tensor) -> torch.Tensor:
    """N / (n_classes * count_c), as scikit-learn's 'balanced'; 1.0 for classes absent from training."""
    import torch

    total, n = counts.sum(), len(counts)
    return torch.where(counts > 0, total / (n * counts.clamp(min=1)), torch.ones_like(counts))


def balanced_pos_weight(counts: torch.Tensor) -> torch.Tensor:
    """negatives / positives per class; 1.0 for classes absent from training."""
    import torch

    total = counts.sum()
    return torch.where(counts > 0, (total - counts) / counts.clamp(min=1), torch.ones_like(counts))


# ---- widths the final layer may have -------------------------------------------------------------


def _n_classes(meta) -> int:
    return len(meta.class_names) or meta.target_width


def _regression_widths(meta) -> list[int]:
    return [meta.target_width]


def _class_widths(meta) -> list[int]:
    return [_n_classes(meta)]


def _bce_widths(meta) -> list[int]:
    n = _n_classes(meta)
    return [1, n] if n == 2 else [n]


# ---- factories ---------------------------------------------------------------------------------


def _regression(name: str):
    def make(p, meta, train_y):
        from torch import nn

        from workbench.core.catalog.loss_modules import RegressionLoss

        return RegressionLoss(getattr(nn, name)(**p), name)

    return make


def _class_index(name: str, log_softmax: bool):
    def make(p, meta, train_y):
        from torch import nn

        from workbench.core.catalog.loss_modules import ClassIndexLoss

        cls = getattr(nn, name)
        p = dict(p)
        weight = None
        if p.pop("weight", "none") == "balanced":
            weight = balanced_weights(class_counts(meta, train_y))
        return ClassIndexLoss(cls(weight=weight, **p), name, log_softmax)

    return make


def make_bce(p, meta, train_y):
    from workbench.core.catalog.loss_modules import BinaryLogitsLoss

    pos_weight = None
    if p.get("pos_weight", "none") == "balanced":
        pos_weight = balanced_pos_weight(class_counts(meta, train_y))
    return BinaryLogitsLoss(pos_weight)


_WEIGHT = Param("weight", "choice", "none", "'balanced' weighs classes by inverse frequency in the training set",
                choices=("none", "balanced"))
_REG = dict(tasks=("regression",), widths=_regression_widths)
_CLS = dict(tasks=("classification",), widths=_class_widths)


def _loss(name, help_, params, factory, **info):
    register(Entry(name=name, kind="loss", group="Regression" if info["tasks"] == ("regression",) else
                   "Classification", help=help_, params=tuple(params), factory=factory, info=info))


_loss("MSELoss", "Mean squared error", (), _regression("MSELoss"), **_REG)
_loss("L1Loss", "Mean absolute error (robust to outliers)", (), _regression("L1Loss"), **_REG)
_loss("SmoothL1Loss", "Squared error below beta, absolute error above",
      (Param("beta", "float", 1.0, "where the loss switches from squared to absolute", 0.0, 100.0),),
      _regression("SmoothL1Loss"), **_REG)
_loss("HuberLoss", "Squared error below delta, linear above (scaled by delta)",
      (Param("delta", "float", 1.0, "where the loss switches from squared to linear", 1e-4, 100.0),),
      _regression("HuberLoss"), **_REG)
_loss("CrossEntropyLoss", "Softmax + negative log-likelihood on raw scores; the last layer outputs one score "
      "per class", (Param("label_smoothing", "float", 0.0, "spreads this much target probability over all classes",
                          0.0, 1.0), _WEIGHT),
      _class_index("CrossEntropyLoss", log_softmax=False), **_CLS)
_loss("NLLLoss", "Negative log-likelihood; applies log_softmax to the model's raw outputs itself (same as "
      "CrossEntropyLoss; do not end the model with Softmax)", (_WEIGHT,),
      _class_index("NLLLoss", log_softmax=True), **_CLS)
_loss("BCEWithLogitsLoss", "Sigmoid + binary cross-entropy per output: 1 output for 2 classes, or one per class "
      "(one-hot targets)",
      (Param("pos_weight", "choice", "none", "'balanced' weighs positives by negatives/positives in training",
             choices=("none", "balanced")),),
      make_bce, tasks=("classification",), widths=_bce_widths)


# ---- helpers -----------------------------------------------------------------------------------


def losses_for_task(task: str) -> list[Entry]:
    """Loss entries that fit a task ("classification" | "regression"), in palette order."""
    return [e for e in REGISTRY["loss"].values() if task in e.info["tasks"]]


def default_loss(task: str) -> str:
    return "MSELoss" if task == "regression" else "CrossEntropyLoss"


def make_loss(loss_spec, meta, train_y: torch.Tensor | None = None) -> TaskLoss:
    """Build the loss wrapper: call it as loss_fn(model_output, y_as_stored).

    `train_y` (the training targets) is used for 'balanced' class weights; without it the
    dataset's class_counts are used."""
    from workbench.core.catalog.registry import get_entry

    entry = get_entry("loss", loss_spec.type)
    if meta.task not in entry.info["tasks"]:
        raise ValueError(f"{entry.name} is for {entry.info['tasks'][0]}; this dataset is {meta.task}: choose "
                         f"{default_loss(meta.task)}")
    return entry.factory(entry.with_defaults(loss_spec.params), meta, train_y)
