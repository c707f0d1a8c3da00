"""The training engine: `train(spec, ...)` is a generator of events.

    for event in train(spec, control=control):
        ...   # RunStarted, BatchProgress, EpochEnd, LRChanged, Paused, Resumed, CheckpointSaved,
              # then exactly one RunFinished | RunStopped | RunFailed

Why it is shaped like this (it is measured against a hand-written PyTorch loop):
- the data tensors go to the device once; every epoch permutes them with a seeded, per-epoch
  torch.Generator and gathers the rows in that order a block at a time (`gathered_batches`: one
  `index_select` for up to 16 MB of rows, then contiguous `Tensor.split` slices), so there is no
  per-sample DataLoader, no per-batch gather, and a big training set is held once, not twice;
- the training loss is accumulated ON the device and read back (`.item()`, a device sync) only
  when a BatchProgress is due (`progress_interval`, at most 20 times a second), never per batch;
- per step the loop launches NO work of its own on the device: it keeps the step's (detached)
  loss and output tensors in a short list and folds them into the epoch's sums in one batched
  pass (stack + sum for the loss; cat + argmax + compare + sum for the accuracy) at a read-back,
  at the epoch's end, or every `FOLD_STEPS` steps (fewer when the outputs are large, at most
  `FOLD_BYTES` held). A small model is launch/dispatch-bound, so the five tiny ops per step the
  loss and accuracy used to cost (add_, argmax, eq, sum, add_) were measurable: H100, 2-64-64-2
  MLP at batch 256 went from 0.93 to 1.04 of a hand-written loop's samples/s. The numbers are
  the same as counting step by step (tests check it);
- per step the loop does one `time.perf_counter()`, two list appends and two comparisons
  beyond the PyTorch work;
  control (pause/stop/LR) is looked at every `CONTROL_INTERVAL` seconds, which is "between
  steps" for a person and free for the loop;
- validation runs in eval mode under no_grad on the whole val split in a few big batches;
  the training accuracy is the running accuracy of the epoch's batches (Keras-style): the
  fraction of this epoch's training rows that the model classified correctly in the forward pass
  of the step that trained on them (train mode, so with dropout active and with weights that
  changed during the epoch; augmented inputs when augmentation is on). It is every row of the
  epoch, not a sample, and costs no extra pass over the training data. LBFGS (closure
  optimizers) and one-hot loss targets instead report the accuracy of an eval-mode pass over
  the first `TRAIN_METRIC_SAMPLES` training rows at the epoch's end.

`train` never raises for run problems: bad data, an impossible model, an unusable device, out
of memory, an exception in a callback: each ends the run with one RunFailed whose message a
person can act on (details = traceback).

Batch order: epoch e (1-based) visits the training rows in `epoch_permutation(n, seed, e)`
order, in slices of `batch_size`; the last partial batch is kept, except a last batch of ONE
sample when the model has BatchNorm (BatchNorm cannot normalise a single sample in training
mode), which is dropped. `batch_slices` gives the slices; tests use both to reproduce the
engine with a hand-written loop.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch

from workbench.core.training.batching import (
    batch_slices,
    epoch_permutation,
    gathered_batches,
    resolve_batch_size,
    threads_for,
)
from workbench.core.training.callbacks import Callback, RunContext
from workbench.core.training.control import TrainControl
from workbench.core.training.device import (
    DeviceError,
    available_devices,
    device_name,
    resolve_precision,
    select_device,
)
from workbench.core.training.epoch_sums import EpochSums
from workbench.core.training.evaluation import EvalSet, ema_view, evaluate
from workbench.core.training.finetune import parameter_groups, prepare_fine_tuning
from workbench.core.training.events import (
    BatchProgress,
    EpochEnd,
    Event,
    LRChanged,
    Paused,
    Resumed,
    RunStarted,
    TerminalEvent,
)
from workbench.core.training.loop_state import (
    LoopState,
    augment_active,
    group_rows,
    loss_target_fn,
    summary_rows,
)
from workbench.core.training.lr_control import set_learning_rate
from workbench.core.training.resume import resume_from_checkpoint
from workbench.core.training.outcome import majority_class, terminal_event
from workbench.core.training.run_shell import RunShell
from workbench.core.spec import ExperimentSpec, experiment_name

__all__ = [
    "train", "select_device", "available_devices", "epoch_permutation", "batch_slices",
    "resolve_batch_size", "threads_for", "DeviceError",
]

MIN_READBACK_INTERVAL = 0.05  # at most 20 loss read-backs (device syncs) a second
CONTROL_INTERVAL = 0.02  # how often pause/stop/set_lr are looked at
TRAIN_METRIC_SAMPLES = 2048  # LBFGS only: train accuracy from an eval pass over this many rows
FOLD_STEPS = 256  # fold the kept per-step losses/outputs into the epoch's sums at least this often
FOLD_BYTES = 32 << 20  # ... and before the kept outputs exceed this many bytes


# ---- the public generator -------------------------------------------------------------------------
def train(
    spec: ExperimentSpec,
    *,
    data: Any = None,
    base_dir: str | Path | None = None,
    control: TrainControl | None = None,
    callbacks: Sequence[Callback] = (),
    run_dir: str | Path | None = None,
    resume_from: str | Path | None = None,
    progress_interval: float = 0.25,
    threads: int | None = None,
    pause_on_divergence: bool = False,
) -> Iterator[Event]:
    """Train `spec`; yield events; end with exactly one terminal event. See the module doc.

    data: a PreparedData (else loaded from spec.data, relative paths against base_dir).
    run_dir: where best.pt/last.pt go (when spec.train.checkpoint).
    resume_from: a checkpoint to continue from (weights, optimizer, scheduler, epoch, step).
    threads: CPU threads when the spec does not set train.num_threads (see threads_for).
    pause_on_divergence: when the loss becomes NaN/inf, pause at the last good weights (through
      `control`) and raise a divergence HealthAlert instead of stopping; for interactive runs.
    """
    yield from _Training(spec, data=data, base_dir=base_dir, control=control, callbacks=callbacks,
                         run_dir=run_dir, resume_from=resume_from, progress_interval=progress_interval,
                         threads=threads, pause_on_divergence=pause_on_divergence).events()


class _Training(RunShell):
    def __init__(self, spec, *, data, base_dir, control, callbacks, run_dir, resume_from,
                 progress_interval, threads, pause_on_divergence):
        self.spec = spec
        self.pause_on_divergence = bool(pause_on_divergence and control is not None)
        self.data = data
        self.base_dir = base_dir
        self.control = control
        self.user_callbacks = list(callbacks)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.resume_from = resume_from
        self.progress_interval = max(float(progress_interval), MIN_READBACK_INTERVAL)
        self.threads = threads
        self.callbacks: list[Callback] = []
        self.run = RunContext(spec=spec, run_dir=self.run_dir, control=control)
        self.batch_size = 0
        self.t_start = time.perf_counter()
        self.paused_seconds = 0.0
        self.started = False
        self.epochs_done = 0
        self.ctx: LoopState | None = None
        self._oom = False

    # ---- setup ----------------------------------------------------------------------------------
    def _load_data(self):
        if self.data is not None:
            return self.data
        from workbench.core.data import load_dataset, prepare
        dataset = load_dataset(self.spec.data, self.base_dir)
        return prepare(dataset, self.spec.data)

    def _run(self) -> Iterator[Event]:
        spec, run, t = self.spec, self.run, self.spec.train
        self._build_callbacks()
        device = select_device(t.device)
        run.device = device
        precision = resolve_precision(t.precision, device)
        data = self._load_data()
        meta = data.meta
        run.meta, run.data, run.precision = meta, data, precision
        preprocessing = getattr(data, "preprocessing", None)
        run.preprocessing = preprocessing() if callable(preprocessing) else {}
        n_train = len(data.train.X)
        if n_train == 0:
            from workbench.core.data import DataError
            raise DataError("the training split is empty; use more data or smaller val/test fractions")

        from workbench.core import catalog
        from workbench.core.training.model import build_model

        torch.manual_seed(t.seed)
        model, summary = build_model(spec, meta)
        notes = prepare_fine_tuning(model, spec, meta, self.base_dir)  # init_from, frozen layers
        model.to(device)
        run.model = model
        opt_info = catalog.get_entry("optimizer", spec.optimizer.type).info
        full_batch = bool(opt_info.get("full_batch"))
        needs_closure = bool(opt_info.get("needs_closure"))
        self.batch_size = bs = resolve_batch_size(t.batch_size, n_train, full_batch)
        has_bn = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())
        slices = batch_slices(n_train, bs, drop_single_last=has_bn)
        accumulate = t.accumulate_batches
        steps_per_epoch = -(-len(slices) // accumulate)  # optimizer steps
        n_per_epoch = slices[-1][1]

        loss_fn = catalog.make_loss(spec.loss, meta, data.train.y)
        if isinstance(loss_fn, torch.nn.Module):
            loss_fn = loss_fn.to(device)
        base_lr = catalog.get_entry("optimizer", spec.optimizer.type).with_defaults(spec.optimizer.params).get("lr")
        optimizer = catalog.make_optimizer(spec.optimizer, parameter_groups(model, spec, base_lr))
        sched = catalog.make_scheduler(spec.schedule, optimizer, t.epochs, steps_per_epoch)
        scaler = torch.amp.GradScaler(device.type) if precision.grad_scaler else None
        run.optimizer, run.scheduler, run.scaler = optimizer, sched, scaler
        if t.ema is not None:
            from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
            run.ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(t.ema.decay), use_buffers=True)

        # data to the device, once
        target = loss_target_fn(meta)
        Xtr = data.train.X.to(device)
        ytr = target(data.train.y).to(device)
        val = EvalSet(data.val, target, device)
        test = EvalSet(data.test, target, device)
        n_sub = min(n_train, TRAIN_METRIC_SAMPLES)
        train_sub = EvalSet(type(data.train)(data.train.X[:n_sub], data.train.y[:n_sub]), target, device)

        start_epoch = 0
        if self.resume_from is not None:
            start_epoch = self._resume(self.resume_from)
        run.start_epoch = run.epoch = start_epoch

        started = RunStarted(
            name=experiment_name(spec, meta), spec_json=spec.to_json(), device=str(device), device_name=device_name(device),
            precision=precision.name, task=meta.task, class_names=list(meta.class_names),
            n_train=n_train, n_val=len(val), n_test=len(test), epochs=t.epochs, batch_size=bs,
            steps_per_epoch=steps_per_epoch, summary=summary_rows(summary),
            total_params=int(getattr(summary, "total_params", 0)),
            total_flops=int(getattr(summary, "total_flops", 0)),
            memory_bytes=int(getattr(summary, "memory_bytes", 0)), start_epoch=start_epoch, notes=notes,
            target_scaler=meta.target_scaler.to_dict() if getattr(meta, "target_scaler", None) else None,
            accumulate_batches=accumulate,
        )
        self.t_start = time.perf_counter()
        self._call("on_run_start", started)
        yield started
        self.started = True
        yield from self._side_events()

        self.ctx = LoopState(
            model=model, loss_fn=loss_fn, optimizer=optimizer, sched=sched, scaler=scaler,
            precision=precision, device=device, Xtr=Xtr, ytr=ytr, slices=slices, n_per_epoch=n_per_epoch,
            needs_closure=needs_closure, val=val, test=test, train_sub=train_sub, meta=meta,
            out_width=int(summary.output_shape[-1]) if getattr(summary, "output_shape", None) else 0,
            augment=getattr(data, "augment", None) if meta.kind == "image" else None,
            majority_class=majority_class(data.train.y, meta),
            accumulate=accumulate, group_rows=group_rows(slices, accumulate),
        )
        if self.ctx.augment is not None and not augment_active(self.ctx.augment):
            self.ctx.augment = None
        partial: dict[str, float] = {}
        for epoch in range(start_epoch + 1, t.epochs + 1):
            partial = yield from self._epoch(epoch)
            if self.control is not None and not (self.ctx.user_stop or run.stop_requested):
                # An epoch shorter than CONTROL_INTERVAL never reaches the in-loop check.
                yield from self._handle_control(epoch, run.step)
            if self.ctx.user_stop or run.stop_requested:
                break
        return self._terminal(partial)

    def _resume(self, path) -> int:
        return resume_from_checkpoint(self.run, self.spec, path)

    # ---- one epoch: the hot loop -------------------------------------------------------------
    def _epoch(self, epoch: int) -> Iterator[Event]:
        c, run, spec = self.ctx, self.run, self.spec
        model, loss_fn, opt = c.model, c.loss_fn, c.optimizer
        sched_batch = c.sched is not None and c.sched.step_per == "batch"
        clip = spec.train.grad_clip
        l1 = spec.train.l1
        l1_params = [p for p in model.parameters() if p.ndim > 1] if l1 > 0 else []
        params = [p for p in model.parameters() if p.requires_grad] if clip else []
        scaler = c.scaler
        amp = c.precision.autocast
        amp_dtype = c.precision.dtype
        dev_type = c.device.type
        control = self.control
        progress_interval = self.progress_interval
        batches = len(c.slices)
        accumulate, group_rows = c.accumulate, c.group_rows
        ema = run.ema

        perm = epoch_permutation(len(c.Xtr), spec.train.seed, epoch).to(c.device)
        yp = c.ytr.index_select(0, perm)
        n_used = c.n_per_epoch
        xs = gathered_batches(c.Xtr, perm, n_used, self.batch_size)
        ys = yp[:n_used].split(self.batch_size)
        aug, aug_gen = c.augment, None
        if aug is not None:
            from workbench.core.data import augment_batch
            aug_gen = c.aug_generator(spec.train.seed, epoch)

        track_acc = c.meta.task == "classification" and not c.needs_closure and c.ytr.ndim == 1
        bs = self.batch_size
        out_bytes = bs * max(1, c.out_width) * 4
        sums = EpochSums(c.device, bs, yp[:n_used], fold_steps=max(1, min(FOLD_STEPS, FOLD_BYTES // out_bytes)))
        keep_loss, keep_out = sums.losses.append, sums.outs.append
        fold_at = sums.fold_steps
        seen = 0
        last_sum, last_seen = 0.0, 0
        step = run.step
        t_epoch = time.perf_counter()
        paused_at_start = self.paused_seconds
        last_progress = t_epoch
        next_progress = t_epoch + progress_interval
        next_control = t_epoch + CONTROL_INTERVAL
        perf = time.perf_counter
        model.train()

        for b, (xb, yb) in enumerate(zip(xs, ys), 1):
            nb = xb.shape[0]
            if aug is not None:
                xb = augment_batch(xb, aug, aug_gen)
            stepped = True
            if c.needs_closure:
                loss = self._closure_step(xb, yb, l1, l1_params, clip, params)
            else:
                if amp:
                    with torch.autocast(dev_type, dtype=amp_dtype):
                        out = model(xb)
                        loss = loss_fn(out, yb)
                else:
                    out = model(xb)
                    loss = loss_fn(out, yb)
                if (b - 1) % accumulate == 0:  # the first batch of an optimizer step
                    opt.zero_grad(set_to_none=True)
                total = loss + l1 * sum(p.abs().sum() for p in l1_params) if l1 > 0 else loss
                if accumulate > 1:  # each batch's share of the step's mean loss
                    total = total * (nb / group_rows[(b - 1) // accumulate])
                    stepped = b % accumulate == 0 or b == batches
                if scaler is not None:
                    scaler.scale(total).backward()
                    if stepped:
                        if clip:
                            scaler.unscale_(opt)
                            run.grad_norm_before_clip = torch.nn.utils.clip_grad_norm_(params, clip)
                        scaler.step(opt)
                        scaler.update()
                else:
                    total.backward()
                    if stepped:
                        if clip:
                            run.grad_norm_before_clip = torch.nn.utils.clip_grad_norm_(params, clip)
                        opt.step()
            if stepped:
                if sched_batch:
                    c.sched.step()
                if ema is not None:
                    ema.update_parameters(model)
                step += 1
            # no device work here: keep the tensors, fold them in batches (see the module doc)
            if nb == bs:
                keep_loss(loss.detach())
            else:  # the epoch's last, partial batch
                sums.add_partial_loss(loss.detach(), nb)
            if track_acc:
                keep_out(out.detach())
            if b % fold_at == 0:
                sums.fold()
            seen += nb
            now = perf()
            if now < next_control:
                continue
            # ---- a few times a second: control, progress --------------------------------
            next_control = now + CONTROL_INTERVAL
            run.step = step
            if now >= next_progress:
                total_sum = sums.loss_sum()  # the only device sync in the loop
                active = now - t_epoch - (self.paused_seconds - paused_at_start)
                ev = BatchProgress(
                    epoch=epoch, batch=b, batches=batches, step=step,
                    loss=(total_sum - last_sum) / max(1, seen - last_seen), lr=run.lr,
                    samples_per_s=seen / active if active > 0 else 0.0, elapsed=self._elapsed(),
                )
                last_sum, last_seen = total_sum, seen
                last_progress = now
                next_progress = now + progress_interval
                self._call("on_progress", ev)
                yield ev
                yield from self._side_events()
                if run.stop_requested:
                    return self._partial_logs(sums, seen)
            if control is not None:
                yield from self._handle_control(epoch, step)
                if c.user_stop:
                    return self._partial_logs(sums, seen)
        del last_progress
        run.step = step
        train_seconds = time.perf_counter() - t_epoch - (self.paused_seconds - paused_at_start)

        # ---- epoch end ----------------------------------------------------------------------
        logs: dict[str, float] = {"loss": sums.loss_sum() / max(1, seen)}
        lr_used = run.lr
        if track_acc:
            logs["accuracy"] = sums.correct_count() / max(1, seen)
        elif c.meta.task == "classification" and len(c.train_sub):
            logs["accuracy"] = evaluate(self.ctx, c.train_sub, "", loss=False)["accuracy"]
        if len(c.val):
            logs.update(evaluate(self.ctx, c.val, "val_", sink=run.outputs))
            if ema is not None:
                logs.update(evaluate(ema_view(c, ema), c.val, "val_ema_"))
        logs["lr"] = lr_used
        if c.sched is not None and c.sched.step_per == "epoch":
            if c.sched.needs_metric:
                c.sched.step(logs.get("val_loss", logs["loss"]))
            else:
                c.sched.step()
        self.epochs_done = epoch
        run.epoch, run.logs = epoch, logs
        sps = seen / train_seconds if train_seconds > 0 else 0.0
        ev = EpochEnd(epoch=epoch, step=step, logs=logs, lr=lr_used, samples_per_s=sps,
                      elapsed=self._elapsed(), epoch_seconds=time.perf_counter() - t_epoch)
        self._call("on_epoch_end", epoch, logs)
        yield ev
        yield from self._side_events()
        return {}

    def _closure_step(self, xb, yb, l1, l1_params, clip, params):
        c = self.ctx
        model, loss_fn, opt = c.model, c.loss_fn, c.optimizer
        amp = c.precision.autocast

        def closure():
            opt.zero_grad(set_to_none=True)
            with (torch.autocast(c.device.type, dtype=c.precision.dtype) if amp else nullcontext()):
                loss = loss_fn(model(xb), yb)
            total = loss + l1 * sum(p.abs().sum() for p in l1_params) if l1 > 0 else loss
            total.backward()
            if clip:
                self.run.grad_norm_before_clip = torch.nn.utils.clip_grad_norm_(params, clip)
            return loss

        loss = opt.step(closure)
        return loss if isinstance(loss, torch.Tensor) else torch.tensor(float(loss), device=c.device)

    def _partial_logs(self, sums: EpochSums, seen: int) -> dict[str, float]:
        return {"loss": sums.loss_sum() / seen} if seen else {}

    def _handle_control(self, epoch: int, step: int) -> Iterator[Event]:
        control, run, c = self.control, self.run, self.ctx
        if control.stop_requested:
            c.user_stop = True
            return
        for command, value in control.take_pending():
            if command == "set_lr":
                previous = set_learning_rate(c.optimizer, c.sched, float(value))
                yield from self._emit(LRChanged(epoch=epoch, step=step, lr=run.lr, previous=previous))
        if control.paused:
            t0 = time.perf_counter()
            yield from self._emit(Paused(epoch=epoch, step=step))
            while not control.wait_resumed(0.1):
                if control.stop_requested:
                    break
            self.paused_seconds += time.perf_counter() - t0
            if control.stop_requested:
                c.user_stop = True
                return
            yield from self._emit(Resumed(epoch=epoch, step=step))
            # a change made while paused applies before the next step
            for command, value in control.take_pending():
                if command == "set_lr":
                    previous = set_learning_rate(c.optimizer, c.sched, float(value))
                    yield from self._emit(LRChanged(epoch=epoch, step=step, lr=run.lr, previous=previous))
        if control.stop_requested:
            c.user_stop = True

    def _terminal(self, partial: dict[str, float]) -> TerminalEvent:
        return terminal_event(self.run, self.ctx, self.epochs_done, self._elapsed(), partial)
