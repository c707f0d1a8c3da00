"""Catalog: every entry builds and works from its defaults; every param_problems branch."""

from __future__ import annotations

import math

import pytest
import torch

from workbench.core import catalog
from workbench.core.catalog import Entry, Param, param_problems
from workbench.core.catalog import LayerContext
from workbench.core.data import DatasetMeta
from workbench.core.spec import LossSpec, OptimizerSpec, ScheduleSpec, WarmupSpec


def meta(task="classification", n=3, width=None, shape=(4,)):
    names = [f"c{i}" for i in range(n)] if task == "classification" else []
    return DatasetMeta(source="test", kind="image" if len(shape) == 3 else "tabular", task=task, class_names=names,
                       feature_names=[], input_shape=shape, target_name="y",
                       target_width=width or (n if task == "classification" else 1), n_samples=12,
                       class_counts=[4] * n if task == "classification" else [])


# ---- every entry is documented and its defaults validate --------------------------------------


@pytest.mark.parametrize("kind", ["layer", "loss", "optimizer", "schedule", "metric"])
def test_entries_documented_and_defaults_valid(kind):
    assert catalog.entries(kind)
    for entry in catalog.entries(kind):
        assert entry.help and entry.group, entry.name
        for p in entry.params:
            assert p.help, f"{entry.name}.{p.name}"
            assert p.problem(p.default) is None, f"{entry.name}.{p.name} default {p.default!r}"
        assert param_problems(kind, entry.name, entry.defaults()) == []


def test_in_feature_sizes_are_never_params():
    inferred = {"in_features", "in_channels", "num_features", "normalized_shape", "input_size"}
    for entry in catalog.entries("layer"):
        assert not inferred & {p.name for p in entry.params}, entry.name


def test_defaults_are_copies():
    e = catalog.get_entry("schedule", "MultiStepLR")
    e.defaults()["milestones"].append(99)
    assert e.defaults()["milestones"] == [30, 40]


def test_get_entry_unknown_lists_allowed():
    with pytest.raises(KeyError, match="unknown optimizer 'Adamm'; did you mean 'Adam'\\? allowed: SGD, Adam"):
        catalog.get_entry("optimizer", "Adamm")


# ---- layers: build from defaults on a suitable input, forward + backward -------------------------

INPUTS = {"features": (8,), "any": (8,), "image": (3, 12, 12), "signal": (4, 16), "sequence": (6, 5),
          "tokens": (7,)}
DEFAULT_FITS = {"Unflatten": (64,)}  # its default reshapes 64 features into a 1x8x8 image


@pytest.mark.parametrize("name", [e.name for e in catalog.entries("layer") if not e.info.get("composite")])
def test_layer_builds_and_trains_from_defaults(name):
    entry = catalog.get_entry("layer", name)
    shape = DEFAULT_FITS.get(name, INPUTS[entry.info["accepts"]])
    module = entry.factory(entry.defaults(), shape, LayerContext(target_width=3))
    if entry.info["accepts"] == "tokens":
        x = torch.randint(0, 10, (4, *shape)).float()
    else:
        x = torch.randn(4, *shape, requires_grad=True)
    y = module(x)
    assert y.shape[0] == 4 and torch.isfinite(y).all()
    y.float().pow(2).sum().backward()
    params = list(module.parameters())
    assert all(p.grad is not None for p in params)
    if not params:
        assert x.grad is not None


def test_linear_auto_and_embedding_cast():
    ctx = LayerContext(target_width=5)
    lin = catalog.get_entry("layer", "Linear").factory({"out_features": "auto", "bias": False}, (8,), ctx)
    assert (lin.in_features, lin.out_features, lin.bias) == (8, 5, None)
    emb = catalog.get_entry("layer", "Embedding").factory({"num_embeddings": 10, "embedding_dim": 3}, (4,), ctx)
    assert emb(torch.tensor([[1.0, 2.0, 9.0, 0.0]])).shape == (1, 4, 3)


@pytest.mark.parametrize("name, bidirectional, width", [("LSTM", False, 8), ("GRU", True, 16)])
def test_rnn_returns_last_step(name, bidirectional, width):
    entry = catalog.get_entry("layer", name)
    p = entry.with_defaults({"hidden_size": 8, "bidirectional": bidirectional, "num_layers": 2})
    module = entry.factory(p, (6, 5), LayerContext(target_width=3))
    x = torch.randn(3, 6, 5)
    y = module(x)
    assert y.shape == (3, width)
    out, _ = module.rnn(x)
    torch.testing.assert_close(y[:, :8], out[:, -1, :8])       # forward direction: last step
    if bidirectional:
        torch.testing.assert_close(y[:, 8:], out[:, 0, 8:])    # backward direction: its final state


