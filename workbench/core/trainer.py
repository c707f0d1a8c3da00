"""The training engine: `train(spec, ...)` is a generator of events.

    for event in train(spec, control=control):
        ...   # RunStarted, BatchProgress, EpochEnd, LRChanged, Paused, Resumed, CheckpointSaved,
              # then exactly one RunFinished | RunStopped | RunFailed

Why it is shaped like this (it is measured against a hand-written PyTorch loop):
- the data tensors go to the device once; every epoch permutes them once (one gather with a
  seeded, per-epoch torch.Generator) and takes contiguous slices (`Tensor.split`), so there is no
  per-sample DataLoader and no per-batch gather;
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

import math
import os
import time
import traceback
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch

from workbench.core.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    RunContext,
    TerminateOnNaN,
)
from workbench.core.checkpoint import CheckpointError, load_checkpoint
from workbench.core.control import TrainControl
from workbench.core.device import (
    DeviceError,
    Precision,
    cpu_count,
    device_name,
    resolve_precision,
    select_device,
)
from workbench.core.events import (
    BatchProgress,
    EpochEnd,
    Event,
    LRChanged,
    Paused,
    Resumed,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStopped,
    TerminalEvent,
)
from workbench.core.spec import ExperimentSpec, SpecError

__all__ = [
    "train", "select_device", "available_devices", "epoch_permutation", "batch_slices",
    "resolve_batch_size", "threads_for", "DeviceError",
]

from workbench.core.device import available_devices  # noqa: E402  (re-exported)

MIN_READBACK_INTERVAL = 0.05  # at most 20 loss read-backs (device syncs) a second
CONTROL_INTERVAL = 0.02  # how often pause/stop/set_lr are looked at
TRAIN_METRIC_SAMPLES = 2048  # LBFGS only: train accuracy from an eval pass over this many rows
EVAL_CHUNK = 8192  # rows per forward pass when evaluating val/test
FOLD_STEPS = 256  # fold the kept per-step losses/outputs into the epoch's sums at least this often
FOLD_BYTES = 32 << 20  # ... and before the kept outputs exceed this many bytes


# ---- batch order (public so a test can reproduce the engine by hand) ---------------------------
def _epoch_seed(seed: int, epoch: int) -> int:
    return (int(seed) * 1_000_003 + int(epoch) * 7_919 + 0x5EED) % (2**63 - 1)


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The order (CPU int64 tensor) in which epoch `epoch` (1-based) visits `n` training rows.
    A fresh generator per epoch: a resumed run visits the same order as an unbroken one."""
    g = torch.Generator().manual_seed(_epoch_seed(seed, epoch))
    return torch.randperm(n, generator=g)


def batch_slices(n: int, batch_size: int, drop_single_last: bool = False) -> list[tuple[int, int]]:
    """[(start, stop), ...] over the permuted rows; the last partial batch is kept unless it
    has one row and `drop_single_last` (models with BatchNorm)."""
    out = [(a, min(a + batch_size, n)) for a in range(0, n, batch_size)]
    if drop_single_last and len(out) > 1 and out[-1][1] - out[-1][0] == 1:
        out.pop()
    return out


def resolve_batch_size(batch_size: int | str, n_train: int, full_batch: bool = False) -> int:
    """'full' (or a full-batch optimizer such as LBFGS) -> n_train; larger than n_train -> n_train."""
    if full_batch or batch_size == "full":
        return max(1, n_train)
    return max(1, min(int(batch_size), n_train))


def threads_for(spec_threads: int | None, threads: int | None = None) -> int | None:
    """CPU threads for torch: the spec's, else the caller's, else cores-1 when WORKBENCH_GUI=1
    (so the window keeps a core), else None (leave torch's default)."""
    if spec_threads:
        return int(spec_threads)
    if threads:
        return int(threads)
    if os.environ.get("WORKBENCH_GUI") == "1":
        return max(1, cpu_count() - 1)
    return None


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
) -> Iterator[Event]:
    """Train `spec`; yield events; end with exactly one terminal event. See the module doc.

    data: a PreparedData (else loaded from spec.data, relative paths against base_dir).
    run_dir: where best.pt/last.pt go (when spec.train.checkpoint).
    resume_from: a checkpoint to continue from (weights, optimizer, scheduler, epoch, step).
    threads: CPU threads when the spec does not set train.num_threads (see threads_for).
    """
    yield from _Training(spec, data=data, base_dir=base_dir, control=control, callbacks=callbacks,
                         run_dir=run_dir, resume_from=resume_from,
                         progress_interval=progress_interval, threads=threads).events()


