"""The `workbench` command: no arguments opens the app; subcommands run the engine headless.

    workbench                          open the app
    workbench train SPEC.json [...]    train one experiment, record it in the run store
    workbench runs [list|show ID]      the recorded runs

Each subcommand is registered by one small function taking the subparsers object (see
COMMANDS). Other modules add commands the same way: a module listed in PLUGIN_MODULES that
defines `register(subparsers)` is picked up if it can be imported (sweeps live in
workbench/cli_sweep.py). Every handler returns the exit code:

    0 finished (or stopped early by early stopping)   1 failed during training
    2 bad input (spec, data, model, device, store)   130 interrupted (Ctrl+C)

Heavy modules (torch, the GUI) are imported inside the handlers so `workbench runs` and
`workbench --help` start quickly.

This module holds the entry point (main), the parser, the COMMANDS registry and the app
launcher; train lives in cli_train, runs in cli_runs and what they share in cli_common (their
names are re-exported here).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Callable, Sequence

from workbench import __version__
from workbench.cli_common import (  # noqa: F401
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    _emit_json,
    _err,
    _fmt_duration,
    _fmt_num,
    _json_default,
    _json_safe,
    _open_store,
    _plural,
    _print_final_metrics,
    json_metrics,
)
from workbench.cli_runs import (  # noqa: F401
    _cmd_runs_list,
    _cmd_runs_show,
    _data_lines,
    _fmt_metric,
    _list_options,
    _runs_options,
    _short_dataset,
    _short_metric,
    add_runs_command,
    runs_table,
)
from workbench.cli_train import (  # noqa: F401
    Progress,
    _cmd_train,
    _in_main_thread,
    _load_train_spec,
    _make_recorder,
    _prepare_checked,
    _run_training,
    add_train_command,
    data_report,
)

PLUGIN_MODULES = ("workbench.cli_sweep",)


def _spiral_preset() -> str:
    """Absolute path of the spiral preset: beside the package (a source checkout), else in an
    installed `resources` folder; the bare relative name when neither exists."""
    here = Path(__file__).resolve().parent
    for base in (here.parent, here, Path(sys.prefix) / "share" / "workbench"):
        candidate = base / "resources" / "presets" / "spiral.json"
        if candidate.is_file():
            return shlex.quote(str(candidate))
    return "resources/presets/spiral.json"


NO_DISPLAY_MESSAGE = (
    f"No display found. Run `workbench train {_spiral_preset()}` for a headless run, "
    "or start under Xvfb / set QT_QPA_PLATFORM=offscreen."
)


# ---- the app ---------------------------------------------------------------------------------
def _has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True  # Windows and macOS always have a window system
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def open_app(argv: Sequence[str] = ()) -> int:
    if not _has_display():
        _err(NO_DISPLAY_MESSAGE)
        return EXIT_BAD_INPUT
    try:
        from workbench.gui import app
    except ImportError as exc:
        _err(f"The Workbench app cannot start: {exc}.\n"
             "Check the installation (`pip install -e .`), or train headless with `workbench train SPEC.json`.")
        return EXIT_BAD_INPUT
    main_fn = getattr(app, "main", None)
    if main_fn is None:
        _err("The Workbench app cannot start: workbench.gui.app has no main(). "
             "Train headless with `workbench train SPEC.json`.")
        return EXIT_BAD_INPUT
    import inspect

    try:
        takes_args = bool(inspect.signature(main_fn).parameters)
    except (TypeError, ValueError):
        takes_args = False
    rc = main_fn(list(argv)) if takes_args else main_fn()
    return int(rc or 0)


def _cmd_gui(args: argparse.Namespace) -> int:
    return open_app([args.spec] if args.spec else [])


def add_gui_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the app (the same as running `workbench` alone)",
                       description="Open the Workbench app, optionally with a spec file.")
    p.add_argument("spec", nargs="?", help="an experiment spec (.json) to open")
    p.set_defaults(func=_cmd_gui)


# ---- assembly --------------------------------------------------------------------------------
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_train_command,
    add_runs_command,
    add_gui_command,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Train PyTorch models by pointing and clicking. Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    import importlib

    for name in PLUGIN_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the plugin exists but something it needs is missing
                raise
            continue
        module.register(sub)
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
        return open_app()
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
            _emit_json({"status": "invalid", "message": str(exc)})
        _err(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _err("Interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `workbench runs | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