def test_rnn_dropout_with_one_layer_is_noted_not_passed():
    ctx = LayerContext(target_width=3)
    entry = catalog.get_entry("layer", "LSTM")
    module = entry.factory(entry.with_defaults({"dropout": 0.5}), (6, 5), ctx)
    assert module.rnn.dropout == 0 and "ignored" in ctx.notes[0]


# ---- losses ------------------------------------------------------------------------------------


def _targets(task, n=3, width=2, count=12):
    g = torch.Generator().manual_seed(0)
    if task == "classification":
        return torch.arange(count) % n
    return torch.randn(count, width, generator=g)


@pytest.mark.parametrize("name", [e.name for e in catalog.entries("loss")])
def test_loss_on_suitable_outputs(name):
    entry = catalog.get_entry("loss", name)
    task = entry.info["tasks"][0]
    m = meta(task, n=3, width=2)
    y = _targets(task)
    fn = catalog.make_loss(LossSpec(type=name), m, y)
    width = entry.info["widths"](m)[-1]
    out = torch.randn(len(y), width, requires_grad=True)
    loss = fn(out, y)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert out.grad is not None


def test_losses_for_task():
    assert [e.name for e in catalog.losses_for_task("regression")] == ["MSELoss", "L1Loss", "SmoothL1Loss",
                                                                        "HuberLoss"]
    assert [e.name for e in catalog.losses_for_task("classification")] == ["CrossEntropyLoss", "NLLLoss",
                                                                            "BCEWithLogitsLoss"]


def test_make_loss_rejects_wrong_task():
    with pytest.raises(ValueError, match="MSELoss is for regression; this dataset is classification"):
        catalog.make_loss(LossSpec(type="MSELoss"), meta(), None)


def test_regression_loss_reshapes_targets_and_matches_torch():
    fn = catalog.make_loss(LossSpec(type="HuberLoss", delta=0.5), meta("regression"), None)
    out, y = torch.randn(5, 1), torch.randn(5)
    torch.testing.assert_close(fn(out, y), torch.nn.functional.huber_loss(out, y.view(5, 1), delta=0.5))


def test_nll_applies_log_softmax_and_equals_cross_entropy():
    y = _targets("classification")
    out = torch.randn(len(y), 3)
    ce = catalog.make_loss(LossSpec(type="CrossEntropyLoss"), meta(), y)(out, y)
    nll = catalog.make_loss(LossSpec(type="NLLLoss"), meta(), y)(out, y)
    torch.testing.assert_close(ce, nll)


def test_balanced_class_weights_from_train_y():
    y = torch.tensor([0, 0, 0, 1])  # class 2 absent -> weight 1
    fn = catalog.make_loss(LossSpec(type="CrossEntropyLoss", weight="balanced", label_smoothing=0.1), meta(), y)
    torch.testing.assert_close(fn.criterion.weight, torch.tensor([4 / 9, 4 / 3, 1.0]))
    out = torch.randn(4, 3)
    expected = torch.nn.functional.cross_entropy(out, y, weight=torch.tensor([4 / 9, 4 / 3, 1.0]),
                                                 label_smoothing=0.1)
    torch.testing.assert_close(fn(out, y), expected)
    # without train_y the dataset's class counts are used
    fn2 = catalog.make_loss(LossSpec(type="NLLLoss", weight="balanced"), meta(), None)
    torch.testing.assert_close(fn2.criterion.weight, torch.ones(3))


def test_bce_binary_width_one_and_one_hot():
    m2 = meta(n=2)
    y = torch.tensor([0, 1, 1, 1])
    fn = catalog.make_loss(LossSpec(type="BCEWithLogitsLoss", pos_weight="balanced"), m2, y)
    out1 = torch.randn(4, 1)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        out1, y.float().view(4, 1), pos_weight=torch.tensor([1 / 3]))
    torch.testing.assert_close(fn(out1, y), expected)
    out2 = torch.randn(4, 2)
    onehot = torch.tensor([[1.0, 0], [0, 1], [0, 1], [0, 1]])
    expected2 = torch.nn.functional.binary_cross_entropy_with_logits(out2, onehot, pos_weight=torch.tensor([3.0, 1 / 3]))
    torch.testing.assert_close(fn(out2, y), expected2)
    assert catalog.get_entry("loss", "BCEWithLogitsLoss").info["widths"](m2) == [1, 2]
    assert catalog.get_entry("loss", "BCEWithLogitsLoss").info["widths"](meta(n=3)) == [3]


