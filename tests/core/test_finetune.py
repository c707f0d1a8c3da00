"""Fine-tuning: starting from another run's weights or a safetensors file (layers matched by
shape), frozen layers, per-layer learning-rate multipliers, the unfreeze epoch, the data options
that make a few-shot task (data.classes, data.train_per_class) and the Unflatten layer."""

from __future__ import annotations

import json

import pytest
import torch

from workbench.cli import main
from workbench.core.data import DataError, load_dataset, prepare
from workbench.core.export import export_model
from workbench.core.runs import RunStore, run_weights_path
from workbench.core.spec import SpecError, parse_spec
from workbench.core.training import (
    Callback,
    CheckpointError,
    EpochEnd,
    RunFailed,
    RunFinished,
    RunStarted,
    build_model,
    load_initial_weights,
    read_weights,
    train,
)

from tests.core.export_support import load_script, restored, run_script, train_run

MLP = [{"type": "Linear", "out_features": 32}, {"type": "ReLU"}, {"type": "Linear", "out_features": "auto"}]


def digits_spec(classes=None, layers=MLP, epochs=2, **extra):
    data = {"source": "sample:digits", "classes": classes}
    data.update(extra.pop("data", {}))
    return {"name": "digits-ft", "data": data, "model": {"layers": layers},
            "optimizer": {"type": "Adam", "lr": 0.01},
            "train": {"epochs": epochs, "batch_size": 32, "device": "cpu", **extra.pop("train", {})}, **extra}


class Weights(Callback):
    """The model's weights when the run starts and when it ends, and the optimizer's groups."""

    def on_run_start(self, run, event):
        self.start = {k: v.clone() for k, v in run.model.state_dict().items()}
        self.groups = [(g["lr"], len(g["params"])) for g in run.optimizer.param_groups]

    def on_epoch_end(self, run, epoch, logs):
        self.__dict__.setdefault("by_epoch", {})[epoch] = {k: v.clone() for k, v in run.model.state_dict().items()}

    def on_run_end(self, run, event):
        self.end = {k: v.clone() for k, v in run.model.state_dict().items()}


def run(spec_dict, base_dir=None):
    watch = Weights()
    events = list(train(parse_spec(spec_dict), callbacks=[watch], base_dir=base_dir))
    assert isinstance(events[-1], RunFinished), getattr(events[-1], "message", events[-1])
    return events, watch


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    """A small model trained on digits 0-4: (store, run id, its weights)."""
    tmp = tmp_path_factory.mktemp("source")
    db, run_id = train_run(tmp, digits_spec(["0", "1", "2", "3", "4"]), epochs=2)
    with RunStore(db) as store:
        path = run_weights_path(store, run_id)
    return db, run_id, path


def test_init_from_loads_matching_layers_and_reports_the_new_head(source_run):
    db, run_id, path = source_run
    source = read_weights(path)
    spec = digits_spec(["5", "6", "7", "8", "9"], finetune={"init_from": str(path), "init_run": run_id})
    events, watch = run(spec)
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.notes == [f"loaded 1 of 2 layers from run #{run_id} (final.pt); "
                             "Layer 3 (Linear) re-initialised: a new head (finetune.reset_head)"]
    assert torch.equal(watch.start["0.weight"], source["0.weight"])
    assert not torch.equal(watch.start["2.weight"], source["2.weight"])
    # the same 5 outputs but without reset_head: both layers load
    spec["finetune"]["reset_head"] = False
    events, watch = run(spec)
    assert next(e for e in events if isinstance(e, RunStarted)).notes[0].startswith("loaded 2 of 2 layers")
    assert torch.equal(watch.start["2.weight"], source["2.weight"])
    # ten classes: the head cannot load and says why
    spec = digits_spec(None, finetune={"init_from": str(path), "reset_head": False})
    events, _ = run(spec)
    assert next(e for e in events if isinstance(e, RunStarted)).notes == [
        "loaded 1 of 2 layers from final.pt; Layer 3 (Linear) re-initialised: 5 → 10 classes"]


def test_frozen_layers_do_not_change_and_lr_multipliers_make_groups(source_run):
    _, _, path = source_run
    layers = [dict(MLP[0], frozen=True), MLP[1], dict(MLP[2], lr_mult=0.5)]
    events, watch = run(digits_spec(["5", "6", "7", "8", "9"], layers=layers, finetune={"init_from": str(path)}))
    assert torch.equal(watch.start["0.weight"], watch.end["0.weight"])
    assert torch.equal(watch.start["0.bias"], watch.end["0.bias"])
    assert not torch.equal(watch.start["2.weight"], watch.end["2.weight"])
    assert watch.groups == [(0.01, 2), (0.005, 2)]
    assert "layer 1 frozen" in next(e for e in events if isinstance(e, RunStarted)).notes


