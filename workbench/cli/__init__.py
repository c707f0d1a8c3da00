"""The `workbench` command: no arguments opens the app; each subcommand has its own module."""

from workbench.cli.main import main

__all__ = ["main"]