def test_loss_module_moves_with_to():
    fn = catalog.make_loss(LossSpec(type="CrossEntropyLoss", weight="balanced"), meta(), _targets("classification"))
    assert "criterion.weight" in dict(fn.named_buffers())
    fn.to(torch.float64)
    assert fn.criterion.weight.dtype == torch.float64


# ---- optimizers --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [e.name for e in catalog.entries("optimizer")])
def test_optimizer_one_step(name):
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(3))
    opt = catalog.make_optimizer(OptimizerSpec(type=name), [w])
    before = w.detach().clone()

    def closure():
        opt.zero_grad()
        loss = (w - 1).pow(2).sum()
        loss.backward()
        return loss

    if catalog.get_entry("optimizer", name).info["needs_closure"]:
        opt.step(closure)
    else:
        closure()
        opt.step()
    assert not torch.equal(before, w.detach())
    assert (w.detach() - 1).pow(2).sum() < (before - 1).pow(2).sum()


def test_optimizer_param_mapping():
    w = torch.nn.Parameter(torch.zeros(1))
    adam = catalog.make_optimizer(OptimizerSpec(type="AdamW", lr=0.5, beta1=0.8, beta2=0.9), [w])
    assert adam.defaults["betas"] == (0.8, 0.9) and adam.defaults["lr"] == 0.5
    lbfgs = catalog.make_optimizer(OptimizerSpec(type="LBFGS", line_search_fn="strong_wolfe"), [w])
    assert lbfgs.defaults["line_search_fn"] == "strong_wolfe"
    assert catalog.get_entry("optimizer", "LBFGS").info["full_batch"] is True
    assert catalog.get_entry("optimizer", "Adam").param("lr").log is True


# ---- schedules ---------------------------------------------------------------------------------


def _opt(lr=0.1):
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=lr, momentum=0.9)
    return opt


def _run(handle, opt, steps=5):
    lrs = []
    for _ in range(steps):
        opt.step()
        handle.step(1.0 if handle.needs_metric else None)
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


@pytest.mark.parametrize("name", [e.name for e in catalog.entries("schedule")])
@pytest.mark.parametrize("warmup", [False, True])
def test_schedule_five_steps(name, warmup):
    spec = ScheduleSpec(type=name, warmup=WarmupSpec(epochs=2, start_factor=0.5) if warmup else None)
    opt = _opt()
    if warmup and not catalog.get_entry("schedule", name).info.get("warmup_ok", True):
        with pytest.raises(ValueError, match="has its own warm-up"):
            catalog.make_scheduler(spec, opt, epochs=5, steps_per_epoch=1)
        return
    handle = catalog.make_scheduler(spec, opt, epochs=5, steps_per_epoch=1)
    assert handle.step_per == catalog.get_entry("schedule", name).info["step_per"]
    if warmup:
        assert opt.param_groups[0]["lr"] == pytest.approx(0.05)
    lrs = _run(handle, opt)
    assert all(math.isfinite(x) and x >= 0 for x in lrs)
    if warmup and name != "LinearLR":  # LinearLR itself starts at its own start_factor
        assert lrs[1] == pytest.approx(0.1)  # warmup over: the schedule starts from the base lr


def test_plateau_needs_metric_and_reduces():
    opt = _opt()
    handle = catalog.make_scheduler(ScheduleSpec(type="ReduceLROnPlateau", patience=1, factor=0.5), opt, 10, 4)
    assert handle.needs_metric and handle.step_per == "epoch"
    with pytest.raises(ValueError, match="validation loss"):
        handle.step()
    assert _run(handle, opt) == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_onecycle_steps_per_batch_and_holds_at_the_end():
    opt = _opt()
    handle = catalog.make_scheduler(ScheduleSpec(type="OneCycleLR", max_lr=1.0), opt, epochs=2, steps_per_epoch=3)
    assert handle.step_per == "batch" and handle.total_steps == 5
    lrs = _run(handle, opt, steps=8)  # two more than the run has: ignored, not an error
    assert 0.9 < max(lrs) <= 1.0 and lrs[-1] == lrs[-2] == lrs[-3] < 0.001


def test_onecycle_without_momentum_optimizer():
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adagrad([w], lr=0.1)
    handle = catalog.make_scheduler(ScheduleSpec(type="OneCycleLR"), opt, epochs=2, steps_per_epoch=2)
    assert _run(handle, opt, 2)