class _CallbackFailed(Exception):
    def __init__(self, callback: Callback, hook: str, exc: BaseException):
        super().__init__(f"{type(callback).__name__}.{hook} failed: {type(exc).__name__}: {exc}")
        self.callback, self.hook, self.exc = callback, hook, exc


class _Training:
    def __init__(self, spec, *, data, base_dir, control, callbacks, run_dir, resume_from,
                 progress_interval, threads):
        self.spec = spec
        self.data = data
        self.base_dir = base_dir
        self.control = control
        self.user_callbacks = list(callbacks)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.resume_from = resume_from
        self.progress_interval = max(float(progress_interval), MIN_READBACK_INTERVAL)
        self.threads = threads
        self.callbacks: list[Callback] = []
        self.run = RunContext(spec=spec, run_dir=self.run_dir)
        self.batch_size = 0
        self.t_start = time.perf_counter()
        self.paused_seconds = 0.0
        self.started = False
        self.epochs_done = 0
        self.ctx: _LoopState | None = None
        self._oom = False

    # ---- outer shell: exactly one terminal event ----------------------------------------------
    def events(self) -> Iterator[Event]:
        prev_threads = torch.get_num_threads()
        n_threads = threads_for(self.spec.train.num_threads, self.threads)
        terminal: TerminalEvent | None = None
        try:
            if n_threads:
                torch.set_num_threads(n_threads)
            try:
                terminal = yield from self._run()
            except GeneratorExit:
                self._end_callbacks(RunStopped(epochs=self.epochs_done, metrics={}, duration=self._elapsed(),
                                               reason="the event stream was closed"), quiet=True)
                raise
            except Exception as exc:  # noqa: BLE001 — every problem becomes a RunFailed
                terminal = self._failure(exc)
            try:
                self._end_callbacks(terminal)
            except _CallbackFailed as exc:
                terminal = self._failure(exc)
                self._end_callbacks(terminal, quiet=True, skip=exc.callback)
            yield terminal
        finally:
            if n_threads:
                torch.set_num_threads(prev_threads)
            self._release_device_memory()

    def _release_device_memory(self) -> None:
        """The run is over: drop the engine's own device copies of the data and hand cached GPU
        blocks back to the driver. The model stays with whoever holds run.model, except after an
        out of memory failure: then the half-trained model, optimizer state and the garbage of
        the failure go too (after on_run_end has seen them), so the memory is free for the next
        run or another program at once."""
        self.ctx = None
        try:
            if self._oom:
                import gc
                run = self.run
                run.model = run.optimizer = run.scheduler = run.scaler = None
                # the built-in callbacks' weight snapshots (TerminateOnNaN, EarlyStopping) too
                self.callbacks = []
                gc.collect()
            if self.run.device.type == "cuda":
                torch.cuda.empty_cache()
        except Exception:  # noqa: BLE001 — a broken CUDA context must not mask the run's outcome
            pass

    def _end_callbacks(self, terminal: TerminalEvent, quiet: bool = False, skip: Callback | None = None):
        first: _CallbackFailed | None = None
        for cb in self.callbacks:
            if cb is skip:
                continue
            try:
                cb.on_run_end(self.run, terminal)
            except Exception as exc:  # noqa: BLE001
                if first is None:
                    first = _CallbackFailed(cb, "on_run_end", exc)
        if first is not None and not quiet:
            raise first

    def _elapsed(self) -> float:
        return time.perf_counter() - self.t_start

    def _failure(self, exc: BaseException) -> RunFailed:
        try:
            from workbench.core.data import DataError
        except ImportError:  # pragma: no cover
            DataError = ()  # type: ignore[assignment]
        try:
            from workbench.core.model import ModelError
        except ImportError:  # pragma: no cover
            ModelError = ()  # type: ignore[assignment]
        inner = exc.exc if isinstance(exc, _CallbackFailed) else exc
        details = "".join(traceback.format_exception(type(inner), inner, inner.__traceback__))
        text = str(inner)
        if isinstance(exc, _CallbackFailed):
            message = f"A callback failed, so the run was ended: {exc}"
        elif isinstance(inner, (DataError, ModelError, DeviceError, CheckpointError, SpecError)):
            message = text
        elif _is_oom(inner):
            where = "GPU memory" if self.run.device.type in ("cuda", "mps") else "memory"
            message = (f"out of {where} at batch size {self.batch_size or '?'}; lower the batch size"
                       " (or use a smaller model)")
            self._oom = True  # memory is given back when the run's frames are gone (see events())
        elif "Expected more than 1 value per channel when training" in text:
            message = ("BatchNorm cannot train on batches of one sample; use a batch size of at least 2 "
                       "or remove the BatchNorm layers")
        else:
            message = f"Training failed: {type(inner).__name__}: {text}"
        return RunFailed(message=message, details=details, epochs=self.epochs_done)

    # ---- callbacks ------------------------------------------------------------------------------
    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            try:
                getattr(cb, hook)(self.run, *args)
            except Exception as exc:  # noqa: BLE001
                raise _CallbackFailed(cb, hook, exc) from exc

    def _side_events(self) -> Iterator[Event]:
        for ev in self.run.take_emitted():
            self._call("on_event", ev)
            yield ev

    def _emit(self, ev: Event) -> Iterator[Event]:
        """Yield a non-terminal event that callbacks may want to hear about."""
        self._call("on_event", ev)
        yield ev
        yield from self._side_events()

    def _build_callbacks(self) -> None:
        t = self.spec.train
        cbs: list[Callback] = []
        # order matters: NaN handling first (restores good weights before anything saves them)
        if t.terminate_on_nan:
            cbs.append(TerminateOnNaN())
        if t.early_stopping is not None:
            es = t.early_stopping
            cbs.append(EarlyStopping(es.monitor, es.patience, es.min_delta, es.mode, es.restore_best))
        if t.checkpoint and self.run_dir is not None:
            monitor = t.early_stopping.monitor if t.early_stopping is not None else "val_loss"
            cbs.append(Checkpoint(self.run_dir, monitor=monitor))
        self.callbacks = cbs + self.user_callbacks

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
        run.meta = meta
        n_train = len(data.train.X)
        if n_train == 0:
            from workbench.core.data import DataError
            raise DataError("the training split is empty; use more data or smaller val/test fractions")

        from workbench.core import catalog
        from workbench.core.model import build_model

        torch.manual_seed(t.seed)
        model, summary = build_model(spec, meta)
        model.to(device)
        run.model = model
        opt_info = catalog.get_entry("optimizer", spec.optimizer.type).info
        full_batch = bool(opt_info.get("full_batch"))
        needs_closure = bool(opt_info.get("needs_closure"))
        self.batch_size = bs = resolve_batch_size(t.batch_size, n_train, full_batch)
        has_bn = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())
        slices = batch_slices(n_train, bs, drop_single_last=has_bn)
        steps_per_epoch = len(slices)
        n_per_epoch = slices[-1][1]

        loss_fn = catalog.make_loss(spec.loss, meta, data.train.y)
        if isinstance(loss_fn, torch.nn.Module):
            loss_fn = loss_fn.to(device)
        optimizer = catalog.make_optimizer(spec.optimizer, model.parameters())
        sched = catalog.make_scheduler(spec.schedule, optimizer, t.epochs, steps_per_epoch)
        scaler = torch.amp.GradScaler(device.type) if precision.grad_scaler else None
        run.optimizer, run.scheduler, run.scaler = optimizer, sched, scaler

        # data to the device, once
        target = _loss_target_fn(catalog, spec, meta)
        Xtr = data.train.X.to(device)
        ytr = target(data.train.y).to(device)
        val = _EvalSet(data.val, target, device)
        test = _EvalSet(data.test, target, device)
        n_sub = min(n_train, TRAIN_METRIC_SAMPLES)
        train_sub = _EvalSet(type(data.train)(data.train.X[:n_sub], data.train.y[:n_sub]), target, device)

        start_epoch = 0
        if self.resume_from is not None:
            start_epoch = self._resume(self.resume_from)
        run.start_epoch = run.epoch = start_epoch

        started = RunStarted(
            name=spec.name, spec_json=spec.to_json(), device=str(device), device_name=device_name(device),
            precision=precision.name, task=meta.task, class_names=list(meta.class_names),
            n_train=n_train, n_val=len(val), n_test=len(test), epochs=t.epochs, batch_size=bs,
            steps_per_epoch=steps_per_epoch, summary=_summary_rows(summary),
            total_params=int(getattr(summary, "total_params", 0)),
            total_flops=int(getattr(summary, "total_flops", 0)),
            memory_bytes=int(getattr(summary, "memory_bytes", 0)), start_epoch=start_epoch,
        )
        self.t_start = time.perf_counter()
        self._call("on_run_start", started)
        yield started
        self.started = True
        yield from self._side_events()

        self.ctx = _LoopState(
            model=model, loss_fn=loss_fn, optimizer=optimizer, sched=sched, scaler=scaler,
            precision=precision, device=device, Xtr=Xtr, ytr=ytr, slices=slices, n_per_epoch=n_per_epoch,
            needs_closure=needs_closure, val=val, test=test, train_sub=train_sub, meta=meta,
            out_width=int(summary.output_shape[-1]) if getattr(summary, "output_shape", None) else 0,
            augment=getattr(data, "augment", None) if meta.kind == "image" else None,
        )
        if self.ctx.augment is not None and not _augment_active(self.ctx.augment):
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
        run = self.run
        ck = load_checkpoint(path, map_location="cpu")
        try:
            run.model.load_state_dict(ck["model"])
        except RuntimeError as exc:
            raise CheckpointError(
                f"the checkpoint {path} does not fit this model (the layers changed?): {str(exc).splitlines()[0]}"
            ) from exc
        if ck.get("optimizer") is not None:
            try:
                run.optimizer.load_state_dict(ck["optimizer"])
            except (ValueError, KeyError) as exc:
                raise CheckpointError(
                    f"the checkpoint {path} was saved with a different optimizer: {exc}") from exc
        if run.scheduler is not None and ck.get("scheduler") is not None:
            run.scheduler.load_state_dict(ck["scheduler"])
        if run.scaler is not None and ck.get("scaler"):
            run.scaler.load_state_dict(ck["scaler"])
        if isinstance(ck.get("rng_state"), torch.Tensor):
            torch.set_rng_state(ck["rng_state"])
        if run.device.type == "cuda" and isinstance(ck.get("cuda_rng_state"), torch.Tensor):
            torch.cuda.set_rng_state(ck["cuda_rng_state"], run.device)
        run.step = int(ck.get("step", 0))
        # a branch with a new learning rate in its spec starts from that rate
        try:
            old_lr = json_lr(ck.get("spec_json", ""))
        except Exception:  # noqa: BLE001
            old_lr = None
        new_lr = self.spec.optimizer.params.get("lr")
        if new_lr is not None and old_lr is not None and float(new_lr) != float(old_lr):
            set_learning_rate(run.optimizer, run.scheduler, float(new_lr))
        return int(ck.get("epoch", 0))

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

        perm = epoch_permutation(len(c.Xtr), spec.train.seed, epoch).to(c.device)
        Xp = c.Xtr.index_select(0, perm)
        yp = c.ytr.index_select(0, perm)
        n_used = c.n_per_epoch
        xs = Xp[:n_used].split(self.batch_size)
        ys = yp[:n_used].split(self.batch_size)
        aug, aug_gen = c.augment, None
        if aug is not None:
            from workbench.core.data import augment_batch
            aug_gen = c.aug_generator(spec.train.seed, epoch)

        track_acc = c.meta.task == "classification" and not c.needs_closure and c.ytr.ndim == 1
        bs = self.batch_size
        out_bytes = bs * max(1, c.out_width) * 4
        sums = _EpochSums(c.device, bs, yp[:n_used], fold_steps=max(1, min(FOLD_STEPS, FOLD_BYTES // out_bytes)))
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
                opt.zero_grad(set_to_none=True)
                total = loss + l1 * sum(p.abs().sum() for p in l1_params) if l1 > 0 else loss
                if scaler is not None:
                    scaler.scale(total).backward()
                    if clip:
                        scaler.unscale_(opt)
                        torch.nn.utils.clip_grad_norm_(params, clip)
                    scaler.step(opt)
                    scaler.update()
                else:
                    total.backward()
                    if clip:
                        torch.nn.utils.clip_grad_norm_(params, clip)
                    opt.step()
            if sched_batch:
                c.sched.step()
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
            step += 1
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
            logs["accuracy"] = self._evaluate(c.train_sub, "", loss=False)["accuracy"]
        if len(c.val):
            logs.update(self._evaluate(c.val, "val_"))
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
                torch.nn.utils.clip_grad_norm_(params, clip)
            return loss

        loss = opt.step(closure)
        return loss if isinstance(loss, torch.Tensor) else torch.tensor(float(loss), device=c.device)

    def _partial_logs(self, sums: "_EpochSums", seen: int) -> dict[str, float]:
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

    # ---- evaluation ---------------------------------------------------------------------------
    @torch.no_grad()
    def _evaluate(self, es: "_EvalSet", prefix: str, loss: bool = True) -> dict[str, float]:
        c = self.ctx
        model = c.model
        was_training = model.training
        model.eval()
        outs = []
        loss_sum = torch.zeros((), device=c.device)
        for a in range(0, len(es), EVAL_CHUNK):
            xb = es.X[a:a + EVAL_CHUNK]
            if c.precision.autocast:
                with torch.autocast(c.device.type, dtype=c.precision.dtype):
                    out = model(xb)
            else:
                out = model(xb)
            out = out.float()
            if loss:
                loss_sum += c.loss_fn(out, es.y_loss[a:a + EVAL_CHUNK]).float() * xb.shape[0]
            outs.append(out)
        if was_training:
            model.train()
        out = torch.cat(outs) if len(outs) > 1 else outs[0]
        result: dict[str, float] = {}
        if loss:
            result[f"{prefix}loss"] = loss_sum.item() / len(es)
        result.update(_metrics(out, es.y, c.meta, prefix, full=bool(prefix)))
        return result

    def _terminal(self, partial: dict[str, float]) -> TerminalEvent:
        run, c = self.run, self.ctx
        duration = self._elapsed()
        metrics: dict[str, float] = {}
        last = dict(run.logs) if run.logs else {}
        if partial and (not last or c.user_stop or run.stop_requested):
            # stopped inside an epoch: the running loss of that epoch is the latest we have
            last = {**{k: v for k, v in last.items() if not k.startswith("val_")}, **partial}
        if "loss" in last:
            metrics["loss"] = metrics["train_loss"] = float(last["loss"])
        if "accuracy" in last:
            metrics["accuracy"] = float(last["accuracy"])
        nan_stop = bool(run.stop_reason and "NaN" in run.stop_reason or
                        run.stop_reason and "infinite" in run.stop_reason)
        if not nan_stop or all(math.isfinite(p.detach().float().sum().item()) for p in c.model.parameters()):
            # numbers from the final weights (after any early-stopping/NaN restore)
            if len(c.val):
                metrics.update(self._evaluate(c.val, "val_"))
            if len(c.test):
                metrics.update(self._evaluate(c.test, "test_"))
        metrics["lr"] = run.lr
        epochs = self.epochs_done
        if c.user_stop:
            return RunStopped(epochs=epochs, metrics=metrics, duration=duration, reason="stopped by the user")
        if run.stop_requested and not run.stop_finished:
            return RunStopped(epochs=epochs, metrics=metrics, duration=duration, reason=run.stop_reason or "")
        return RunFinished(epochs=epochs, metrics=metrics, duration=duration,
                           reason=run.stop_reason or "", best_epoch=run.best_epoch)


# ---- helpers ------------------------------------------------------------------------------------
class _LoopState:
    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.user_stop = False
        self._aug_gen: torch.Generator | None = None

    def aug_generator(self, seed: int, epoch: int) -> torch.Generator:
        if self._aug_gen is None:
            self._aug_gen = torch.Generator(device=self.device)
        self._aug_gen.manual_seed(_epoch_seed(seed + 1, epoch))
        return self._aug_gen


class _EpochSums:
    """The epoch's training loss sum and correct count, on the device, fed in batches.

    The loop appends each full batch's detached mean loss to `losses` and each step's detached
    output to `outs` (plain list appends: no device work per step); `fold()` turns what was kept
    into a few batched kernels. Outputs are matched to their targets by position: step k's output
    belongs to rows [k*bs, k*bs+nb) of the epoch's permuted targets `y_epoch`.
    """

    def __init__(self, device: torch.device, batch_size: int, y_epoch: torch.Tensor, fold_steps: int):
        self.batch_size = batch_size
        self.y_epoch = y_epoch
        self.fold_steps = fold_steps
        self.losses: list[torch.Tensor] = []
        self.outs: list[torch.Tensor] = []
        self.loss_acc = torch.zeros((), device=device, dtype=torch.float32)  # sum of loss * rows
        self.correct = torch.zeros((), device=device, dtype=torch.int64)
        self.rows_counted = 0  # rows of y_epoch already compared

    def add_partial_loss(self, loss: torch.Tensor, rows: int) -> None:
        self.loss_acc.add_(loss.float(), alpha=rows)

    def fold(self) -> None:
        if self.losses:
            kept = self.losses[0] if len(self.losses) == 1 else torch.stack(self.losses)
            self.loss_acc.add_(kept.float().sum(), alpha=self.batch_size)
            self.losses.clear()
        if self.outs:
            out = self.outs[0] if len(self.outs) == 1 else torch.cat(self.outs)
            self.outs.clear()
            n = out.shape[0]
            # a 1-wide output (BCEWithLogits, 2 classes) predicts class 1 when its logit is > 0
            pred = out.argmax(1) if out.ndim == 2 and out.shape[1] > 1 else out.reshape(n, -1)[:, 0] > 0
            a = self.rows_counted
            self.correct.add_((pred == self.y_epoch[a:a + n]).sum())
            self.rows_counted = a + n

    def loss_sum(self) -> float:
        self.fold()
        return self.loss_acc.item()

    def correct_count(self) -> int:
        self.fold()
        return int(self.correct.item())


class _EvalSet:
    """A val/test split on the device: X, raw y (for metrics) and y as the loss wants it."""

    def __init__(self, split, target, device):
        self.n = len(split.X) if split is not None else 0
        if self.n:
            self.X = split.X.to(device)
            self.y = split.y.to(device)
            self.y_loss = target(split.y).to(device)

    def __len__(self) -> int:
        return self.n


def _augment_active(aug) -> bool:
    return bool(getattr(aug, "hflip", False) or getattr(aug, "vflip", False)
                or getattr(aug, "rotate_degrees", 0) or getattr(aug, "shift", 0) or getattr(aug, "noise_std", 0))


def _loss_target_fn(catalog, spec, meta):
    fn = getattr(catalog, "loss_target", None)
    if fn is None or meta.task != "classification":
        return lambda y: y
    n_classes = len(meta.class_names) or meta.target_width
    return lambda y: fn(spec.loss, y, n_classes)


def _class_logits(out: torch.Tensor) -> torch.Tensor:
    """A 1-wide binary output (BCEWithLogits) as two-class logits for the metrics."""
    if out.ndim == 2 and out.shape[1] == 1:
        return torch.cat([torch.zeros_like(out), out], dim=1)
    return out


def _metrics(out: torch.Tensor, y: torch.Tensor, meta, prefix: str, full: bool) -> dict[str, float]:
    if meta.task == "classification":
        logits = _class_logits(out)
        if not full:
            return {f"{prefix}accuracy": (logits.argmax(1) == y).float().mean().item()}
        from workbench.core.metrics import classification_metrics
        n_classes = len(meta.class_names) or meta.target_width
        return {k: float(v) for k, v in classification_metrics(logits, y, n_classes, prefix=prefix).items()}
    from workbench.core.metrics import regression_metrics
    pred = out.reshape(y.shape) if out.numel() == y.numel() else out
    return {k: float(v) for k, v in regression_metrics(pred, y, prefix=prefix).items()}


def _summary_rows(summary) -> list[dict[str, Any]]:
    rows = summary.rows() if hasattr(summary, "rows") else []
    return [{k: (list(v) if isinstance(v, tuple) else v) for k, v in r.items()} for r in rows]


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "DefaultCPUAllocator: can't allocate memory" in text)


def json_lr(spec_json: str) -> float | None:
    import json
    lr = json.loads(spec_json).get("optimizer", {}).get("lr") if spec_json else None
    return float(lr) if lr is not None else None


def _scale_scheduler(sched: Any, ratio: float) -> None:
    if sched is None:
        return
    if hasattr(sched, "base_lrs"):
        sched.base_lrs = [b * ratio for b in sched.base_lrs]
    if getattr(sched, "_last_lr", None) is not None:
        sched._last_lr = [v * ratio for v in sched._last_lr]
    for inner in getattr(sched, "_schedulers", None) or ():
        _scale_scheduler(inner, ratio)
    for attr in ("warmup", "plateau"):  # catalog_schedules.WarmupThenPlateau
        inner = getattr(sched, attr, None)
        if inner is not None and hasattr(inner, "step"):
            _scale_scheduler(inner, ratio)


def set_learning_rate(optimizer: torch.optim.Optimizer, sched_handle: Any, lr: float) -> float:
    """Set every param group's lr to `lr`; rescale the scheduler's base LRs (and OneCycle's
    initial/max/min) by the same ratio so the schedule continues from the new value.
    Returns the previous lr (of the first group)."""
    previous = float(optimizer.param_groups[0]["lr"])
    ratio = lr / previous if previous > 0 else 1.0
    for g in optimizer.param_groups:
        g["lr"] = lr
        for key in ("initial_lr", "max_lr", "min_lr"):
            if key in g and isinstance(g[key], (int, float)):
                g[key] = g[key] * ratio
    _scale_scheduler(getattr(sched_handle, "scheduler", sched_handle), ratio)
    return previous
