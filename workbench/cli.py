"""The `workbench` command: no arguments opens the app; subcommands run the engine headless.

    workbench                          open the app
    workbench train SPEC.json [...]    train one experiment, record it in the run store
    workbench runs [list|show ID]      the recorded runs

Each subcommand is registered by one small function taking the subparsers object (see
COMMANDS). Other modules add commands the same way: a module listed in PLUGIN_MODULES that
defines `register(subparsers)` is picked up if it can be imported (sweeps live in
workbench/cli_sweep.py). Every handler returns the exit code:

    0 finished (or stopped early by early stopping)   1 failed during training
    2 bad input (spec, data, model, device, store)   130 interrupted (Ctrl+C)

Heavy modules (torch, the GUI) are imported inside the handlers so `workbench runs` and
`workbench --help` start quickly.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

from workbench import __version__

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
PLUGIN_MODULES = ("workbench.cli_sweep",)


def _spiral_preset() -> str:
    """Absolute path of the spiral preset: beside the package (a source checkout), else in an
    installed `resources` folder; the bare relative name when neither exists."""
    here = Path(__file__).resolve().parent
    for base in (here.parent, here, Path(sys.prefix) / "share" / "workbench"):
        candidate = base / "resources" / "presets" / "spiral.json"
        if candidate.is_file():
            return shlex.quote(str(candidate))
    return "resources/presets/spiral.json"


NO_DISPLAY_MESSAGE = (
    f"No display found. Run `workbench train {_spiral_preset()}` for a headless run, "
    "or start under Xvfb / set QT_QPA_PLATFORM=offscreen."
)


class UsageError(Exception):
    """Bad input found before any work started: printed as is, exit code 2."""


# ---- small output helpers --------------------------------------------------------------------
def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _emit_json(obj: dict[str, Any], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    out.write(json.dumps(obj, allow_nan=False, default=_json_default) + "\n")
    out.flush()


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON-serializable: {type(o).__name__}")


def _json_safe(d: dict[str, Any]) -> dict[str, Any]:
    """NaN/inf are not JSON: they become null."""
    out = {}
    for k, v in d.items():
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        out[k] = v
    return out


def _fmt_num(v: float | None, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e6):
        return str(int(v))
    return f"{v:.{digits}g}" if abs(v) >= 1e-3 else f"{v:.2e}"


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(round(seconds)), 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


# ---- the app ---------------------------------------------------------------------------------
def _has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True  # Windows and macOS always have a window system
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def open_app(argv: Sequence[str] = ()) -> int:
    if not _has_display():
        _err(NO_DISPLAY_MESSAGE)
        return EXIT_BAD_INPUT
    try:
        from workbench.gui import app
    except ImportError as exc:
        _err(f"The Workbench app cannot start: {exc}.\n"
             "Check the installation (`pip install -e .`), or train headless with `workbench train SPEC.json`.")
        return EXIT_BAD_INPUT
    main_fn = getattr(app, "main", None)
    if main_fn is None:
        _err("The Workbench app cannot start: workbench.gui.app has no main(). "
             "Train headless with `workbench train SPEC.json`.")
        return EXIT_BAD_INPUT
    import inspect

    try:
        takes_args = bool(inspect.signature(main_fn).parameters)
    except (TypeError, ValueError):
        takes_args = False
    rc = main_fn(list(argv)) if takes_args else main_fn()
    return int(rc or 0)


def _cmd_gui(args: argparse.Namespace) -> int:
    return open_app([args.spec] if args.spec else [])


def add_gui_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the app (the same as running `workbench` alone)",
                       description="Open the Workbench app, optionally with a spec file.")
    p.add_argument("spec", nargs="?", help="an experiment spec (.json) to open")
    p.set_defaults(func=_cmd_gui)


# ---- train -----------------------------------------------------------------------------------
def _open_store(path: str | None):
    from workbench.core.runs import RunStore, StoreError

    try:
        return RunStore(path) if path else RunStore()
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _load_train_spec(args: argparse.Namespace):
    """The spec with the command-line overrides applied, and the folder data paths resolve against."""
    from workbench.core.spec import SpecError, load_spec

    spec_path = Path(args.spec)
    try:
        spec = load_spec(spec_path)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    changes: dict[str, Any] = {}
    if args.data is not None:
        src = args.data
        changes["data.source"] = src if src.startswith("sample:") else str(Path(src).expanduser().resolve())
    if args.target is not None:
        changes["data.target"] = args.target
    if getattr(args, "task", None) is not None:
        changes["data.task"] = args.task
    if getattr(args, "missing", None) is not None:
        changes["data.missing"] = args.missing
    if args.epochs is not None:
        changes["train.epochs"] = args.epochs
    if args.device is not None:
        changes["train.device"] = args.device
    if args.seed is not None:
        changes["train.seed"] = args.seed
    if changes:
        try:
            spec = spec.with_values(changes)
        except SpecError as exc:
            raise UsageError(str(exc).replace("Invalid experiment spec", "Invalid command-line override", 1)) from None
    return spec, spec_path.resolve().parent


def _prepare_checked(spec, base_dir: Path):
    """Validate device, data and model before any training starts; UsageError otherwise."""
    from workbench.core.data import DataError, load_dataset, prepare
    from workbench.core.device import DeviceError, select_device
    from workbench.core.model import ModelError, check_experiment

    try:
        select_device(spec.train.device)
    except DeviceError as exc:
        raise UsageError(f"Device problem (train.device = {spec.train.device!r}): {exc}") from None
    try:
        dataset = load_dataset(spec.data, base_dir)
        prepared = prepare(dataset, spec.data)
    except DataError as exc:
        raise UsageError(f"Data problem: {exc}") from None
    except FileNotFoundError as exc:
        raise UsageError(f"Data problem: file not found: {exc.filename or exc}") from None
    try:
        problems = check_experiment(spec, prepared.meta)
    except ModelError as exc:
        problems = [str(exc)]
    if problems:
        raise UsageError("Model problem:\n" + "\n".join(f"  {p}" for p in problems))
    return prepared


def data_report(meta) -> list[str]:
    """What the loader decided, for people: the loader's notes (target chosen, task and why,
    one-hot columns, dropped/imputed rows, skipped files, left-out columns) and the classes."""
    lines = [str(n) for n in getattr(meta, "notes", None) or []]
    names = list(getattr(meta, "class_names", None) or [])
    if getattr(meta, "task", "") == "classification" and names:
        shown = ", ".join(names[:12]) + (f", ... ({len(names) - 12} more)" if len(names) > 12 else "")
        lines.append(f"classes ({len(names)}): {shown}")
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _make_recorder(store, run_id: int):
    """A RunRecorder attached to a run the CLI created up front (so the checkpoint folder can
    be named after the run id before training starts)."""
    from workbench.core.callbacks import RunRecorder

    class _AttachedRecorder(RunRecorder):
        def _create(self, run, **extra):  # the run exists: fill in what is known now
            fields = {k: v for k, v in extra.items() if k in ("device", "task", "total_params") and v}
            if run.run_dir:
                fields["run_dir"] = str(run.run_dir)
            self.store.update_run(run_id, **fields)
            self.run_id = run_id
            return run_id

    return _AttachedRecorder(store)


class Progress:
    """Training progress on stderr: one updating line on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO, *, enabled: bool = True, interval: float = 2.0):
        self.stream = stream
        self.enabled = enabled
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = interval  # seconds between plain lines
        self.epochs = 1
        self.start_epoch = 0
        self._last_plain = 0.0
        self._width = 0
        self._val_key: str | None = None
        self._val: float | None = None
        self.data_notes: list[str] = []  # printed under the "Training ..." line

    def started(self, ev) -> None:
        self.epochs = ev.epochs
        self.start_epoch = ev.start_epoch
        if self.enabled:
            self._line(
                f"Training {ev.name}: {ev.n_train} train / {ev.n_val} val / {ev.n_test} test samples, "
                f"{ev.total_params:,} parameters, {ev.device_name}, {ev.precision}",
                permanent=True,
            )
            for note in self.data_notes:
                self._line(f"  data: {note}", permanent=True)

    def _eta(self, epoch: int, batch: int, batches: int, elapsed: float) -> str:
        done = (epoch - 1 - self.start_epoch) + (batch / batches if batches else 1.0)
        total = self.epochs - self.start_epoch
        if done <= 0 or elapsed <= 0:
            return "?"
        return _fmt_duration(max(0.0, elapsed / done * (total - done)))

    def _val_text(self) -> str:
        if self._val_key is None:
            return ""
        return f" | {self._val_key} {_fmt_num(self._val)}"

    def batch(self, ev) -> None:
        if not (self.enabled and self.tty):
            return
        self._line(
            f"epoch {ev.epoch}/{self.epochs} batch {ev.batch}/{ev.batches} | loss {_fmt_num(ev.loss)}"
            f"{self._val_text()} | {ev.samples_per_s:,.0f} samples/s | ETA {self._eta(ev.epoch, ev.batch, ev.batches, ev.elapsed)}"
        )

    def epoch(self, ev) -> None:
        logs = ev.logs
        for key in ("val_accuracy", "val_r2", "val_loss"):
            if key in logs:
                self._val_key, self._val = key, logs[key]
                break
        if not self.enabled:
            return
        text = (
            f"epoch {ev.epoch}/{self.epochs} | loss {_fmt_num(logs.get('loss'))}{self._val_text()} | "
            f"{ev.samples_per_s:,.0f} samples/s | {_fmt_duration(ev.elapsed)} elapsed | "
            f"ETA {self._eta(ev.epoch, 1, 1, ev.elapsed)}"
        )
        if self.tty:
            self._line(text)
        else:
            now = time.monotonic()
            if now - self._last_plain >= self.interval or ev.epoch in (self.start_epoch + 1, self.epochs):
                self._last_plain = now
                self._line(text, permanent=True)

    def done(self) -> None:
        if self.enabled and self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0

    def _line(self, text: str, permanent: bool = False) -> None:
        if self.tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad + ("\n" if permanent else ""))
            self._width = 0 if permanent else len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def json_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Final metrics with explicit prefixes: loss -> train_loss, accuracy -> train_accuracy;
    val_* and test_* stay; lr and best_epoch stay as they are."""
    out: dict[str, Any] = {}
    for k, v in metrics.items():
        if k.startswith(("val_", "test_", "train_")) or k in ("lr", "best_epoch", "epoch"):
            out[k] = v
        else:
            out[f"train_{k}"] = v
    return _json_safe(out)


def _print_final_metrics(metrics: dict[str, float], out: TextIO) -> None:
    m = json_metrics(metrics)
    for split in ("train", "val", "test"):
        items = [(k[len(split) + 1:], v) for k, v in m.items() if k.startswith(split + "_")]
        if items:
            body = "  ".join(f"{k} {_fmt_num(v)}" for k, v in items)
            out.write(f"  {split:<5} {body}\n")
    out.flush()


def _cmd_train(args: argparse.Namespace) -> int:
    spec, base_dir = _load_train_spec(args)
    store = _open_store(args.store)
    try:
        prepared = _prepare_checked(spec, base_dir)
        return _run_training(args, spec, base_dir, prepared, store, data_report(prepared.meta))
    finally:
        store.close()


def _run_training(args, spec, base_dir: Path, prepared, store, data_notes: Sequence[str] = ()) -> int:
    from workbench.core.control import TrainControl
    from workbench.core.events import BatchProgress, EpochEnd, RunFailed, RunFinished, RunStarted, RunStopped
    from workbench.core.trainer import train

    run_id = store.create_run(spec, device=spec.train.device)
    run_dir = Path(args.run_dir).expanduser().resolve() if args.run_dir else store.path.parent / "runs" / str(run_id)
    store.update_run(run_id, run_dir=run_dir)
    data_notes = list(data_notes)
    try:  # kept with the run so `workbench runs show` can repeat it
        store.log_event(run_id, "data", 0, 0, {"source": getattr(prepared.meta, "source", spec.data.source),
                                               "notes": data_notes})
    except Exception:  # noqa: BLE001 - the record is a nicety; training goes on
        pass
    recorder = _make_recorder(store, run_id)
    control = TrainControl()
    progress = Progress(sys.stderr, enabled=not args.quiet)
    progress.data_notes = data_notes
    interrupted = {"n": 0}
    started_at = time.monotonic()

    def on_sigint(signum, frame):
        interrupted["n"] += 1
        if interrupted["n"] == 1:
            control.stop()
            progress.done()
            _err("Stopping after the current step (press Ctrl+C again to abort at once)...")
        else:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint) if _in_main_thread() else None
    terminal = None
    try:
        events = train(spec, data=prepared, base_dir=base_dir, control=control, callbacks=[recorder],
                       run_dir=run_dir, progress_interval=0.25 if sys.stderr.isatty() else 1.0)
        for ev in events:
            if isinstance(ev, RunStarted):
                progress.started(ev)
            elif isinstance(ev, BatchProgress):
                progress.batch(ev)
            elif isinstance(ev, EpochEnd):
                progress.epoch(ev)
                if args.json:
                    _emit_json(_json_safe({"epoch": ev.epoch, **ev.logs}))
            elif isinstance(ev, (RunFinished, RunStopped, RunFailed)):
                terminal = ev
    except KeyboardInterrupt:
        progress.done()
        elapsed = time.monotonic() - started_at
        store.finish_run(run_id, "stopped", {}, elapsed, "aborted with Ctrl+C")
        _err(f"Aborted. Run {run_id} is recorded as stopped.")
        if args.json:
            _emit_json({"status": "stopped", "run_id": run_id, "epochs": store.get_run(run_id).epochs,
                        "metrics": {}, "duration": round(elapsed, 3), "message": "aborted with Ctrl+C",
                        "notes": data_notes})
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        progress.done()

    if terminal is None:  # the trainer always ends with one; be safe anyway
        terminal = RunFailed(message="the training ended without a final event")

    if isinstance(terminal, RunFailed):
        status, code = "failed", EXIT_FAILED
        metrics, epochs, duration, message = {}, terminal.epochs, None, terminal.message
    else:
        status = "finished" if isinstance(terminal, RunFinished) else "stopped"
        code = EXIT_OK if status == "finished" else (EXIT_INTERRUPTED if interrupted["n"] else EXIT_FAILED)
        metrics, epochs, duration, message = terminal.metrics, terminal.epochs, terminal.duration, terminal.reason
    if duration is None:
        duration = time.monotonic() - started_at
    if store.get_run(run_id).stored_status == "running":  # the recorder did not get to finish it
        store.finish_run(run_id, status, metrics, duration, message)

    if args.json:
        final = {"status": status, "run_id": run_id, "epochs": epochs, "metrics": json_metrics(metrics),
                 "duration": duration, "run_dir": str(run_dir), "message": message, "notes": data_notes}
        _emit_json(final)
    out = sys.stderr if args.json else sys.stdout
    if status == "failed":
        _err(f"Run {run_id} failed: {message}")
        if getattr(terminal, "details", "") and os.environ.get("WORKBENCH_DEBUG"):
            _err(terminal.details)
    elif not args.quiet or not args.json:
        head = f"Run {run_id} {status} after {_plural(epochs, 'epoch')} in {_fmt_duration(duration)}"
        out.write(head + (f" ({message})" if message else "") + "\n")
        _print_final_metrics(metrics, out)
        out.write(f"  checkpoints in {run_dir}\n" if spec.train.checkpoint else "")
        out.flush()
    return code


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def add_train_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train one experiment spec headless and record the run",
        description="Train the experiment described by SPEC.json and record it in the run store. "
                    "Data paths in the spec are relative to the spec's folder; --data is relative to "
                    "the current folder. Exit codes: 0 finished, 1 failed, 2 bad input, 130 interrupted.",
    )
    p.add_argument("spec", metavar="SPEC.json", help="experiment spec (see resources/presets/)")
    p.add_argument("--data", metavar="PATH", help="use this data (a file, folder or sample:NAME) instead")
    p.add_argument("--target", metavar="COL", help="target column of a table")
    p.add_argument("--task", choices=("auto", "classification", "regression"),
                   help="what the target is (data.task; default: the spec's, usually auto = inferred from the data)")
    p.add_argument("--missing", choices=("error", "drop", "impute"),
                   help="rows with missing values: stop with an error, drop them, or fill in column "
                        "means/most common values (data.missing)")
    p.add_argument("--epochs", metavar="N", type=int, help="number of epochs")
    p.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--seed", metavar="N", type=int, help="random seed of the training")
    p.add_argument("--store", metavar="DB", help="run store file (default: $WORKBENCH_STORE or the user data folder)")
    p.add_argument("--run-dir", metavar="DIR", help="checkpoint folder (default: <store folder>/runs/<run id>/)")
    p.add_argument("--json", action="store_true", help="one JSON object per epoch and a final one on stdout")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_train)


# ---- runs ------------------------------------------------------------------------------------
def _short_dataset(source: str) -> str:
    return source.removeprefix("sample:") if source.startswith("sample:") else (Path(source).name or source)


def _short_metric(name: str) -> str:
    return name.removeprefix("val_").removeprefix("test_").replace("accuracy", "acc")


def _fmt_metric(v: float | None) -> str:
    """Fixed decimals so a column of accuracies lines up (0.6000, 0.9867)."""
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.4f}" if abs(v) < 10 else f"{v:.4g}"


def runs_table(records) -> str:
    header = ("id", "name", "date", "status", "dataset", "epochs", "best val", "test", "duration")
    rows = []
    for r in records:
        best = f"{_short_metric(r.best_val_metric)} {_fmt_metric(r.best_val)}" if r.best_val is not None else "-"
        tm = r.test_metric
        test = f"{_short_metric(tm[0])} {_fmt_metric(tm[1])}" if tm and tm[1] is not None else "-"
        rows.append((str(r.id), r.name, r.created_at.strftime("%Y-%m-%d %H:%M"), r.status,
                     _short_dataset(r.dataset), str(r.epochs), best, test, _fmt_duration(r.duration)))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    right = {0, 5}  # numbers align right
    def fmt(row):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
    return "\n".join([fmt(header), fmt(tuple("-" * w for w in widths)), *map(fmt, rows)])


def _cmd_runs_list(args: argparse.Namespace) -> int:
    store = _open_store(args.store)
    with store:
        records = store.list_runs(limit=args.limit, status=args.status)
        if args.json:
            for r in records:
                _emit_json(_json_safe(r.to_dict()))
            return EXIT_OK
        if not records:
            print(f"No runs recorded in {store.path} yet. Train one with `workbench train SPEC.json`.")
            return EXIT_OK
        print(runs_table(records))
    return EXIT_OK


def _cmd_runs_show(args: argparse.Namespace) -> int:
    store = _open_store(args.store)
    with store:
        try:
            rec = store.get_run(args.id)
        except KeyError:
            raise UsageError(f"No run {args.id} in {store.path}; `workbench runs` lists them.") from None
        epochs = store.epochs(rec.id)
        artifacts = store.artifacts(rec.id)
        data_event = next((e["data"] for e in store.events(rec.id) if e["kind"] == "data"), None)
    if args.json:
        d = _json_safe(rec.to_dict())
        d["spec"] = json.loads(rec.spec_json)
        d["epoch_logs"] = [_json_safe(e) for e in epochs]
        d["artifacts"] = artifacts
        if data_event is not None:
            d["data_source"] = data_event.get("source")
            d["data_notes"] = list(data_event.get("notes") or [])
        _emit_json(d)
        return EXIT_OK
    lines = [
        f"Run {rec.id}: {rec.name}",
        f"  status    {rec.status}" + (f" ({rec.message})" if rec.message else ""),
        f"  created   {rec.created_at.strftime('%Y-%m-%d %H:%M:%S')} on {rec.host or '?'}",
        f"  data      {rec.dataset}" + (f" ({rec.task})" if rec.task else ""),
        *_data_lines(rec.dataset, data_event),
        f"  model     {rec.model_summary or '-'}"
        + (f" ({rec.total_params:,} parameters)" if rec.total_params else ""),
        f"  optimizer {rec.optimizer} lr {_fmt_num(rec.lr)}   device {rec.device or '-'}",
        f"  epochs    {rec.epochs}   duration {_fmt_duration(rec.duration)}",
    ]
    if rec.best_val is not None:
        lines.append(f"  best      {rec.best_val_metric} {_fmt_num(rec.best_val)} at epoch {rec.best_epoch}")
    if rec.parent_id is not None or rec.sweep_id is not None:
        lines.append(f"  parent    {rec.parent_id if rec.parent_id is not None else '-'}   sweep {rec.sweep_id if rec.sweep_id is not None else '-'}")
    if rec.tags:
        lines.append(f"  tags      {', '.join(rec.tags)}")
    if rec.notes:
        lines.append(f"  notes     {rec.notes}")
    if rec.run_dir:
        lines.append(f"  folder    {rec.run_dir}")
    for a in artifacts:
        lines.append(f"  artifact  {a['kind']}: {a['path']}")
    print("\n".join(lines))
    if rec.metrics:
        print("Final metrics:")
        _print_final_metrics(rec.metrics, sys.stdout)
    print("Spec:")
    print(json.dumps(json.loads(rec.spec_json), indent=2))
    return EXIT_OK


def _data_lines(dataset: str, data_event: dict | None) -> list[str]:
    """The loader's report stored with the run (runs trained before it was stored have none)."""
    if not data_event:
        return []
    lines = []
    source = data_event.get("source")
    if source and source != dataset:
        lines.append(f"            from {source}")
    lines.extend(f"            {note}" for note in data_event.get("notes") or [])
    return lines


