"""`workbench data FILE`: what Workbench makes of a file or folder (rows, columns and their kinds,
task, classes and balance, missing values, the loader's notes), with the same loading the app
and training use (and the same prepared-data cache)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from workbench.cli.common import EXIT_INTERRUPTED, EXIT_OK, UsageError, emit_json, err, fmt_duration, fmt_num


class _ProgressLine:
    """Rows/s on one updating stderr line while a big file loads (only on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.shown = False

    def __call__(self, p) -> None:
        if self.enabled and p.elapsed > 0.5:
            sys.stderr.write(f"\rLoading: {p.text()}\033[K")
            sys.stderr.flush()
            self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def describe(ds, seconds: float) -> dict[str, Any]:
    """The facts `workbench data` prints, as one JSON-friendly dict."""
    meta = ds.meta
    out: dict[str, Any] = {
        "source": meta.source, "kind": meta.kind, "task": meta.task, "rows": meta.n_samples,
        "features": int(np.prod(meta.input_shape)) if meta.kind == "tabular" else None,
        "input_shape": list(meta.input_shape), "target": meta.target_name,
        "columns": [dataclasses.asdict(c) for c in meta.columns],
        "missing_cells": sum(c.missing for c in meta.columns),
        "notes": list(meta.notes), "seconds": round(seconds, 3), "cache": ds.cache_path or None,
        "cache_hit": ds.cache_hit,
    }
    if meta.task == "classification":
        total = max(1, sum(meta.class_counts))
        out["classes"] = [{"name": n, "count": c, "fraction": c / total} for n, c in zip(meta.class_names, meta.class_counts)]
    else:
        y = np.asarray(ds.y, dtype=np.float64).reshape(len(ds.y), -1)
        out["target_stats"] = [{"min": float(col.min()), "mean": float(col.mean()), "std": float(col.std()),
                                "max": float(col.max())} for col in y.T] if len(y) else []
    return out


def _column_line(c: dict[str, Any], width: int) -> str:
    if c["role"] == "left out":
        what = c["why"]
    elif c["kind"] == "text":
        shown = ", ".join(c["levels"][:6]) + (", ..." if len(c["levels"]) > 6 else "")
        what = f"{c['distinct']} values" + (f": {shown}" if shown else "")
    else:
        what = ""
    missing = f"missing {c['missing']:,}" if c["missing"] else ""
    return f"  {c['name']:<{width}}  {c['kind']:<7}  {c['role']:<8}  {missing:<16} {what}".rstrip()


def _grouped(columns: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Runs of plain numeric features (no missing cells) together; every other column alone."""
    groups: list[list[dict[str, Any]]] = []
    for c in columns:
        plain = c["kind"] == "numeric" and c["role"] == "feature" and not c["missing"]
        if plain and groups and groups[-1][0].get("_plain"):
            groups[-1].append(c)
        else:
            groups.append([{**c, "_plain": plain}] if plain else [c])
    return groups


def print_report(info: dict[str, Any], out=None) -> None:
    out = out or sys.stdout
    rows = info["rows"]
    if info["kind"] == "tabular":
        shape = f"{len(info['columns']) or '?'} columns -> {info['features']} features"
    else:
        shape = "images " + "x".join(str(s) for s in info["input_shape"])
    cached = " (from the prepared-data cache)" if info["cache_hit"] else ""
    out.write(f"{info['source']}: {rows:,} rows, {shape}; read in {fmt_duration(info['seconds'])}{cached}\n")
    if info["task"] == "classification":
        out.write(f"task: classification of '{info['target']}' ({len(info['classes'])} classes)\n")
        parts = [f"{c['name']} {c['count']:,} ({100 * c['fraction']:.1f} %)" for c in info["classes"][:12]]
        more = f", ... ({len(info['classes']) - 12} more)" if len(info["classes"]) > 12 else ""
        out.write(f"classes: {', '.join(parts)}{more}\n")
    else:
        out.write(f"task: regression of '{info['target']}'\n")
        for s in info["target_stats"]:
            out.write(f"target: min {fmt_num(s['min'])}, mean {fmt_num(s['mean'])}, std {fmt_num(s['std'])}, "
                      f"max {fmt_num(s['max'])}\n")
    if info["columns"]:
        out.write(f"columns ({info['missing_cells']:,} missing cells):\n")
        width = min(24, max(len(c["name"]) for c in info["columns"]))
        for group in _grouped(info["columns"]):
            if len(group) >= 4:  # a run of plain numeric features: one line
                out.write(f"  {group[0]['name']} ... {group[-1]['name']}: {len(group)} numeric features, none missing\n")
            else:
                for c in group:
                    out.write(_column_line(c, width) + "\n")
    if info["notes"]:
        out.write("notes:\n")
        for note in info["notes"]:
            out.write(f"  {note}\n")
    out.flush()


def _cmd_data(args: argparse.Namespace) -> int:
    from workbench.core.data import DataError, LoadCancelled, load_dataset
    from workbench.core.spec import DataSpec

    source = args.file if args.file.startswith("sample:") else str(Path(args.file).expanduser().resolve())
    fields: dict[str, Any] = {"source": source, "target": args.target, "missing": args.missing, "task": args.task}
    if args.image_size is not None:
        fields["image_size"] = args.image_size
    try:
        data = DataSpec(**{k: v for k, v in fields.items() if v is not None})
    except ValueError as exc:
        raise UsageError(f"Invalid option: {exc}") from None
    line = _ProgressLine(enabled=not args.json)
    t0 = time.perf_counter()
    try:
        ds = load_dataset(data, on_progress=line)
    except DataError as exc:
        line.done()
        raise UsageError(str(exc)) from None
    except (KeyboardInterrupt, LoadCancelled):
        line.done()
        err("Interrupted.")
        return EXIT_INTERRUPTED
    line.done()
    info = describe(ds, time.perf_counter() - t0)
    if args.json:
        emit_json(info)
    else:
        print_report(info)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data", help="what Workbench makes of a data file or folder",
        description="Load FILE (a CSV/TSV table, .npy/.npz arrays, an image folder or sample:NAME) the way "
                    "the app and `workbench train` do, and tell what came out: rows, columns and their kinds, "
                    "the task, classes and their balance, missing values and the loader's notes. Exit codes: "
                    "0 loaded, 2 the data cannot be used (the message says why), 130 interrupted.")
    p.add_argument("file", metavar="FILE", help="a data file or folder, or sample:NAME")
    p.add_argument("--target", metavar="COL", help="target column of a table (default: the last)")
    p.add_argument("--task", choices=("auto", "classification", "regression"), help="what the target is (default auto)")
    p.add_argument("--missing", choices=("error", "drop", "impute"),
                   help="rows with missing values: an error (default), drop them, or fill in column medians / "
                        "most frequent values")
    p.add_argument("--image-size", type=int, metavar="PX", help="image folders: resize to PX x PX (default 28)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_data)
