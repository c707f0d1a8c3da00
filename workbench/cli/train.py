"""`workbench train SPEC.json`: apply the command-line overrides, check device, data and model
before any work, train with a progress line on stderr (Ctrl+C stops after the current step, a
second one aborts), record the run in the store and print or emit (--json) the result."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from workbench.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    emit_json,
    err,
    fmt_duration,
    json_metrics,
    json_safe,
    open_store,
    plural,
    print_final_metrics,
    resolve_run,
    run_reference,
)
from workbench.cli.train_progress import Progress
from workbench.core.locations import preset_path


def resolve_spec_argument(text: str) -> Path:
    """A spec file's path, or a built-in preset by name (`spiral`, `digits.json`) when no such
    file exists here."""
    path = Path(text).expanduser()
    if path.exists() or path.parent != Path("."):
        return path
    preset = preset_path(text)
    return preset if preset is not None else path


DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".npy", ".npz", ".parquet")


def refuse_data_as_spec(text: str, path: Path) -> None:
    """UsageError when SPEC names data (a table, arrays, an image folder): say how to train on it."""
    if path.is_dir() or (path.is_file() and path.suffix.lower() in DATA_SUFFIXES):
        preset = "shapes" if path.is_dir() else "iris"
        raise UsageError(f"{text} is data, not an experiment spec. Train a preset (or your spec) on it with "
                         f"--data: `workbench train {preset} --data {text}` (`workbench presets` lists the presets).")


def load_train_spec(args: argparse.Namespace):
    """The spec with the command-line overrides applied, and the folder data paths resolve against."""
    from workbench.core.spec import SpecError, load_spec

    spec_path = resolve_spec_argument(args.spec)
    refuse_data_as_spec(args.spec, spec_path)
    try:
        spec = load_spec(spec_path)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    changes: dict[str, Any] = {}
    if args.data is not None:
        src = args.data
        changes["data.source"] = src if src.startswith("sample:") else str(Path(src).expanduser().resolve())
        if spec_path == preset_path(args.spec):
            changes["name"] = ""  # a preset's name describes its own data: name the run after the new data
    if getattr(args, "name", None) is not None:
        changes["name"] = args.name
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
    if getattr(args, "accumulate", None) is not None:
        changes["train.accumulate_batches"] = args.accumulate
    if getattr(args, "ema", None) is not None:
        changes["train.ema"] = {"decay": args.ema} if args.ema > 0 else None
    if getattr(args, "no_health", False):
        changes["train.health"] = None
    if changes:
        try:
            spec = spec.with_values(changes)
        except SpecError as exc:
            raise UsageError(str(exc).replace("Invalid experiment spec", "Invalid command-line override", 1)) from None
    return spec, spec_path.resolve().parent


def _prepare_checked(spec, base_dir: Path):
    """Validate device, data and model before any training starts; UsageError otherwise."""
    from workbench.core.data import DataError, load_dataset, prepare
    from workbench.core.training import DeviceError, select_device
    from workbench.core.training import ModelError, check_experiment

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
    from workbench.core.training import CheckpointError, check_initial_weights

    try:
        check_initial_weights(spec, prepared.meta, base_dir)
    except CheckpointError as exc:
        raise UsageError(f"Fine-tuning problem: {exc}") from None
    return prepared


def apply_init_from(spec, text: str, store):
    """The spec starting from a run's final weights (`--init-from 12`) or a weights file."""
    from workbench.core.runs import ExperimentError, run_weights_path
    from workbench.core.spec import SpecError

    finetune = dict(spec.finetune.model_dump()) if spec.finetune is not None else {}
    run = run_reference(text)
    if run is not None and not Path(text).expanduser().is_file():
        try:
            run_id = resolve_run(store, run)
            path = run_weights_path(store, run_id)
        except (ExperimentError, UsageError) as exc:
            raise UsageError(f"--init-from {text}: {exc}") from None
        finetune.update(init_from=str(path.resolve()), init_run=run_id)
    else:
        path = Path(text).expanduser().resolve()
        if not path.is_file():
            raise UsageError(f"--init-from {text}: no such file; give a run id or a .safetensors/.pt file")
        finetune.update(init_from=str(path), init_run=None)
    try:
        return spec.with_values({"finetune": finetune})
    except SpecError as exc:
        raise UsageError(str(exc)) from None


