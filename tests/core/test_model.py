"""model.py: shapes, counts, memory, and errors that name the layer and the fix."""

from __future__ import annotations


import pytest
import torch

from workbench.core.data import DatasetMeta
from workbench.core.training.model import MAX_PARAMS, ModelError, build_model, check_experiment, summarize
from workbench.core.spec import parse_spec

IMAGE = (1, 28, 28)


def meta(task="classification", n=3, width=None, shape=(2,)):
    names = [f"c{i}" for i in range(n)] if task == "classification" else []
    return DatasetMeta(source="test", kind="image" if len(shape) == 3 else "tabular", task=task, class_names=names,
                       feature_names=[], input_shape=shape, target_name="y",
                       target_width=width or (n if task == "classification" else 1), n_samples=100,
                       class_counts=[10] * n if task == "classification" else [])


def spec(*layers, loss="CrossEntropyLoss", optimizer=None, **top):
    raw = {"model": {"layers": list(layers)}, "loss": {"type": loss}, **top}
    if optimizer:
        raw["optimizer"] = optimizer
    return parse_spec(raw)


def L(type_, **params):
    return {"type": type_, **params}


MLP = (L("Linear", out_features=16), L("ReLU"), L("Linear", out_features="auto"))


def error_of(s, m) -> ModelError:
    with pytest.raises(ModelError) as info:
        build_model(s, m)
    return info.value


# ---- summary numbers -----------------------------------------------------------------------------


def test_mlp_summary_numbers_exact():
    s = summarize(spec(*MLP), meta(), batch_size=32)
    assert [(i.type, i.out_shape, i.params, i.flops) for i in s.layers] == [
        ("Linear", (16,), 2 * 16 + 16, 2 * 2 * 16),
        ("ReLU", (16,), 0, 0),
        ("Linear", (3,), 16 * 3 + 3, 2 * 16 * 3),
    ]
    assert (s.total_params, s.trainable_params, s.total_flops) == (99, 99, 160)
    assert (s.input_shape, s.output_shape, s.error) == ((2,), (3,), None)
    # float32: weights + grads + Adam's 2 state tensors + (input + every output) x batch
    assert s.memory == {"weights": 396, "gradients": 396, "optimizer": 792, "activations": 4 * 32 * (2 + 16 + 16 + 3)}
    assert s.memory_bytes == sum(s.memory.values())
    assert s.rows()[0] == {"index": 0, "type": "Linear", "out_shape": [16], "params": 48, "flops": 64, "error": None}


def test_memory_follows_optimizer_state_and_full_batch():
    sgd = summarize(spec(*MLP, optimizer={"type": "SGD", "lr": 0.1}), meta(), batch_size="full")
    assert sgd.memory["optimizer"] == 0
    assert sgd.memory["activations"] == 4 * 100 * 37  # "full" = every sample
    mom = summarize(spec(*MLP, optimizer={"type": "SGD", "lr": 0.1, "momentum": 0.9}), meta())
    assert mom.memory["optimizer"] == 4 * 99


def test_conv_and_rnn_flops_formulas():
    s = summarize(spec(L("Conv2d", out_channels=8), L("Flatten"), L("Linear", out_features="auto")),
                  meta(shape=(1, 8, 8)))
    assert s.layers[0].out_shape == (8, 6, 6) and s.layers[0].flops == 2 * 8 * 6 * 6 * 9
    assert s.layers[0].params == 8 * 9 + 8
    s = summarize(spec(L("Embedding", num_embeddings=10, embedding_dim=4), L("LSTM", hidden_size=8, num_layers=2),
                       L("Linear", out_features="auto")), meta(shape=(5,)))
    lstm = s.layers[1]
    assert lstm.in_shape == (5, 4) and lstm.out_shape == (8,)
    assert lstm.flops == 2 * 5 * 4 * 8 * (4 + 8) + 2 * 5 * 4 * 8 * (8 + 8)
    assert s.layers[0].flops == 0 and s.layers[0].params == 40


def test_image_cnn_builds_and_runs():
    s = spec(L("Conv2d", out_channels=8, padding="same"), L("BatchNorm2d"), L("ReLU"), L("MaxPool2d"),
             L("Dropout2d", p=0.1), L("AvgPool2d"), L("AdaptiveAvgPool2d", output_size=2), L("Flatten"),
             L("Dropout"), L("Linear", out_features="auto"))
    model, summary = build_model(s, meta(shape=IMAGE))
    assert [i.out_shape for i in summary.layers][:6] == [(8, 28, 28)] * 3 + [(8, 14, 14)] * 2 + [(8, 7, 7)]
    assert model(torch.randn(4, *IMAGE)).shape == (4, 3)
    assert model.training


