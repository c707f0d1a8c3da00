"""`workbench runs [list|show ID]`: the table of recorded runs and one run in detail (status,
data report, model, final metrics, files, spec), as text or JSON."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from workbench.core.catalog import baseline_note
from workbench.cli.common import (
    EXIT_OK,
    emit_json,
    fmt_duration,
    fmt_num,
    json_safe,
    open_store,
    print_final_metrics,
    resolve_run,
    run_id_argument,
)


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
                     _short_dataset(r.dataset), str(r.epochs), best, test, fmt_duration(r.duration)))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    right = {0, 5}  # numbers align right
    def fmt(row):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
    return "\n".join([fmt(header), fmt(tuple("-" * w for w in widths)), *map(fmt, rows)])


def _cmd_runs_list(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    with store:
        records = store.list_runs(limit=args.limit, status=args.status)
        if args.json:
            for r in records:
                emit_json(json_safe(r.to_dict()))
            return EXIT_OK
        if not records:
            print(f"No runs recorded in {store.path} yet. Train one with `workbench train SPEC.json`.")
            return EXIT_OK
        print(runs_table(records))
    return EXIT_OK


def _cmd_runs_show(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    with store:
        rec = store.get_run(resolve_run(store, args.id))
        epochs = store.epochs(rec.id)
        artifacts = store.artifacts(rec.id)
        data_event = next((e["data"] for e in store.events(rec.id, kinds=("data",))), None)
        alerts = [{"epoch": e["epoch"], "step": e["step"], **e["data"]} for e in store.events(rec.id, kinds=("alert",))]
    if args.json:
        d = json_safe(rec.to_dict())
        d["spec"] = json.loads(rec.spec_json)
        d["epoch_logs"] = [json_safe(e) for e in epochs]
        d["artifacts"] = artifacts
        d["warnings"] = [note for note in (baseline_note(rec.metrics),) if note]
        d["alerts"] = alerts
        if data_event is not None:
            d["data_source"] = data_event.get("source")
            d["data_notes"] = list(data_event.get("notes") or [])
        emit_json(d)
        return EXIT_OK
    lines = [
        f"Run {rec.id}: {rec.name}",
        f"  status    {rec.status}" + (f" ({rec.message})" if rec.message else ""),
        f"  created   {rec.created_at.strftime('%Y-%m-%d %H:%M:%S')} on {rec.host or '?'}",
        f"  data      {rec.dataset}" + (f" ({rec.task})" if rec.task else ""),
        *_data_lines(rec.dataset, data_event),
        f"  model     {rec.model_summary or '-'}"
        + (f" ({rec.total_params:,} parameters)" if rec.total_params else ""),
        f"  optimizer {rec.optimizer} lr {fmt_num(rec.lr)}   device {rec.device or '-'}",
        f"  epochs    {rec.epochs}   duration {fmt_duration(rec.duration)}",
    ]
    if rec.best_val is not None:
        lines.append(f"  best      {rec.best_val_metric} {fmt_num(rec.best_val)} at epoch {rec.best_epoch}")
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
    for alert in alerts:  # the health monitor's, in the order they happened
        lines.append(f"  alert     epoch {alert['epoch']}, step {alert['step']}: {alert.get('message', '')}")
    print("\n".join(lines))
    if rec.metrics:
        print("Final metrics:")
        print_final_metrics(rec.metrics, sys.stdout)
        note = baseline_note(rec.metrics)
        if note:
            print(f"  warning: {note}")
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


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", parents=[_runs_options(top=True), _list_options(top=True)],
                       help="list recorded runs (`runs show ID` for one)",
                       description="List the recorded runs, newest first, or show one with `runs show ID`.")
    p.set_defaults(func=_cmd_runs_list)
    rsub = p.add_subparsers(dest="runs_command", metavar="{list,show}")
    pl = rsub.add_parser("list", parents=[_runs_options(top=False), _list_options(top=False)],
                         help="list runs (the default)")
    pl.set_defaults(func=_cmd_runs_list)
    ps = rsub.add_parser("show", parents=[_runs_options(top=False)], help="one run: spec, final metrics, files")
    ps.add_argument("id", metavar="RUN", type=run_id_argument, help="run id (see `workbench runs`), or 'latest'")
    ps.set_defaults(func=_cmd_runs_show)
