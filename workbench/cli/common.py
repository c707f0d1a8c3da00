"""What the `workbench` subcommands share: exit codes, UsageError (bad input, exit 2), JSON and
number/duration formatting, the final-metrics block, and opening the run store."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, TextIO

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad input found before any work started: printed as is, exit code 2."""


# ---- small output helpers --------------------------------------------------------------------
def err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def emit_json(obj: dict[str, Any], out: TextIO | None = None) -> None:
    """One JSON object on one line (NaN and inf become null)."""
    out = out or sys.stdout
    out.write(json.dumps(json_safe(obj), allow_nan=False, default=json_default) + "\n")
    out.flush()


def json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON-serializable: {type(o).__name__}")


def json_safe(v: Any) -> Any:
    """NaN/inf are not JSON: they become null (in nested dicts and lists too)."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    return v


def fmt_num(v: float | None, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e6):
        return str(int(v))
    return f"{v:.{digits}g}" if abs(v) >= 1e-3 else f"{v:.2e}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(round(seconds)), 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


def open_store(path: str | None, must_exist: bool = False):
    """The run store at `path` (or the default one). With must_exist, a path that is not there is
    a UsageError (opening it would create an empty store and hide the typo)."""
    from workbench.core.runs import RunStore, StoreError

    if must_exist and path and not Path(path).expanduser().exists():
        raise UsageError(f"--store {path}: no such run store; give the file your runs were recorded in, or leave "
                         "--store out for the default one")
    try:
        return RunStore(path) if path else RunStore()
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def json_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Final metrics with explicit prefixes: loss -> train_loss, accuracy -> train_accuracy;
    val_* and test_* stay; lr and best_epoch stay as they are."""
    out: dict[str, Any] = {}
    for k, v in metrics.items():
        if k.startswith(("val_", "test_", "train_")) or k in ("lr", "best_epoch", "epoch"):
            out[k] = v
        else:
            out[f"train_{k}"] = v
    return json_safe(out)


def print_final_metrics(metrics: dict[str, float], out: TextIO) -> None:
    m = json_metrics(metrics)
    for split in ("train", "val", "test"):
        items = [(k[len(split) + 1:], v) for k, v in m.items() if k.startswith(split + "_")]
        if items:
            body = "  ".join(f"{k} {fmt_num(v)}" for k, v in items)
            out.write(f"  {split:<5} {body}\n")
    out.flush()


# ---- commands that read one recorded run ------------------------------------------------------
def run_reference(text: str) -> int | str | None:
    """'12' or '#12' -> 12, 'latest' or 'last' -> "latest" (the newest run); None when `text` is
    not a run reference. The one reading of a run on the command line (RUN arguments, --init-from)."""
    text = text.strip()
    if text.lower() in ("latest", "last"):
        return "latest"
    digits = text[1:] if text.startswith("#") else text
    return int(digits) if digits.isdigit() else None


def run_id_argument(text: str) -> int | str:
    """argparse type for RUN: a run id, or "latest" (the newest run)."""
    run = run_reference(text)
    if run is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a run id (a number from `workbench runs`, or 'latest')")
    return run


def resolve_run(store, run: int | str) -> int:
    """The id of an existing run ("latest": the newest); UsageError when there is none."""
    if run == "latest":
        runs = store.list_runs(limit=1)
        if not runs:
            raise UsageError(f"No runs recorded in {store.path} yet. Train one with `workbench train SPEC.json`.")
        return runs[0].id
    try:
        store.get_run(int(run))
    except KeyError:
        raise UsageError(f"No run {run} in {store.path}; `workbench runs` lists them.") from None
    return int(run)


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """RUN (an id or 'latest') and --store, for commands that read one recorded run."""
    p.add_argument("run", metavar="RUN", type=run_id_argument, help="run id (see `workbench runs`), or 'latest'")
    p.add_argument("--store", metavar="DB", help="run store file (default: $WORKBENCH_STORE or the user data folder)")
