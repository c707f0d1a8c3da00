"""`workbench export RUN --format onnx|pt2|safetensors|script --out DIR`: take a recorded run's
model out of the app (raw inputs in; ONNX checked against PyTorch with onnxruntime on the run's
test split), or write a standalone training script that reproduces the run."""

from __future__ import annotations

import argparse
import sys

from workbench.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    add_run_arguments,
    emit_json,
    open_store,
    resolve_run,
)

FORMAT_HELP = {
    "onnx": "ONNX (dynamo exporter, dynamic batch) + model.json + predict.py, checked with onnxruntime",
    "pt2": "a torch.export program (torch.export.load(...).module())",
    "safetensors": "the weights, with the spec and preprocessing in the file's metadata",
    "script": "a standalone training script (plain PyTorch + NumPy) that reproduces the run",
}


def restore_for_cli(store, run: int | str, data: str | None):
    """The run (an id or "latest") with its weights and data (runs.restore_run), or UsageError
    with its message."""
    from workbench.core.runs import ExperimentError, restore_run

    try:
        return restore_run(store, resolve_run(store, run), data_source=data)
    except ExperimentError as exc:
        raise UsageError(str(exc)) from None


def _cmd_export(args: argparse.Namespace) -> int:
    from workbench.core.export import ExportError, export_model

    store = open_store(args.store, must_exist=True)
    with store:
        restored = restore_for_cli(store, args.run, args.data)
    try:
        result = export_model(restored, args.format, args.out)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    ok = result.parity is None or result.parity.matches
    if args.json:
        emit_json({"status": "exported" if ok else "mismatch", "run_id": restored.run_id, **result.to_dict()})
    else:
        out = sys.stdout
        out.write(f"Exported run {restored.run_id} ({restored.name}) as {args.format}:\n")
        for f in result.files:
            out.write(f"  {f}\n")
        for m in result.messages:
            out.write(f"{m}\n")
        if args.format == "onnx":
            predict = next((f for f in result.files if f.name == "predict.py"), None)
            if predict is not None:
                out.write(f"Predict with: python {predict} DATA.csv|IMAGE_FOLDER [--out predictions.csv]\n")
        out.flush()
    return EXIT_OK if ok else EXIT_FAILED


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a run's model (onnx, pt2, safetensors) or a training script",
        description="Export the final weights of a recorded run. The exported model takes raw inputs: the "
                    "standardisation fitted on the training split is inside it, and regression outputs are in "
                    "the target's own units. Formats: "
                    + "; ".join(f"{k}: {v}" for k, v in FORMAT_HELP.items())
                    + ". Exit codes: 0 done, 1 the ONNX file does not match PyTorch, 2 bad input.",
    )
    add_run_arguments(p)
    p.add_argument("--format", "-f", choices=list(FORMAT_HELP), default="onnx", help="what to write (default onnx)")
    p.add_argument("--out", "-o", metavar="DIR", required=True, help="folder to write into (created if needed)")
    p.add_argument("--data", metavar="PATH", help="the run's data file, if it moved since the run")
    p.add_argument("--json", action="store_true", help="print one JSON object with the files and checks")
    p.set_defaults(func=_cmd_export)
