"""The `workbench` command: no arguments opens the app; subcommands run the engine headless.

    workbench                          open the app
    workbench train SPEC.json [...]    train one experiment, record it in the run store
    workbench presets                  the built-in experiments (`workbench train spiral`)
    workbench runs [list|show ID]      the recorded runs
    workbench sweep SPEC --space ...   a hyperparameter sweep (sweep-worker joins one)
    workbench export RUN --format ...  a run's model as ONNX/pt2/safetensors, or a training script
    workbench compress RUN --method .. int8 / fp16 / pruned variants and a before/after table
    workbench evaluate RUN [...]       confusion matrix, per-class metrics, AUCs of a recorded run
    workbench predict RUN --data F     a recorded run's model on new rows or images
    workbench check SPEC               pre-flight check of data and model (seconds)
    workbench lr-find SPEC             learning-rate range test: suggests optimizer.lr

Each command lives in its own module of this package, which registers its subparser with
`register(subparsers)` (see COMMANDS). Every handler returns the exit code:

    0 finished (or stopped early by early stopping)   1 failed during training
    2 bad input (spec, data, model, device, store)   130 interrupted (Ctrl+C)

Heavy modules (torch, the GUI) are imported inside the handlers so `workbench runs` and
`workbench --help` start quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from workbench import __version__
from workbench.cli import check, compress, data, evaluate, export, gui, lr_find, predict, presets, runs, sweep, train
from workbench.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    emit_json,
    err,
)

COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    train.register,
    data.register,
    presets.register,
    runs.register,
    sweep.register,
    export.register,
    compress.register,
    evaluate.register,
    predict.register,
    check.register,
    lr_find.register,
    gui.register,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Train PyTorch models by pointing and clicking. Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def _subparser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser | None:
    """The innermost subcommand parser named in `args` (train, runs show, ...), if any."""
    found = None
    current = parser
    for dest in ("command", "runs_command"):
        name = getattr(args, dest, None)
        if not name:
            break
        action = next((a for a in current._actions if isinstance(a, argparse._SubParsersAction)), None)
        if action is None or name not in action.choices:
            break
        current = found = action.choices[name]
    return found


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return gui.open_app()
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        # argparse reports these from the top-level parser, with its usage; show the usage of
        # the command that was given (`workbench train: error: unrecognized arguments: ...`)
        sub = _subparser(parser, args)
        (sub or parser).error(f"unrecognized arguments: {' '.join(extras)}")
    if getattr(args, "limit", None) == 0:
        args.limit = None
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(func(args) or 0)
    except UsageError as exc:
        if getattr(args, "json", False):
            emit_json({"status": "invalid", "message": str(exc)})
        err(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err("Interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `workbench runs | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
