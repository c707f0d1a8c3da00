"""`workbench evaluate RUN`: the confusion matrix, per-class table, AUCs and calibration (or the
regression errors) of a recorded run, on one of its splits (from the predictions stored with it,
nothing retrained) or on a new labelled file with the same columns (--data)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from workbench.cli.common import (
    EXIT_OK,
    UsageError,
    add_run_arguments,
    emit_json,
    err,
    open_store,
    resolve_run,
)

MAX_MATRIX_CLASSES = 20  # wider confusion matrices only in --json


def _f(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}"


def _table(header: list[str], rows: list[list[str]], out: TextIO, right_from: int = 1) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.rjust(w) if i >= right_from else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out.write(line(header) + "\n")
    out.writelines(line(r) + "\n" for r in rows)


def print_classification(report: dict[str, Any], out: TextIO) -> None:
    classes = report["classes"]
    parts = [f"accuracy {_f(report['accuracy'])}", f"ROC AUC {_f(report['roc_auc'])}",
             f"average precision {_f(report['average_precision'])}", f"ECE {_f(report['ece'])}"]
    for k, v in (report.get("top_k_accuracy") or {}).items():
        parts.append(f"top-{k} accuracy {_f(v)}")
    out.write("  ".join(parts) + "\n")
    if "threshold" in report:
        out.write(f"class '{classes[1]}' predicted when its probability >= {report['threshold']:g}\n")
    if len(classes) <= MAX_MATRIX_CLASSES:
        out.write("\nconfusion matrix (rows: true class, columns: predicted class)\n")
        cm = report["confusion_matrix"]
        _table(["", *classes], [[c, *[str(v) for v in row]] for c, row in zip(classes, cm)], out)
    else:
        out.write(f"\n({len(classes)} classes: the confusion matrix is in --json)\n")
    out.write("\n")
    rows = []
    for c in classes:
        m = report["per_class"][c]
        rows.append([c, _f(m["precision"]), _f(m["recall"]), _f(m["f1"]), str(m["support"]),
                     _f(report["roc_auc_per_class"].get(c)), _f(report["average_precision_per_class"].get(c))])
    total = sum(report["per_class"][c]["support"] for c in classes)
    for name in ("macro_avg", "weighted_avg"):
        avg = report[name]
        rows.append([name.replace("_avg", " avg"), _f(avg["precision"]), _f(avg["recall"]), _f(avg["f1"]), str(total),
                     _f(report["roc_auc"]) if name == "macro_avg" else "", ""])
    _table(["class", "precision", "recall", "f1", "support", "ROC AUC", "avg prec"], rows, out)


def print_regression(report: dict[str, Any], out: TextIO) -> None:
    from workbench.core.evaluation import format_value

    mape = report.get("mape")
    mape_text = f"{mape * 100:.2f} %" if mape is not None else "- (a target is zero)"
    units = f" (in units of {', '.join(report['targets'])})" if report.get("targets") else ""
    out.write(f"MAE {format_value(report['mae'])}  RMSE {format_value(report['rmse'])}  R² {_f(report['r2'])}  "
              f"MAPE {mape_text}{units}\n")
    worst = report.get("worst") or []
    if worst:
        out.write("\nlargest errors\n")
        rows = [[w["where"], format_value(w["actual"]), format_value(w["predicted"]), format_value(w["residual"])]
                for w in worst]
        _table(["where", "actual", "predicted", "residual"], rows, out)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from workbench.core.evaluation import EvaluationError, evaluate_run

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise UsageError("--threshold is a probability between 0 and 1")
    store = open_store(args.store)
    with store:
        run_id = resolve_run(store, args.run)
        try:
            result = evaluate_run(store, run_id, split=args.split, data=args.data, threshold=args.threshold)
        except EvaluationError as exc:
            raise UsageError(str(exc)) from None
        name = store.get_run(run_id).name
    report = result.report
    if args.json:
        emit_json({"run_id": run_id, "source": result.source, **report, "notes": result.notes})
        return EXIT_OK
    for note in result.notes:
        err(f"note: {note}")
    out = sys.stdout
    where = f"{args.data}" if args.data else f"its {report['split']} split"
    how = {"stored": "stored predictions", "recomputed": "recomputed from its weights"}.get(result.source, "its model")
    out.write(f"Run {run_id} ({name}) on {where}: {report['n']} rows, {how}\n")
    if report["task"] == "classification":
        print_classification(report, out)
    else:
        print_regression(report, out)
    out.flush()
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="confusion matrix, per-class metrics, AUCs (or regression errors) of a recorded run",
        description="Evaluate a recorded run on one of its splits, from the predictions stored with it (nothing "
                    "is retrained), or on a new labelled file with the same columns (--data). Exit codes: 0 done, "
                    "2 bad input (unknown run, missing file, column or class).",
    )
    add_run_arguments(p)
    p.add_argument("--split", choices=("test", "val", "train"), default="test", help="which split (default: test)")
    p.add_argument("--data", metavar="FILE", help="evaluate on this labelled file (a CSV with the run's columns and "
                   "target, an image folder with one subfolder per class, or an .npz with X and y)")
    p.add_argument("--threshold", metavar="P", type=float,
                   help="two classes only: predict the second class when its probability is >= P (default: argmax)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_evaluate)