def test_sequence_model_and_layernorm():
    s = spec(L("Embedding", num_embeddings=20, embedding_dim=6), L("LayerNorm"), L("Conv1d", out_channels=4,
             kernel_size=1), L("MaxPool1d", kernel_size=1), L("BatchNorm1d"), L("GRU", hidden_size=5, bidirectional=True),
             L("Linear", out_features="auto"), data={"source": "tokens.csv", "standardize": False})
    model, summary = build_model(s, meta(shape=(7,)))
    assert summary.layers[2].out_shape == (4, 6) and summary.layers[5].out_shape == (10,)
    x = torch.randint(0, 20, (3, 7)).float()
    assert model(x).shape == (3, 3)


def test_regression_auto_width_and_bce_single_logit():
    model, s = build_model(spec(L("Linear", out_features="auto"), loss="MSELoss"), meta("regression", width=2))
    assert s.output_shape == (2,)
    model, s = build_model(spec(L("Linear", out_features=1), loss="BCEWithLogitsLoss"), meta(n=2))
    assert s.output_shape == (1,)


# ---- residual blocks -----------------------------------------------------------------------------


def test_residual_same_shape_has_identity_projection():
    s = spec(L("Linear", out_features=8), L("Residual", layers=[L("Linear", out_features=8), L("ReLU")]),
             L("Linear", out_features="auto"))
    model, summary = build_model(s, meta())
    block = model[1]
    assert isinstance(block.projection, torch.nn.Identity) and summary.notes == []
    x = torch.randn(2, 8)
    torch.testing.assert_close(block(x), x + block.body(x))
    assert summary.layers[1].params == 8 * 8 + 8 and [i.type for i in summary.layers[1].inner] == ["Linear", "ReLU"]


def test_residual_projection_added_and_reported():
    s = spec(L("Residual", layers=[L("Conv2d", out_channels=4, stride=2, padding=1)]), L("Flatten"),
             L("Linear", out_features="auto"))
    model, summary = build_model(s, meta(shape=IMAGE))
    proj = model[0].projection
    assert isinstance(proj, torch.nn.Conv2d) and proj.kernel_size == (1, 1) and proj.stride == (2, 2)
    assert summary.layers[0].out_shape == (4, 14, 14)
    assert summary.notes == ["Layer 1 (Residual): added a Conv2d projection (1, 28, 28) -> (4, 14, 14) so the input "
                             "can be added to the output"]
    assert summary.layers[0].params == (4 * 9 + 4) + 4  # conv + bias-free 1x1 projection
    assert summary.layers[0].flops == 2 * 4 * 14 * 14 * 9 + 2 * 4 * 14 * 14
    flat = build_model(spec(L("Residual", layers=[L("Linear", out_features=5)]), L("Linear", out_features="auto")),
                       meta())[0]
    assert isinstance(flat[0].projection, torch.nn.Linear) and flat[0].projection.bias is None


def test_residual_errors_name_the_inner_layer():
    e = error_of(spec(L("Residual", layers=[L("ReLU"), L("Conv2d")]), L("Linear", out_features="auto")), meta())
    assert str(e).startswith("Layer 1 (Residual), inner layer 2 (Conv2d) needs images")
    assert (e.layer_index, e.layer_type) == (0, "Residual")
    e = error_of(spec(L("Residual", layers=[L("Flatten")]), L("Linear", out_features="auto")), meta(shape=IMAGE))
    assert "Layer 1 (Residual) turns images of shape (1, 28, 28) into flat features of shape (784,)" in str(e)
    assert "move Flatten" in str(e)
    s = summarize(spec(L("Residual", layers=[L("ReLU"), L("Conv2d")])), meta())
    assert s.layers[0].error and s.layers[0].inner[1].error and s.layers[0].inner[0].error is None


# ---- errors that name the layer and say what to change ------------------------------------------