def _runs_options(*, top: bool) -> argparse.ArgumentParser:
    """--store/--json (and list filters) for `runs` and its subcommands. The subcommands'
    copies default to SUPPRESS so `runs --store X show 3` keeps the X given before `show`."""
    d = {} if top else {"default": argparse.SUPPRESS}
    opts = argparse.ArgumentParser(add_help=False)
    opts.add_argument("--store", metavar="DB", help="run store file (default: $WORKBENCH_STORE or the user data folder)",
                      **({"default": None} if top else d))
    opts.add_argument("--json", action="store_true", help="JSON output (one object per line)", **d)
    return opts


def _list_options(*, top: bool) -> argparse.ArgumentParser:
    d = {} if top else {"default": argparse.SUPPRESS}
    opts = argparse.ArgumentParser(add_help=False)
    opts.add_argument("--limit", metavar="N", type=int, help="newest N runs (default 50; 0 = all)",
                      **({"default": 50} if top else d))
    opts.add_argument("--status", choices=("running", "finished", "stopped", "failed", "interrupted"),
                      **({"default": None} if top else d))
    return opts


def add_runs_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", parents=[_runs_options(top=True), _list_options(top=True)],
                       help="list recorded runs (`runs show ID` for one)",
                       description="List the recorded runs, newest first, or show one with `runs show ID`.")
    p.set_defaults(func=_cmd_runs_list)
    rsub = p.add_subparsers(dest="runs_command", metavar="{list,show}")
    pl = rsub.add_parser("list", parents=[_runs_options(top=False), _list_options(top=False)],
                         help="list runs (the default)")
    pl.set_defaults(func=_cmd_runs_list)
    ps = rsub.add_parser("show", parents=[_runs_options(top=False)], help="one run: spec, final metrics, files")
    ps.add_argument("id", type=int, help="run id (see `workbench runs`)")
    ps.set_defaults(func=_cmd_runs_show)


# ---- assembly --------------------------------------------------------------------------------
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_train_command,
    add_runs_command,
    add_gui_command,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Train PyTorch models by pointing and clicking. Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    import importlib

    for name in PLUGIN_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the plugin exists but something it needs is missing
                raise
            continue
        module.register(sub)
    return parser


def _subparser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser | None:
    """The innermost subcommand parser named in `args` (train, runs show, ...), if any."""
    found = None
    current = parser
    for dest in ("command", "runs_command"):
        name = getattr(args, dest, None)
        if not name:
            break
        action = next((a for a in current._actions if isinstance(a, argparse._SubParsersAction)), None)
        if action is None or name not in action.choices:
            break
        current = found = action.choices[name]
    return found


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return open_app()
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        # argparse reports these from the top-level parser, with its usage; show the usage of
        # the command that was given (`workbench train: error: unrecognized arguments: ...`)
        sub = _subparser(parser, args)
        (sub or parser).error(f"unrecognized arguments: {' '.join(extras)}")
    if getattr(args, "limit", None) == 0:
        args.limit = None
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(func(args) or 0)
    except UsageError as exc:
        if getattr(args, "json", False):
            _emit_json({"status": "invalid", "message": str(exc)})
        _err(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _err("Interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `workbench runs | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