def data_report(meta) -> list[str]:
    """What the loader decided, for people: the loader's notes (target chosen, task and why,
    one-hot columns, dropped/imputed rows, skipped files, left-out columns) and the classes."""
    lines = [str(n) for n in getattr(meta, "notes", None) or []]
    names = list(getattr(meta, "class_names", None) or [])
    if getattr(meta, "task", "") == "classification" and names:
        shown = ", ".join(names[:12]) + (f", ... ({len(names) - 12} more)" if len(names) > 12 else "")
        lines.append(f"classes ({len(names)}): {shown}")
    return lines


def _cmd_train(args: argparse.Namespace) -> int:
    spec, base_dir = load_train_spec(args)
    store = open_store(args.store)
    try:
        if getattr(args, "init_from", None):
            spec = apply_init_from(spec, args.init_from, store)
        prepared = _prepare_checked(spec, base_dir)
        return _run_training(args, spec, base_dir, prepared, store, data_report(prepared.meta))
    finally:
        store.close()


def _run_training(args, spec, base_dir: Path, prepared, store, data_notes: Sequence[str] = ()) -> int:
    from workbench.core.evaluation import EvaluationRecorder
    from workbench.core.execution import recorded_run
    from workbench.core.spec import experiment_name
    from workbench.core.training import (
        BatchProgress,
        EpochEnd,
        HealthAlert,
        RunFailed,
        RunFinished,
        RunRecorded,
        RunStarted,
        RunStopped,
        TrainControl,
    )

    run_id, run_dir = None, None
    data_notes = list(data_notes)
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
            err("Stopping after the current step (press Ctrl+C again to abort at once)...")
        else:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint) if _in_main_thread() else None
    terminal = None
    fine_tuning: list[str] = []  # what --init-from loaded and which layers are frozen (RunStarted.notes)
    try:
        # the run's folder: runs/<id>/ beside the store unless --run-dir says otherwise
        events = recorded_run(spec, store=store, run_dir=args.run_dir, name=experiment_name(spec, prepared.meta),
                              data=prepared, base_dir=base_dir, control=control,
                              progress_interval=0.25 if sys.stderr.isatty() else 1.0,
                              callbacks=[EvaluationRecorder(grid=0)])  # nobody watches a live grid here
        for ev in events:
            if isinstance(ev, RunRecorded):
                run_id, run_dir = ev.run_id, Path(ev.run_dir)
                try:  # kept with the run so `workbench runs show` can repeat it
                    store.log_event(run_id, "data", 0, 0, {
                        "source": getattr(prepared.meta, "source", spec.data.source), "notes": data_notes})
                except Exception:  # noqa: BLE001 - the record is a nicety; training goes on
                    pass
            elif isinstance(ev, RunStarted):
                progress.started(ev)
                fine_tuning = list(ev.notes)
            elif isinstance(ev, BatchProgress):
                progress.batch(ev)
            elif isinstance(ev, EpochEnd):
                progress.epoch(ev)
                if args.json:
                    emit_json(json_safe({"epoch": ev.epoch, **ev.logs}))
            elif isinstance(ev, HealthAlert):
                progress.alert(ev)
            elif isinstance(ev, (RunFinished, RunStopped, RunFailed)):
                terminal = ev
    except KeyboardInterrupt:
        progress.done()
        elapsed = time.monotonic() - started_at
        if run_id is None:  # aborted before the run was recorded
            err("Aborted before training started.")
            return EXIT_INTERRUPTED
        store.finish_run(run_id, "stopped", {}, elapsed, "aborted with Ctrl+C")
        err(f"Aborted. Run {run_id} is recorded as stopped.")
        if args.json:
            emit_json({"status": "stopped", "run_id": run_id, "epochs": store.get_run(run_id).epochs,
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

    from workbench.core.catalog import baseline_note

    warnings = [note for note in (baseline_note(metrics),) if note]
    if args.json:
        scaler = getattr(prepared.meta, "target_scaler", None)
        final = {"status": status, "run_id": run_id, "epochs": epochs, "metrics": json_metrics(metrics),
                 "duration": duration, "run_dir": str(run_dir), "message": message, "notes": data_notes,
                 "fine_tuning": fine_tuning, "warnings": warnings, "target_scaler": scaler.to_dict() if scaler is not None else None}
        emit_json(final)
    out = sys.stderr if args.json else sys.stdout
    if status == "failed":
        err(f"Run {run_id} failed: {message}")
        if getattr(terminal, "details", "") and os.environ.get("WORKBENCH_DEBUG"):
            err(terminal.details)
    elif not args.quiet or not args.json:
        head = f"Run {run_id} {status} after {plural(epochs, 'epoch')} in {fmt_duration(duration)}"
        out.write(head + (f" ({message})" if message else "") + "\n")
        print_final_metrics(metrics, out)
        for warning in warnings:
            out.write(f"  warning: {warning}\n")
        out.write(f"  checkpoints in {run_dir}\n" if spec.train.checkpoint else "")
        out.flush()
    return code


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train one experiment spec headless and record the run",
        description="Train the experiment described by SPEC.json and record it in the run store. "
                    "Data paths in the spec are relative to the spec's folder; --data is relative to "
                    "the current folder. Exit codes: 0 finished, 1 failed, 2 bad input, 130 interrupted.",
    )
    p.add_argument("spec", metavar="SPEC", help="experiment spec file, or a preset by name (`workbench presets`)")
    p.add_argument("--data", metavar="PATH", help="use this data (a file, folder or sample:NAME) instead")
    p.add_argument("--target", metavar="COL", help="target column of a table")
    p.add_argument("--task", choices=("auto", "classification", "regression"),
                   help="what the target is (data.task; default: the spec's, usually auto = inferred from the data)")
    p.add_argument("--missing", choices=("error", "drop", "impute"),
                   help="rows with missing values: stop with an error, drop them, or fill in the column's "
                        "median (numbers) or most common value (text) (data.missing)")
    p.add_argument("--epochs", metavar="N", type=int, help="number of epochs")
    p.add_argument("--name", metavar="TEXT", help="the experiment's name (default: the spec's, or after the data "
                                                  "and model, e.g. 'customers.csv · MLP 64-3')")
    p.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--seed", metavar="N", type=int, help="random seed of the training")
    p.add_argument("--init-from", metavar="RUN|FILE",
                   help="start from a run's final weights (its id) or a .safetensors/.pt file: layers whose shapes "
                        "match are loaded, the others start fresh (finetune.init_from)")
    p.add_argument("--accumulate", metavar="N", type=int,
                   help="an optimizer step every N batches: effective batch = batch size × N (train.accumulate_batches)")
    p.add_argument("--ema", metavar="DECAY", type=float,
                   help="keep a moving average of the weights (e.g. 0.999), evaluated and checkpointed beside them; "
                        "0 turns it off (train.ema)")
    p.add_argument("--no-health", action="store_true", help="turn the health monitor off (train.health = null)")
    p.add_argument("--store", metavar="DB", help="run store file (default: $WORKBENCH_STORE or the user data folder)")
    p.add_argument("--run-dir", metavar="DIR", help="checkpoint folder (default: <store folder>/runs/<run id>/)")
    p.add_argument("--json", action="store_true", help="one JSON object per epoch and a final one on stdout")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_train)
