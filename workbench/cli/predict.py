"""`workbench predict RUN --data FILE --out predictions.csv`: the run's model on new rows or
images, through exactly the preprocessing the run used; one output row per input row."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli.common import EXIT_OK, UsageError, add_run_arguments, emit_json, err, open_store, resolve_run


def _cmd_predict(args: argparse.Namespace) -> int:
    from workbench.core.evaluation import EvaluationError, predict_file, write_csv

    store = open_store(args.store)
    with store:
        run_id = resolve_run(store, args.run)
        try:
            table = predict_file(store, run_id, args.data)
        except EvaluationError as exc:
            raise UsageError(str(exc)) from None
    for note in table.notes:
        err(f"note: {note}")
    try:
        path = write_csv(table, args.out)
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}; choose another --out") from None
    if args.json:
        emit_json({"run_id": run_id, "rows": len(table.rows), "out": str(path), "columns": table.columns,
                   "notes": table.notes})
    else:
        print(f"Wrote {len(table.rows)} predictions of run {run_id} to {path}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict", help="predict new rows or images with a recorded run's model",
        description="Run a recorded run's model on new data through the run's own preprocessing (standardisation "
                    "fitted on its train split, one-hot categories, image size and colour mode). Writes one row per "
                    "input row: an id, `prediction` (the class name, or the value in the target's units) and "
                    "`p_<class>` per class. Exit codes: 0 done, 2 bad input.",
    )
    add_run_arguments(p)
    p.add_argument("--data", metavar="FILE", required=True,
                   help="new data: a CSV with the run's input columns, image file(s) or a folder, or .npy/.npz arrays")
    p.add_argument("--out", metavar="CSV", default="predictions.csv", type=Path,
                   help="output file (default: predictions.csv)")
    p.add_argument("--json", action="store_true", help="print one JSON object describing what was written")
    p.set_defaults(func=_cmd_predict)