def test_cosine_auto_t_max_spans_the_run_after_warmup():
    opt = _opt()
    spec = ScheduleSpec(type="CosineAnnealingLR", warmup=WarmupSpec(epochs=2, start_factor=0.5))
    handle = catalog.make_scheduler(spec, opt, epochs=6, steps_per_epoch=1)
    lrs = [opt.param_groups[0]["lr"]] + _run(handle, opt, 6)
    assert lrs[:3] == pytest.approx([0.05, 0.075, 0.1])
    assert lrs[-1] == pytest.approx(0.0, abs=1e-12)  # cosine over the 4 remaining epochs reaches eta_min


def test_scheduler_state_round_trip():
    opt = _opt()
    handle = catalog.make_scheduler(ScheduleSpec(type="StepLR", step_size=2), opt, 5, 1)
    _run(handle, opt, 3)
    state = handle.state_dict()
    opt2 = _opt()
    handle2 = catalog.make_scheduler(ScheduleSpec(type="StepLR", step_size=2), opt2, 5, 1)
    handle2.load_state_dict(state)
    assert handle2.steps == 3 and handle2.scheduler.last_epoch == 3


def test_make_scheduler_none():
    assert catalog.make_scheduler(None, _opt(), 5, 1) is None


def test_lr_curve():
    assert catalog.lr_curve(None, 0.1, 3) == [0.1, 0.1, 0.1]
    assert catalog.lr_curve(ScheduleSpec(type="StepLR", step_size=2, gamma=0.5), 0.1, 5) == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025])
    warm = catalog.lr_curve(ScheduleSpec(type="ExponentialLR", gamma=0.5, warmup=WarmupSpec(epochs=2, start_factor=0.5)),
                            1.0, 5)
    assert warm == pytest.approx([0.5, 0.75, 1.0, 0.5, 0.25])
    one = catalog.lr_curve(ScheduleSpec(type="OneCycleLR", max_lr=1.0), 0.1, 10, steps_per_epoch=100_000)
    assert len(one) == 10 and 0.99 < max(one) <= 1.0 and one[0] == pytest.approx(0.04) and one[-1] < one[4]
    plateau = catalog.lr_curve(ScheduleSpec(type="ReduceLROnPlateau", patience=1, factor=0.5), 1.0, 5)
    assert plateau == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.5])  # as if the metric never improves


# ---- metric entries ----------------------------------------------------------------------------


def test_metric_entries():
    tasks = {e.name: e.info["task"] for e in catalog.entries("metric")}
    assert tasks == {"loss": "any", "accuracy": "classification", "precision": "classification",
                     "recall": "classification", "f1": "classification", "confusion_matrix": "classification",
                     "roc_auc": "classification", "auc": "classification", "average_precision": "classification",
                     "top_k_accuracy": "classification", "mae": "regression", "rmse": "regression",
                     "r2": "regression", "mape": "regression"}


@pytest.mark.parametrize("key, direction", [
    ("loss", "min"), ("val_loss", "min"), ("test_loss", "min"), ("accuracy", "max"), ("val_accuracy", "max"),
    ("test_r2", "max"), ("val_mae", "min"), ("rmse", "min"), ("val_f1", "max"), ("macro_f1", "max"),
    ("top5_accuracy", "max"), ("val_roc_auc", "max"), ("test_mape", "min"), ("my_custom_error", "min"),
])
def test_metric_direction_is_read_from_the_catalog(key, direction):
    assert catalog.metric_direction(key) == direction
    assert catalog.better(key, 2.0, 1.0) == (direction == "max")


# ---- param_problems, every branch --------------------------------------------------------------


def test_param_problems_unknown_entry_and_param():
    assert param_problems("layer", "Dense", {}) == [
        ("type", "unknown layer 'Dense'; allowed: " + ", ".join(e.name for e in catalog.entries("layer")))]
    assert param_problems("layer", "Linear", {"units": 3}) == [
        ("units", "Linear has no parameter 'units'; its parameters: out_features, bias")]
    assert param_problems("layer", "ReLU", {"inplace": True}) == [
        ("inplace", "ReLU has no parameter 'inplace'; its parameters: none")]


def test_param_problems_suggest_close_names():
    allowed = ", ".join(e.name for e in catalog.entries("layer"))
    assert param_problems("layer", "relu", {}) == [
        ("type", f"unknown layer 'relu'; did you mean 'ReLU'? allowed: {allowed}")]
    assert param_problems("layer", "Conv2D", {}) == [
        ("type", f"unknown layer 'Conv2D'; did you mean 'Conv2d'? allowed: {allowed}")]
    assert param_problems("layer", "Linear", {"Out_Features": 3}) == [
        ("Out_Features", "Linear has no parameter 'Out_Features'; did you mean 'out_features'? "
                         "its parameters: out_features, bias")]
    assert param_problems("optimizer", "SGD", {"momentm": 0.9})[0][1].startswith(
        "SGD has no parameter 'momentm'; did you mean 'momentum'? its parameters: lr")
    assert catalog.close_match("Zzzz", ["ReLU"]) is None and catalog.did_you_mean(3, ["ReLU"]) == ""


