"""`workbench check SPEC`: the pre-flight check, seconds on the real model and data before a long
run. Each item passes, warns or fails, in plain words with the fix. Exit 0 when nothing failed,
1 when a check failed, 2 for bad input. `--json` prints one JSON list of objects with exactly
`check`, `status` (pass, warn or fail) and `message`; `--details` adds `title`, `seconds` and the
check's numbers (`details`)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from workbench.cli.common import EXIT_FAILED, EXIT_OK, fmt_duration, json_default, json_safe, plural
from workbench.cli.diagnose_common import add_spec_arguments, load_spec_and_data

MARKS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}


def _cmd_check(args: argparse.Namespace) -> int:
    from workbench.core.diagnostics import preflight, worst_status
    from workbench.core.spec import experiment_name

    spec, base_dir, prepared = load_spec_and_data(args)
    out = sys.stdout
    if not args.json:
        name = experiment_name(spec, prepared.meta)
        out.write(f"Pre-flight check of {name} ({prepared.meta.source}: {len(prepared.train)} train / "
                  f"{len(prepared.val)} val / {len(prepared.test)} test rows)\n")
        out.flush()
    t0 = time.perf_counter()
    results = []
    for result in preflight(spec, data=prepared, base_dir=base_dir):
        results.append(result)
        if not args.json:
            out.write(f"  {MARKS[result.status]}  {result.title} ({result.seconds:.2f} s): {result.message}\n")
            out.flush()
    if args.json:
        keys = ("check", "status", "message") + (("title", "seconds", "details") if args.details else ())
        rows = [{k: d[k] for k in keys} for d in (r.to_dict() for r in results)]
        for row in rows:
            if "details" in row:
                row["details"] = {k: v for k, v in row["details"].items() if k != "traceback"}
        out.write(json.dumps(json_safe(rows), allow_nan=False, default=json_default) + "\n")
    else:
        counts = {s: sum(r.status == s for r in results) for s in MARKS}
        out.write(f"{plural(len(results), 'check')}: {counts['pass']} passed, {plural(counts['warn'], 'warning')}, "
                  f"{counts['fail']} failed in {fmt_duration(time.perf_counter() - t0)}\n")
    out.flush()
    return EXIT_FAILED if worst_status(results) == "fail" else EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add `workbench check` to the command parser."""
    p = sub.add_parser(
        "check", help="pre-flight check: seconds on the real model and data before a long run",
        description="Checks the data (rows shared between train and validation/test, a feature that alone "
                    "predicts the target, constant columns, class balance and the majority-class baseline) and "
                    "the model (initial loss, gradients reach every layer, it can overfit one small batch, the "
                    "inputs matter). Exit codes: 0 nothing failed, 1 a check failed, 2 bad input.",
    )
    add_spec_arguments(p)
    p.add_argument("--details", action="store_true",
                   help="with --json: also each check's title, seconds and numbers (details)")
    p.set_defaults(func=_cmd_check)
