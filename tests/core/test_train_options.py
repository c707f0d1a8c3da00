"""Gradient accumulation and the exponential moving average of the weights."""

from __future__ import annotations

import pytest
import torch
import trainer_support as ts

from workbench.core.spec import SpecError
from workbench.core.training import Callback, RunFinished, build_model, load_checkpoint, train


class KeepWeights(Callback):
    def __init__(self):
        self.final = {}
        self.ema = None
        self.after_step: list[dict[str, torch.Tensor]] = []

    def on_run_start(self, run, event):
        self.started = event
        run.optimizer.register_step_post_hook(
            lambda *a: self.after_step.append({k: v.detach().clone() for k, v in run.model.named_parameters()}))

    def on_run_end(self, run, event):
        self.final = {k: v.detach().clone() for k, v in run.model.state_dict().items()}
        if run.ema is not None:
            self.ema = {k: v.detach().clone() for k, v in run.ema.module.named_parameters()}


def _run(spec, data):
    keep = KeepWeights()
    events = list(train(spec, data=data, callbacks=[keep], progress_interval=1e9))
    assert isinstance(events[-1], RunFinished), events[-1]
    return keep, events


@pytest.mark.parametrize("n", [192, 203])  # 203: the epoch's last step holds fewer rows
def test_accumulating_k_batches_equals_one_batch_of_k_times_b(n):
    data = ts.spiral_data(n, val=0.0, test=0.0)
    opt = {"type": "SGD", "lr": 0.1, "momentum": 0.9}
    big, ev_big = _run(ts.mlp_spec(hidden=(16,), epochs=2, batch_size=32, optimizer=opt, health=None), data)
    acc, ev_acc = _run(ts.mlp_spec(hidden=(16,), epochs=2, batch_size=8, optimizer=opt, health=None,
                                   accumulate_batches=4), data)
    for k in big.final:
        torch.testing.assert_close(acc.final[k], big.final[k], rtol=1e-4, atol=1e-5)
    # steps count optimizer steps; the effective batch is announced
    assert ev_acc[0].accumulate_batches == 4 and ev_acc[0].batch_size == 8
    assert ev_acc[0].steps_per_epoch == ev_big[0].steps_per_epoch == -(-n // 32)
    assert ev_acc[-2].step == ev_big[-2].step == 2 * -(-n // 32)
    assert len(acc.after_step) == len(big.after_step)


def test_accumulation_validation_messages():
    with pytest.raises(SpecError, match="batch_size 'full' already uses every training row"):
        ts.mlp_spec(batch_size="full", accumulate_batches=2)
    with pytest.raises(SpecError, match="LBFGS trains on the whole training set"):
        ts.mlp_spec(optimizer={"type": "LBFGS"}, accumulate_batches=2)
    with pytest.raises(SpecError, match="train.accumulate_batches"):
        ts.mlp_spec(accumulate_batches=0)


def test_ema_follows_the_update_formula_and_is_evaluated_and_checkpointed(tmp_path):
    decay = 0.9
    spec = ts.mlp_spec(hidden=(8,), epochs=2, batch_size=64, health=None, ema={"decay": decay})
    keep = KeepWeights()
    data = ts.spiral_data(300)
    events = list(train(spec, data=data, callbacks=[keep], run_dir=tmp_path))
    end = events[-1]
    assert isinstance(end, RunFinished)
    # AveragedModel's EMA: the first update copies the weights, then ema = decay·ema + (1 − decay)·w
    expected = dict(keep.after_step[0])
    for weights in keep.after_step[1:]:
        expected = {k: decay * expected[k] + (1 - decay) * weights[k] for k in expected}
    for k, v in expected.items():
        torch.testing.assert_close(keep.ema[k], v, rtol=1e-5, atol=1e-6)
    epochs = [e for e in events if type(e).__name__ == "EpochEnd"]
    assert all("val_ema_loss" in e.logs and "val_ema_accuracy" in e.logs for e in epochs)
    assert "test_ema_accuracy" in end.metrics and "val_ema_loss" in end.metrics
    # val_ema_* are the averaged weights' own scores, not the live weights'
    model, _ = build_model(spec, data.meta)
    for which, prefix in ((keep.ema, "val_ema_"), ({k: keep.final[k] for k in keep.ema}, "val_")):
        model.load_state_dict(which)
        with torch.no_grad():
            out = model(data.val.X)
        loss = torch.nn.functional.cross_entropy(out, data.val.y).item()
        accuracy = (out.argmax(1) == data.val.y).float().mean().item()
        assert epochs[-1].logs[prefix + "loss"] == pytest.approx(loss, rel=1e-4)
        assert epochs[-1].logs[prefix + "accuracy"] == pytest.approx(accuracy)
    assert epochs[-1].logs["val_ema_loss"] != pytest.approx(epochs[-1].logs["val_loss"], rel=1e-3)
    ck = load_checkpoint(tmp_path / "last.pt")
    torch.testing.assert_close(ck["ema"]["0.weight"], keep.ema["0.weight"])


def test_resume_restores_the_moving_average(tmp_path):
    spec = ts.mlp_spec(hidden=(8,), epochs=1, batch_size=64, health=None, ema={"decay": 0.5})
    first = KeepWeights()
    list(train(spec, data=ts.spiral_data(300), callbacks=[first], run_dir=tmp_path))
    cont = KeepWeights()

    class Peek(Callback):
        def on_run_start(self, run, event):
            self.ema0 = run.ema.module[0].weight.detach().clone()

    peek = Peek()
    list(train(spec.with_value("train.epochs", 2), data=ts.spiral_data(300), callbacks=[peek, cont],
               resume_from=tmp_path / "last.pt"))
    torch.testing.assert_close(peek.ema0, first.ema["0.weight"])