@pytest.mark.parametrize("param, value, message", [
    (Param("x", "int", 1, low=1, high=5), None, "must not be empty; must be an integer in [1, 5]"),
    (Param("x", "int", 1, low=1, high=5), 0, "must be an integer in [1, 5] (got 0)"),
    (Param("x", "int", 1, low=1, high=5), 6, "must be an integer in [1, 5] (got 6)"),
    (Param("x", "int", 1, low=1), 2.0, "must be an integer ≥ 1 (got 2.0)"),
    (Param("x", "int", 1, high=3), True, "must be an integer ≤ 3 (got True)"),
    (Param("x", "int", 1), "3", "must be an integer (got '3')"),
    (Param("x", "float", 1.0, low=0.0, high=1.0), 1.5, "must be a number in [0, 1] (got 1.5)"),
    (Param("x", "float", 1.0), float("nan"), "must be a number (got nan)"),
    (Param("x", "float", 1.0), float("inf"), "must be a number (got inf)"),
    (Param("x", "bool", True), 1, "must be true or false (got 1)"),
    (Param("x", "str", ""), 1, "must be text (got 1)"),
    (Param("x", "choice", "a", choices=("a", "b")), "c", "must be one of 'a', 'b' (got 'c')"),
    (Param("x", "int_or_auto", 1, low=1), "automatic", "must be an integer ≥ 1 or 'auto' (got 'automatic')"),
    (Param("x", "int_or_auto", 1, low=1), 0, "must be an integer ≥ 1 or 'auto' (got 0)"),
    (Param("x", "ints", 1, low=1), [], "must be an integer ≥ 1 or a list of them (got [])"),
    (Param("x", "ints", 1, low=1), [2, 0], "must be an integer ≥ 1 or a list of them (got [2, 0])"),
    (Param("x", "ints", 1, low=0, choices=("same",)), "full",
     "must be an integer ≥ 0 or a list of them, or one of 'same' (got 'full')"),
    (Param("x", "float_or_choice", 1.0, low=0.0, choices=("balanced",)), "auto",
     "must be a number ≥ 0 or one of 'balanced' (got 'auto')"),
    (Param("x", "float_or_choice", 1.0, low=0.0, choices=("balanced",)), -1.0,
     "must be a number ≥ 0 or one of 'balanced' (got -1.0)"),
])
def test_param_problem_messages(param, value, message):
    assert param.problem(value) == message


@pytest.mark.parametrize("param, value", [
    (Param("x", "int", 1, low=1, high=5, nullable=True), None),
    (Param("x", "float", 1.0, low=0.0), 3),
    (Param("x", "int_or_auto", 1, low=1), "auto"),
    (Param("x", "ints", 1, low=1), [1, 2]),
    (Param("x", "ints", 1, low=0, choices=("same",)), "same"),
    (Param("x", "float_or_choice", 1.0, choices=("balanced",)), "balanced"),
    (Param("x", "float_or_choice", 1.0, choices=("balanced",)), 0.5),
])
def test_param_problem_accepts(param, value):
    assert param.problem(value) is None


def test_nullable_allowed_words():
    assert Param("stride", "ints", None, low=1, nullable=True).allowed() == \
        "must be an integer ≥ 1 or a list of them or null"


def test_entry_level_checks():
    assert param_problems("optimizer", "SGD", {"nesterov": True}) == [
        ("nesterov", "Nesterov momentum needs momentum > 0 and dampening 0")]
    assert param_problems("optimizer", "SGD", {"nesterov": True, "momentum": 0.9}) == []
    assert param_problems("layer", "Conv2d", {"padding": "same", "stride": 2}) == [
        ("padding", "'same' padding needs stride 1; set padding to a number or stride to 1")]
    assert param_problems("layer", "MaxPool2d", {"kernel_size": 2, "padding": 2}) == [
        ("padding", "must be at most half the kernel_size (1)")]
    # entry checks run only once each parameter is fine on its own
    assert param_problems("optimizer", "SGD", {"nesterov": True, "momentum": "x"})[0][0] == "momentum"


def test_register_adds_an_entry():
    e = Entry(name="_TestOnly", kind="metric", group="Test", help="x")
    try:
        assert catalog.register(e) is e and catalog.get_entry("metric", "_TestOnly") is e
    finally:
        catalog.REGISTRY["metric"].pop("_TestOnly")