@pytest.mark.parametrize("layers, shape, index, message", [
    ([L("Linear", out_features="auto")], IMAGE, 0,
     "Layer 1 (Linear) receives images of shape (1, 28, 28); add a Flatten layer before it"),
    ([L("Flatten"), L("Conv2d")], IMAGE, 1,
     "Layer 2 (Conv2d) needs images (channels, height, width) but receives flat features of shape (784,); "
     "Layer 1 (Flatten) flattened them; move Conv2d before the Flatten layer"),
    ([L("Conv2d")], (2,), 0,
     "Layer 1 (Conv2d) needs images (channels, height, width) but receives flat features of shape (2,); "
     "this data is tabular: use Linear layers (or load an image dataset)"),
    ([L("Conv2d", kernel_size=5), L("MaxPool2d", kernel_size=4), L("MaxPool2d", kernel_size=4), L("Conv2d")], IMAGE, 3,
     "Layer 4 (Conv2d) has kernel_size 3, larger than its input (1 x 1); use a smaller kernel_size, add padding, "
     "or remove a pooling/striding layer before it"),
    ([L("MaxPool2d", kernel_size=3, dilation=16)], IMAGE, 0,
     "Layer 1 (MaxPool2d) has kernel_size 3, larger than its input (28 x 28) (dilation 16 makes it span 33)"),
    ([L("Conv2d", kernel_size=[3, 3, 3])], IMAGE, 0,
     "Layer 1 (Conv2d) has 3 values [3, 3, 3] for 2 spatial dimension(s); give one value or 2"),
    ([L("LSTM")], (2,), 0,
     "Layer 1 (LSTM) needs sequences (steps, features) but receives flat features of shape (2,); add an Embedding "
     "layer before it (for token ids), or use Linear layers for tabular data"),
    ([L("GRU")], IMAGE, 0,
     "Layer 1 (GRU) needs sequences (steps, features) but receives images of shape (1, 28, 28); GRU works on "
     "sequences only"),
    ([L("Conv1d")], (2,), 0,
     "Layer 1 (Conv1d) needs 2-D input (channels, length) but receives flat features of shape (2,); for tabular "
     "data use Linear layers; for token ids add an Embedding layer first"),
    ([L("Conv1d")], IMAGE, 0, "Layer 1 (Conv1d) needs 2-D input (channels, length) but receives images of shape "
                              "(1, 28, 28); use Conv2d for images"),
    ([L("Flatten"), L("MaxPool1d")], IMAGE, 1, "Layer 1 (Flatten) flattened it; move MaxPool1d before the Flatten"),
    ([L("Embedding")], IMAGE, 0, "Layer 1 (Embedding) needs a row of integer token ids (steps,)"),
    ([L("BatchNorm1d")], IMAGE, 0, "use BatchNorm2d for images"),
    ([L("Dropout2d")], (2,), 0, "Layer 1 (Dropout2d) needs images"),
    ([L("Softmax", dim=3)], (2,), 0, "Layer 1 (Softmax) dim 3 does not exist"),
    ([L("Softmax", dim=0)], (2,), 0, "Layer 1 (Softmax) dim 0 is the batch dimension; use -1"),
    ([L("Linear", out_features=16)], (2,), 0,
     "Layer 1 (Linear), the last layer, outputs 16 values but CrossEntropyLoss needs one per class (3); "
     "set its out_features to 'auto' or 3"),
    ([L("Linear", out_features=3), L("ReLU"), L("Linear", out_features=3), L("Identity", )], (2,), None, None),
    ([L("Linear", out_features=16), L("ReLU")], (2,), 1,
     "Layer 2 (ReLU), the last layer, outputs 16 values but CrossEntropyLoss needs one per class (3); add a Linear "
     "layer with out_features 'auto' at the end"),
    ([L("Conv2d")], IMAGE, 0,
     "Layer 1 (Conv2d), the last layer, outputs images of shape (16, 26, 26) per sample but CrossEntropyLoss needs "
     "a flat vector of one per class (3); add Flatten and then a Linear layer with out_features 'auto' at the end"),
])
def test_shape_errors(layers, shape, index, message):
    s, m = spec(*layers), meta(shape=shape)
    if message is None:
        build_model(s, m)
        assert check_experiment(s, m) == []
        return
    e = error_of(s, m)
    assert message in str(e)
    assert e.layer_index == index and e.layer_type == layers[index]["type"]
    summary = summarize(s, m)  # never raises; marks the layer
    assert summary.layers[index].error == str(e)
    assert [i.error for i in summary.layers if i.error] == [str(e)]
    assert summary.total_params == sum(i.params for i in summary.layers[:index + 1])
    assert all(i.out_shape == () for i in summary.layers[index + 1:])
    assert check_experiment(s, m) == [str(e)]


def test_loss_task_mismatch():
    e = error_of(spec(*MLP, loss="MSELoss"), meta())
    assert str(e) == "MSELoss is for regression; this dataset is classification (3 classes): choose CrossEntropyLoss"
    assert e.layer_index is None
    e = error_of(spec(*MLP), meta("regression", width=2))
    assert str(e) == "CrossEntropyLoss is for classification; this dataset is regression (2 targets): choose MSELoss"


