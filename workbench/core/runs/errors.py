"""The run store's errors: each message says which file or run and what to do."""

from __future__ import annotations

__all__ = ["StoreError", "ExperimentError"]


class StoreError(RuntimeError):
    """The run store cannot be opened or used; the message says which file and why."""


class ExperimentError(ValueError):
    """A branch/resume/repeat that cannot be made; the message says why and what to do."""
