"""`workbench sweep` and `workbench sweep-worker`.

    workbench sweep SPEC.json --space SPACE.json --trials 20 --parallel 2 [--strategy grid|random|tpe]
                   [--pruner none|median|halving] [--repeats R] [--metric NAME] [--direction auto]
                   [--store DB] [--storage URL --study NAME] [--json]
    workbench sweep --storage URL --study NAME --trials 10        continue a stored sweep
    workbench sweep-worker --storage URL --study NAME [--store DB]   join a sweep from another machine

Exit codes: 0 at least one trial completed, 1 none did (or the workers could not start),
2 bad input (spec, space, storage), 130 stopped with Ctrl+C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Iterator, TextIO

from workbench.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    emit_json,
    err,
)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _short(path: str) -> str:
    """optimizer.lr -> lr; model.layers.0.out_features -> layers.0.out_features."""
    parts = path.split(".")
    if parts[0] == "model":
        parts = parts[1:]
    elif parts[0] in ("optimizer", "train", "loss", "data") and len(parts) == 2 and parts[1] != "type":
        parts = parts[1:]
    return ".".join(parts)


def _params_text(params: dict[str, Any]) -> str:
    return " ".join(f"{_short(k)}={_fmt(v)}" for k, v in params.items())


class _Stopper:
    """First Ctrl+C stops the sweep gracefully (runs are stopped and recorded); the second quits."""

    def __init__(self, control) -> None:
        self.control = control
        self.count = 0
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.count += 1
        if self.count == 1:
            self.control.stop()
            err("Stopping the sweep: running trials are stopped and recorded (Ctrl+C again to quit at once)...")
        else:
            raise KeyboardInterrupt

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _consume(events: Iterator, args: argparse.Namespace, control) -> int:
    from workbench.core.sweep import (
        SweepFinished,
        SweepStarted,
        TrialFailed,
        TrialFinished,
        TrialStarted,
        json_line,
        trial_label,
    )

    as_json = args.json
    out = sys.stdout
    log = sys.stderr if as_json else sys.stdout
    rows: list[dict[str, Any]] = []
    metric = "value"
    final = None
    with _Stopper(control) as stopper:
        try:
            for ev in events:
                if isinstance(ev, SweepStarted):
                    metric = ev.metric
                    what = "Continuing" if ev.existing else "Sweep"
                    log.write(f"{what} {ev.study}: {ev.strategy}, {ev.n_trials} trial{'s' if ev.n_trials != 1 else ''}, {ev.parallel} parallel, "
                              f"{ev.direction} {ev.metric}" + (f", pruner {ev.pruner}" if ev.pruner != "none" else "")
                              + (f", {ev.repeats} repeats" if ev.repeats > 1 else "") + f"\n  storage {ev.storage}\n")
                    if ev.strategy == "grid" and not ev.existing and 0 < ev.n_trials < ev.grid_points:
                        log.write(f"  grid has {ev.grid_points} points; running {ev.n_trials} of them "
                                  "(spread evenly over the grid)\n")
                    log.flush()
                elif isinstance(ev, TrialStarted) and not as_json:
                    log.write(f"  trial {trial_label(ev.trial):>3} started   {_params_text(ev.params)}\n")
                    log.flush()
                elif isinstance(ev, (TrialFinished, TrialFailed)):
                    line = json_line(ev)
                    rows.append(line)
                    if as_json:
                        emit_json(line, out)
                    if isinstance(ev, TrialFailed):
                        log.write(f"  trial {trial_label(ev.trial):>3} FAILED    {_params_text(ev.params)}: {ev.message}\n")
                    else:
                        val = f"{metric}={_fmt(ev.value)}" if ev.value is not None else ""
                        runs = f"run {ev.run_id}" if ev.run_id is not None else ""
                        log.write(f"  trial {trial_label(ev.trial):>3} {ev.status:<9} {val:<18} {_params_text(ev.params)}"
                                  f"  ({ev.duration:.1f} s{', ' + runs if runs else ''})\n")
                    log.flush()
                elif isinstance(ev, SweepFinished):
                    final = ev
        except KeyboardInterrupt:
            err("Quit. Runs already recorded stay in the run store; the study keeps finished trials.")
            if as_json:
                emit_json({"status": "stopped", "best": None, "message": "aborted with Ctrl+C"}, out)
            return EXIT_INTERRUPTED
    if final is None:
        return EXIT_FAILED
    if as_json:
        emit_json(json_line(final), out)
    else:
        _print_table(rows, metric, final, log)
    if final.status == "failed":
        err(f"The sweep failed: {final.message}")
        return EXIT_FAILED
    if stopper.count:
        return EXIT_INTERRUPTED
    return EXIT_OK if final.n_complete > 0 else EXIT_FAILED


def _print_table(rows: list[dict[str, Any]], metric: str, final, out: TextIO) -> None:
    from workbench.core.sweep import resolve_direction, trial_label

    maximize = final.best is not None and resolve_direction(metric) == "maximize"
    done = [r for r in rows if r.get("value") is not None and r["status"] == "complete"]
    rest = [r for r in rows if r not in done]
    done.sort(key=lambda r: r["value"], reverse=maximize)
    keys: list[str] = []
    for r in rows:
        keys.extend(k for k in r.get("params", {}) if k not in keys)
    header = ["trial", "status", metric, *[_short(k) for k in keys], "run"]
    table = [header]
    for r in done + rest:
        table.append([trial_label(r["trial"]), r["status"], _fmt(r["value"]) if r.get("value") is not None else "-",
                      *[_fmt(r["params"][k]) if k in r.get("params", {}) else "-" for k in keys],
                      str(r.get("run_id") or (r.get("run_ids") or ["-"])[0])])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    out.write(f"\nSweep {final.study} {final.status}: {final.n_complete} complete, {final.n_pruned} pruned, "
              f"{final.n_failed} failed\n")
    for i, row in enumerate(table):
        out.write("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n")
        if i == 0:
            out.write("  " + "  ".join("-" * w for w in widths) + "\n")
    if final.best:
        b = final.best
        out.write(f"Best: trial {trial_label(b['trial'])} {metric}={_fmt(b['value'])} {_params_text(b['params'])}"
                  + (f" (run {b['run_id']})" if b.get("run_id") is not None else "") + "\n")
    out.flush()


def _bad(args: argparse.Namespace, message: str) -> int:
    if getattr(args, "json", False):
        emit_json({"status": "invalid", "message": message}, sys.stdout)
    err(message)
    return EXIT_BAD_INPUT


def _store_path(args: argparse.Namespace) -> str:
    from workbench.core.runs import default_store_path

    return str(Path(args.store).expanduser().resolve() if args.store else default_store_path())


def _cmd_sweep(args: argparse.Namespace) -> int:
    from workbench.core.spec import SpecError, load_spec
    from workbench.core.sweep import (
        SweepControl,
        SweepError,
        continue_sweep,
        default_storage,
        run_sweep,
    )
    from workbench.core.sweep import SpaceError, load_space, parse_space

    control = SweepControl()
    if args.trials is not None and args.trials < 1:
        return _bad(args, f"--trials must be a whole number ≥ 1 (got {args.trials}); "
                          "for a grid, leave it out to run every point")
    if args.parallel is not None and args.parallel < 1:
        return _bad(args, f"--parallel must be a whole number ≥ 1 (got {args.parallel}): the number of "
                          "worker processes that train trials at once")
    if args.repeats < 1:
        return _bad(args, f"--repeats must be a whole number ≥ 1 (got {args.repeats})")
    store = _store_path(args)
    try:
        if args.spec is None:
            if not (args.storage and args.study):
                return _bad(args, "give SPEC.json and --space SPACE.json for a new sweep, or --storage URL "
                                  "--study NAME to continue a stored one")
            events = continue_sweep(args.storage, args.study, n_trials=args.trials or 20, parallel=args.parallel,
                                    store_path=store, control=control, train_target=args.train_target)
        else:
            if not args.space:
                return _bad(args, "--space SPACE.json is required for a new sweep (it maps spec paths to "
                                  'distributions, e.g. {"optimizer.lr": {"log_uniform": [0.001, 0.1]}})')
            spec = load_spec(args.spec)
            space = parse_space(load_space(args.space), spec, source=args.space)  # errors name the file
            storage = args.storage or default_storage(store)
            trials = args.trials if args.trials is not None else (0 if args.strategy == "grid" else 20)
            events = run_sweep(spec, space, strategy=args.strategy, n_trials=trials, parallel=args.parallel,
                               pruner=args.pruner, repeats=args.repeats, metric=args.metric,
                               direction=args.direction, seed=args.seed, store_path=store, storage=storage,
                               study_name=args.study, base_dir=str(Path(args.spec).resolve().parent),
                               control=control, train_target=args.train_target)
    except (SpecError, SpaceError, SweepError) as exc:
        return _bad(args, str(exc))
    return _consume(events, args, control)


def _cmd_worker(args: argparse.Namespace) -> int:
    from workbench.core.spec import SpecError
    from workbench.core.sweep import SweepControl, SweepError, join_sweep
    from workbench.core.sweep import SpaceError

    control = SweepControl()
    if args.parallel is not None and args.parallel < 1:
        return _bad(args, f"--parallel must be a whole number ≥ 1 (got {args.parallel})")
    try:
        events = join_sweep(args.storage, args.study, parallel=args.parallel, store_path=_store_path(args),
                            control=control, base_dir=args.base_dir, train_target=args.train_target)
    except (SpecError, SpaceError, SweepError) as exc:
        return _bad(args, str(exc))
    return _consume(events, args, control)


def register(sub: argparse._SubParsersAction) -> None:
    from workbench.core.execution import DEFAULT_TRAIN, default_parallel
    from workbench.core.sweep import PRUNERS, STRATEGIES

    p = sub.add_parser(
        "sweep", help="tune hyperparameters: run many trials of a spec over a search space",
        description="Run trials of SPEC.json with values from SPACE.json in parallel worker processes; "
                    "each trial is recorded in the run store, the sweep in an Optuna study. Without SPEC, "
                    "continue the study given by --storage/--study.",
        epilog='SPACE.json example: {"optimizer.lr": {"log_uniform": [0.001, 0.1]}, "train.batch_size": '
               '{"choices": [16, 64]}, "model.layers.0.out_features": {"int": [8, 64]}, '
               '"model.layers.2.p": {"uniform": [0.0, 0.5], "grid": 3}}',
    )
    p.add_argument("spec", nargs="?", help="experiment spec (JSON); omit to continue --study")
    p.add_argument("--space", help="search space (JSON): dotted spec path -> distribution")
    p.add_argument("--trials", type=int, default=None,
                   help="number of trials (default 20; grid: the whole grid, or at most this many points)")
    p.add_argument("--parallel", type=int, default=default_parallel(),
                   help=f"worker processes (default cores - 1 = {default_parallel()})")
    p.add_argument("--strategy", choices=STRATEGIES, default="tpe", help="default tpe (Bayesian, Optuna)")
    p.add_argument("--pruner", choices=PRUNERS, default="none",
                   help="stop poor trials early from their per-epoch metric (default none)")
    p.add_argument("--repeats", type=int, default=1, help="runs per point with seeds seed..seed+R-1; value = mean")
    p.add_argument("--metric", default="val_loss", help="metric to optimize (default val_loss; e.g. val_accuracy)")
    p.add_argument("--direction", choices=("auto", "minimize", "maximize"), default="auto",
                   help="auto: maximize accuracy/r2/f1/precision/recall, minimize anything else")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (random/tpe)")
    p.add_argument("--store", help="run store (SQLite); default $WORKBENCH_STORE or the user data folder")
    p.add_argument("--storage", help="Optuna storage URL (default: sqlite sweeps.db next to the run store); "
                                     "postgresql://user:pass@host/db lets other machines join")
    p.add_argument("--study", help="study name (default sweep-DATE-TIME)")
    p.add_argument("--json", action="store_true", help="one JSON object per finished trial, then a final one")
    p.add_argument("--train-target", default=DEFAULT_TRAIN, help=argparse.SUPPRESS)  # tests: a scripted trainer
    p.set_defaults(func=_cmd_sweep)

    w = sub.add_parser(
        "sweep-worker", help="join a sweep stored in an RDB storage and run its trials here",
        description="Take trials from a sweep started with `workbench sweep --storage URL --study NAME` (the "
                    "study holds the spec and the space) until it has all its trials.",
    )
    w.add_argument("--storage", required=True, help="the sweep's Optuna storage URL")
    w.add_argument("--study", required=True, help="the sweep's study name")
    w.add_argument("--store", help="run store for this machine's runs (default as for `sweep`)")
    w.add_argument("--parallel", type=int, default=default_parallel(), help="worker processes here (default cores - 1)")
    w.add_argument("--base-dir", help="folder that relative data paths in the spec are resolved against")
    w.add_argument("--json", action="store_true", help="one JSON object per finished trial, then a final one")
    w.add_argument("--train-target", default=DEFAULT_TRAIN, help=argparse.SUPPRESS)
    w.set_defaults(func=_cmd_worker)