def test_regression_width_and_bce_widths():
    e = error_of(spec(L("Linear", out_features=3), loss="L1Loss"), meta("regression"))
    assert "outputs 3 values but L1Loss needs one per target (1); set its out_features to 'auto' or 1" in str(e)
    e = error_of(spec(L("Linear", out_features=1), loss="BCEWithLogitsLoss"), meta(n=3))
    assert "outputs 1 value but BCEWithLogitsLoss needs one per class (3)" in str(e)
    e = error_of(spec(L("Linear", out_features=3), loss="BCEWithLogitsLoss"), meta(n=2))
    assert "needs 1 or one per class (2); set its out_features to 'auto' or 2" in str(e)


def test_empty_model():
    e = error_of(spec(), meta())
    assert str(e).startswith("The model has no layers; add at least one") and e.layer_index is None
    assert summarize(spec(), meta()).layers == []
    assert check_experiment(spec(), meta()) == [str(e)]


def test_check_experiment_lists_every_problem():
    s = spec(L("Linear", out_features=4), loss="MSELoss", schedule={"type": "OneCycleLR", "warmup": {"epochs": 2}})
    assert check_experiment(s, meta()) == [
        "MSELoss is for regression; this dataset is classification (3 classes): choose CrossEntropyLoss",
        "schedule.warmup: OneCycleLR has its own warm-up (pct_start); remove the warmup",
    ]


def test_huge_layer_refused_without_allocating():
    s = spec(L("Flatten"), L("Linear", out_features=65536), L("Linear", out_features="auto"))
    m = meta(shape=(3, 128, 128))
    assert 3 * 128 * 128 * 65536 > MAX_PARAMS
    e = error_of(s, m)
    assert str(e).startswith("Layer 2 (Linear) would have 3,221,291,008 parameters (12.9 GB); make it smaller")
    big = summarize(spec(L("Flatten"), L("Linear", out_features=4096), L("Linear", out_features="auto")), m)
    assert big.total_params == (3 * 128 * 128 + 1) * 4096 + 4097 * 3  # 200M: shapes inferred without building


def test_notes_for_softmax_before_cross_entropy():
    s = summarize(spec(L("Linear", out_features="auto"), L("Softmax")), meta())
    assert s.error is None
    assert s.notes == ["Layer 2 (Softmax) ends the model, but CrossEntropyLoss expects raw scores and applies softmax "
                       "itself; removing it usually trains better"]


# ---- determinism and speed -----------------------------------------------------------------------


def test_build_is_deterministic_and_summarize_leaves_rng_alone():
    s = spec(L("Conv2d", out_channels=4), L("Flatten"), *MLP)
    m = meta(shape=(1, 6, 6))
    torch.manual_seed(7)
    a, _ = build_model(s, m)
    torch.manual_seed(7)
    summarize(s, m)
    check_experiment(s, m)
    b, _ = build_model(s, m)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    assert list(a.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]


EMBEDDING_ON_FLOATS = ("Layer 1 (Embedding) needs integer token ids in [0, num_embeddings); this data has "
                       "standardized float features. Set data.standardize to false and use integer-coded features, "
                       "or remove the Embedding layer.")


def test_embedding_first_needs_integer_ids_not_standardized_floats():
    layers = (L("Embedding", num_embeddings=10, embedding_dim=4), L("Flatten"), L("Linear", out_features="auto"))
    standardized = spec(*layers)  # data.standardize is true by default
    assert EMBEDDING_ON_FLOATS in check_experiment(standardized, meta(shape=(5,)))
    e = error_of(standardized, meta(shape=(5,)))
    assert str(e) == EMBEDDING_ON_FLOATS and (e.layer_index, e.layer_type) == (0, "Embedding")
    # integer-coded data, not standardized: fine
    ids = spec(*layers, data={"source": "codes.csv", "standardize": False})
    assert check_experiment(ids, meta(shape=(5,))) == []
    build_model(ids, meta(shape=(5,)))
    # a built-in sample of float points, even unstandardized
    spiral = spec(*layers, data={"source": "sample:spiral", "standardize": False})
    problems = check_experiment(spiral, meta(shape=(2,)))
    assert any(p.startswith("Layer 1 (Embedding) needs integer token ids") and "sample:spiral has float features"
               in p for p in problems)
    # an Embedding further down is not about the input features
    later = spec(L("Linear", out_features=4), L("Embedding", num_embeddings=10, embedding_dim=2), L("Flatten"),
                 L("Linear", out_features="auto"))
    assert EMBEDDING_ON_FLOATS not in check_experiment(later, meta())