def test_unfreeze_epoch_trains_everything_at_a_lower_rate():
    layers = [dict(MLP[0], frozen=True), MLP[1], MLP[2]]
    spec = digits_spec(None, layers=layers, epochs=4, finetune={"unfreeze_epoch": 3, "unfreeze_lr_factor": 0.1})
    events, watch = run(spec)
    lrs = [e.logs["lr"] for e in events if isinstance(e, EpochEnd)]
    assert lrs == pytest.approx([0.01, 0.01, 0.001, 0.001])
    assert torch.equal(watch.by_epoch[2]["0.weight"], watch.start["0.weight"])  # frozen for epochs 1-2
    assert not torch.equal(watch.by_epoch[3]["0.weight"], watch.by_epoch[2]["0.weight"])


def test_live_lr_change_keeps_the_multipliers():
    from workbench.core.training.lr_control import set_learning_rate

    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    opt = torch.optim.SGD([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.01}], lr=0.1)
    assert set_learning_rate(opt, None, 0.05) == 0.1
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.05, 0.005])


def test_init_from_safetensors_export_and_refusals(source_run, tmp_path):
    db, run_id, _ = source_run
    st = export_model(restored(db, run_id), "safetensors", tmp_path).files[0]
    events, watch = run(digits_spec(["5", "6", "7", "8", "9"], finetune={"init_from": st.name}), base_dir=tmp_path)
    assert next(e for e in events if isinstance(e, RunStarted)).notes[0].startswith(f"loaded 1 of 2 layers from {st.name}")
    # a file of weights for another model: nothing fits
    from safetensors.torch import save_file

    save_file({"encoder.weight": torch.zeros(3, 3)}, str(tmp_path / "other.safetensors"))
    spec = parse_spec(digits_spec(None, finetune={"init_from": str(tmp_path / "other.safetensors")}))
    last = list(train(spec))[-1]
    assert isinstance(last, RunFailed) and "none of the layers of other.safetensors fit this model" in last.message
    assert "Layer 1 (Linear): not in the file" in last.message  # which layers, and why
    # a pickle with code in it is never loaded
    torch.save({"model": {"0.weight": torch.zeros(1)}, "hook": Weights()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="holds pickled Python objects"):
        read_weights(tmp_path / "evil.pt")
    for name, said in (("table.csv", r"not a PyTorch checkpoint\. Give a run id.*\.safetensors file"),
                       ("model.onnx", "model.onnx is an ONNX model, not a weights file"),
                       ("other.pt", "other.pt as weights: it is not a PyTorch checkpoint")):
        (tmp_path / name).write_bytes(b"\x08\x07 a,b\n1,2\n")  # not a checkpoint, whatever its name says
        with pytest.raises(CheckpointError, match=said):
            read_weights(tmp_path / name)
    with pytest.raises(CheckpointError, match="not found"):
        read_weights(tmp_path / "missing.pt")


def test_layer_matching_by_shape():
    spec = parse_spec(digits_spec(None, layers=[{"type": "Linear", "out_features": 16}, {"type": "ReLU"},
                                                {"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                                                {"type": "Linear", "out_features": "auto"}],
                                  finetune={"reset_head": False}))
    meta = prepare(load_dataset(spec.data), spec.data).meta
    model, _ = build_model(spec, meta)
    state = {"0.weight": torch.ones(16, 64), "0.bias": torch.ones(16), "2.weight": torch.ones(8, 20),
             "2.bias": torch.ones(8)}
    report = load_initial_weights(model, state, spec, meta, "x.safetensors")
    assert report.loaded == [0]
    assert report.message == ("loaded 1 of 3 layers from x.safetensors; Layer 3 (Linear) re-initialised: weight "
                              "(8, 20) → (8, 16); Layer 5 (Linear) re-initialised: not in the file")
    assert torch.equal(model[0].weight, torch.ones(16, 64))


def test_cli_init_from(source_run, tmp_path, capsys):
    db, run_id, _ = source_run
    spec_path = tmp_path / "ft.json"
    spec_path.write_text(parse_spec(digits_spec(["5", "6", "7", "8", "9"], epochs=1)).to_json())
    code = main(["train", str(spec_path), "--store", str(db), "--init-from", str(run_id), "--json"])
    assert code == 0
    captured = capsys.readouterr()
    assert f"fine-tuning: loaded 1 of 2 layers from run #{run_id} (final.pt)" in captured.err
    final = json.loads(captured.out.splitlines()[-1])
    assert final["fine_tuning"][0].startswith(f"loaded 1 of 2 layers from run #{run_id} (final.pt); Layer ")
    with RunStore(db) as store:
        newest = store.list_runs(limit=1)[0]
    assert newest.spec.finetune.init_run == run_id
    assert main(["train", str(spec_path), "--store", str(db), "--init-from", "999"]) == 2
    assert "--init-from 999" in capsys.readouterr().err
    assert main(["train", str(spec_path), "--store", str(db), "--init-from", "nope.safetensors"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_spec_checks_for_fine_tuning():
    with pytest.raises(SpecError, match="finetune.unfreeze_epoch: no layer is frozen"):
        parse_spec(digits_spec(None, finetune={"unfreeze_epoch": 2}))
    with pytest.raises(SpecError, match="is after the last epoch"):
        parse_spec(digits_spec(None, layers=[dict(MLP[0], frozen=True), MLP[1], MLP[2]],
                               finetune={"unfreeze_epoch": 5}))
    with pytest.raises(SpecError, match="every layer is frozen"):
        parse_spec(digits_spec(None, layers=[dict(layer, frozen=True) for layer in MLP]))
    with pytest.raises(SpecError, match="LBFGS cannot give layers their own learning rates"):
        parse_spec({**digits_spec(None, layers=[dict(MLP[0], lr_mult=0.1), MLP[1], MLP[2]]),
                    "optimizer": {"type": "LBFGS"}})
    with pytest.raises(SpecError, match="data.classes"):
        parse_spec(digits_spec(["3"]))
    assert "frozen" not in parse_spec(digits_spec(None)).to_json()  # unset fields stay out of files


def test_data_classes_and_training_rows_per_class():
    spec = parse_spec(digits_spec(["5", "6", "7", "8", "9"], data={"train_per_class": 20}))
    full = prepare(load_dataset(spec.data), spec.data.model_copy(update={"train_per_class": None}))
    few = prepare(load_dataset(spec.data), spec.data)
    assert few.meta.class_names == ["5", "6", "7", "8", "9"]
    assert torch.bincount(few.train.y).tolist() == [20] * 5
    assert torch.equal(few.test.y, full.test.y) and len(few.val) == len(full.val)  # val/test keep every row
    assert any("trained on 100 of" in n for n in few.meta.notes)
    with pytest.raises(DataError, match="'12' is not a class of sample:digits; its classes are 0, 1"):
        prepare(load_dataset(spec.data), spec.data.model_copy(update={"classes": ["1", "12"]}))


def test_unflatten_layer_turns_pixel_columns_into_images():
    layers = [{"type": "Unflatten", "unflattened_size": [1, 8, 8]}, {"type": "Conv2d", "out_channels": 4},
              {"type": "Flatten"}, {"type": "Linear", "out_features": "auto"}]
    spec = parse_spec(digits_spec(None, layers=layers))
    meta = prepare(load_dataset(spec.data), spec.data).meta
    model, summary = build_model(spec, meta)
    assert summary.layers[0].out_shape == (1, 8, 8) and summary.output_shape == (10,)
    bad = parse_spec(digits_spec(None, layers=[dict(layers[0], unflattened_size=[1, 8, 7]), *layers[1:]]))
    from workbench.core.training import check_experiment

    assert check_experiment(bad, meta)[0] == (
        "Layer 1 (Unflatten) turns 64 features into [1, 8, 7] = 56 values; the product of unflattened_size must "
        "be 64, e.g. [1, 8, 8] for one-channel 8x8 images")


def test_training_script_reproduces_a_fine_tuning_run(source_run, tmp_path):
    _, _, path = source_run
    layers = [dict(MLP[0], frozen=True), MLP[1], {"type": "Linear", "out_features": 16, "lr_mult": 0.3},
              {"type": "ReLU"}, {"type": "Linear", "out_features": "auto"}]
    spec = digits_spec(["5", "6", "7", "8", "9"], layers=layers, epochs=4, data={"train_per_class": 20},
                       finetune={"init_from": str(path), "unfreeze_epoch": 3},
                       schedule={"type": "CosineAnnealingLR"})
    db, run_id = train_run(tmp_path, spec, epochs=4)
    result = export_model(restored(db, run_id), "script", tmp_path / "out")
    assert result.files[-1].name.endswith("-initial-weights.pt")
    logs, final = run_script(load_script(result.files[0]))
    with RunStore(db) as store:
        epochs = store.epochs(run_id)
        metrics = store.get_run(run_id).metrics
    assert [round(e["lr"], 8) for e in epochs] == [round(g["lr"], 8) for g in logs]
    for want, got in zip(epochs, logs):
        assert abs(want["loss"] - got["loss"]) < 1e-4 and abs(want["val_loss"] - got["val_loss"]) < 1e-4
    assert abs(metrics["test_accuracy"] - final["test_accuracy"]) < 0.005


def test_weights_for_other_inputs_are_refused_not_loaded_in_part():
    # a spiral model's weights (2 inputs) on digits (64): its hidden layer has the right shape, but
    # loading it after a re-initialised first layer would start from weights that mean nothing here
    spec = parse_spec(digits_spec(None, layers=[{"type": "Linear", "out_features": 16}, {"type": "ReLU"},
                                                {"type": "Linear", "out_features": 16}, {"type": "ReLU"},
                                                {"type": "Linear", "out_features": "auto"}]))
    meta = prepare(load_dataset(spec.data), spec.data).meta
    model, _ = build_model(spec, meta)
    before = model[2].weight.clone()
    state = {"0.weight": torch.ones(16, 2), "0.bias": torch.ones(16), "2.weight": torch.ones(16, 16),
             "2.bias": torch.ones(16)}
    with pytest.raises(CheckpointError, match=r"spiral\.safetensors was trained on other inputs \(Layer 1 \(Linear\): "
                                              r"weight \(16, 2\) → \(16, 64\)\)"):
        load_initial_weights(model, state, spec, meta, "spiral.safetensors")
    assert torch.equal(model[2].weight, before)
