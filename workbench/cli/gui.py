"""`workbench` (no command) and `workbench gui [SPEC]`: open the app, or say how to train
headless when there is no display."""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from pathlib import Path
from typing import Sequence

from workbench.cli.common import EXIT_BAD_INPUT, err

NO_DISPLAY_MESSAGE = (
    "No display found. Run `workbench train spiral` (or any preset that `workbench presets` lists) "
    "for a headless run, or start under Xvfb / set QT_QPA_PLATFORM=offscreen."
)


def _has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True  # Windows and macOS always have a window system
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def open_app(argv: Sequence[str] = ()) -> int:
    if not _has_display():
        err(NO_DISPLAY_MESSAGE)
        return EXIT_BAD_INPUT
    try:
        from workbench.gui import app
    except ImportError as exc:
        err(f"The Workbench app cannot start: {exc}.\n"
             "Check the installation (`pip install -e .`), or train headless with `workbench train SPEC.json`.")
        return EXIT_BAD_INPUT
    main_fn = getattr(app, "main", None)
    if main_fn is None:
        err("The Workbench app cannot start: workbench.gui.app has no main(). "
             "Train headless with `workbench train SPEC.json`.")
        return EXIT_BAD_INPUT
    try:
        takes_args = bool(inspect.signature(main_fn).parameters)
    except (TypeError, ValueError):
        takes_args = False
    rc = main_fn(list(argv)) if takes_args else main_fn()
    return int(rc or 0)


def _cmd_gui(args: argparse.Namespace) -> int:
    if args.store:  # the app (and every run it starts) reads the run store from the environment
        from workbench.core.locations import STORE_ENV

        os.environ[STORE_ENV] = str(Path(args.store).expanduser().resolve())
    return open_app([args.spec] if args.spec else [])


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the app (the same as running `workbench` alone)",
                       description="Open the Workbench app, optionally with a spec file.")
    p.add_argument("spec", nargs="?", help="an experiment spec (.json) to open")
    p.add_argument("--store", metavar="DB", help="run store file the app records runs in and shows (default: "
                   "$WORKBENCH_STORE or the user data folder)")
    p.set_defaults(func=_cmd_gui)
