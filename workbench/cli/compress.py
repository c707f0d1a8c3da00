"""`workbench compress RUN --method int8|fp16|prune`: compressed variants of a run's model, each
an ONNX file measured beside the original (file size, non-zero parameters, CPU latency at batch
1 and 64 with onnxruntime, the test metric); `--out DIR` keeps them, ready to use."""

from __future__ import annotations

import argparse
import sys
import tempfile

from workbench.cli.common import EXIT_OK, UsageError, emit_json, err, open_store, run_id_argument
from workbench.cli.export import restore_for_cli


def _methods(values: list[str] | None) -> list[str]:
    from workbench.core.export import METHODS

    if not values:
        return list(METHODS)
    out = [m.strip() for v in values for m in v.split(",") if m.strip()]
    bad = [m for m in out if m not in METHODS]
    if bad:
        raise UsageError(f"--method {', '.join(bad)}: choose from {', '.join(METHODS)}")
    return list(dict.fromkeys(out))


def _print_table(report, out) -> None:
    from workbench.core.export import table_rows

    rows = table_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for k, row in enumerate(rows):
        out.write("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) + "\n")
        if k == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")
    out.write("\n")
    for v in report.variants:
        for note in v.notes:
            out.write(f"  {v.name}: {note}\n")
    for m in report.messages:
        out.write(f"  {m}\n")
    if report.curve:
        metric = "R²" if report.metric == "r2" else report.metric
        out.write(f"\nSparsity against {report.split} {metric} (global magnitude pruning, no fine-tuning):\n")
        out.write("  " + "  ".join(f"{s:>5.0%}" for s, _ in report.curve) + "\n")
        out.write("  " + "  ".join(f"{v:>5.3f}" for _, v in report.curve) + "\n")
    out.flush()


def _cmd_compress(args: argparse.Namespace) -> int:
    from workbench.core.export import ExportError
    from workbench.core.export import compress, save_variant

    methods = _methods(args.method)
    if not 0.0 < args.sparsity < 1.0:
        raise UsageError(f"--sparsity {args.sparsity:g}: give a fraction between 0 and 1 (0.5 = half the weights)")
    for flag, value in (("--finetune-epochs", args.finetune_epochs), ("--qat-epochs", args.qat_epochs)):
        if value < 0:
            raise UsageError(f"{flag} {value}: give a number of epochs, 0 or more")
    store = open_store(args.store, must_exist=True)
    with store:
        restored = restore_for_cli(store, args.run, args.data)
    progress = (lambda text: None) if args.json or args.quiet else (lambda text: err(f"  {text}..."))
    with tempfile.TemporaryDirectory(prefix="workbench-compress-") as tmp:
        try:
            report = compress(restored, methods, tmp, sparsity=args.sparsity, finetune_epochs=args.finetune_epochs,
                              qat_epochs=args.qat_epochs, curve=args.curve, progress=progress)
        except ExportError as exc:
            raise UsageError(str(exc)) from None
        if args.out:  # the original last, so that predict.py uses it by default
            for v in [*report.variants[1:], report.variants[0]]:
                v.path = save_variant(v, restored, args.out)[0]
    if args.json:
        for v in report.variants:
            emit_json({**v.to_dict(), "file": str(v.path) if args.out else None, "split": report.split})
        for s, value in report.curve:
            emit_json({"curve_sparsity": s, "test_metric": value, "metric": report.metric})
        return EXIT_OK
    out = sys.stdout
    out.write(f"Run {restored.run_id} ({restored.name}): CPU latency is the median of repeated onnxruntime runs on one "
              "thread.\n\n")
    _print_table(report, out)
    if args.out:
        out.write(f"\nSaved every variant in {args.out} (ONNX + JSON); predict.py there uses the original, "
                  "`--model FILE.onnx` picks another.\n")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compress", help="quantise (int8, fp16) or prune a run's model; a before/after table",
        description="Make compressed ONNX variants of a recorded run's model and measure each beside the "
                    "original: file size, non-zero parameters, CPU latency at batch 1 and 64 (onnxruntime, "
                    "median of 30 runs on one thread) and the test metric. int8: dynamic quantisation of "
                    "Linear/LSTM/GRU weights, or static with calibration on the training split for conv nets; "
                    "when it loses more than a point, a few epochs of quantisation-aware fine-tuning follow. "
                    "fp16: weights stored as float16. prune: global magnitude pruning (masks) and structured "
                    "pruning of whole neurons/channels.",
    )
    p.add_argument("run", metavar="RUN", type=run_id_argument, help="run id (`workbench runs` lists them), or 'latest'")
    p.add_argument("--method", "-m", action="append", metavar="M",
                   help="int8, fp16 or prune; repeat or separate with commas (default: all three)")
    p.add_argument("--sparsity", type=float, default=0.5, metavar="S",
                   help="fraction of weights (masks) or neurons/channels (structured) to remove (default 0.5)")
    p.add_argument("--finetune-epochs", type=int, default=0, metavar="N",
                   help="epochs of fine-tuning after pruning (default 0)")
    p.add_argument("--qat-epochs", type=int, default=3, metavar="N",
                   help="quantisation-aware fine-tuning epochs when int8 loses more than a point (0: never)")
    p.add_argument("--curve", action="store_true", help="also measure test metric against sparsity (0-95%%)")
    p.add_argument("--out", "-o", metavar="DIR", help="keep every variant here (ONNX + JSON + predict.py)")
    p.add_argument("--data", metavar="PATH", help="the run's data file, if it moved since the run")
    p.add_argument("--store", metavar="DB", help="run store file (default: $WORKBENCH_STORE or the user data folder)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per variant (the original first): variant, size_bytes, nonzero_params, "
                        "latency_ms_b1, latency_ms_b64, test_metric; with --curve, then one object per sparsity "
                        "point (curve_sparsity, test_metric)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    p.set_defaults(func=_cmd_compress)
