"""SpecError: a spec that cannot be used, with each problem as (dotted_path, message), e.g.
("train.epochs", "must be a whole number ≥ 1 (got 'x')"). The words come from messages.py."""

from __future__ import annotations

import json
from pathlib import Path


__all__ = ["SpecError", "CatalogProblems", "json_error_text"]


class SpecError(ValueError):
    """A spec that cannot be used. `problems` holds (dotted_path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None):
        self.problems = problems
        self.source = source
        head = f"Invalid experiment spec{f' in {source}' if source else ''}:"
        whole = Path(source).name if source else "(top level)"  # a problem with the file as a whole
        lines = [f"  {path or whole}: {msg}" for path, msg in problems]
        super().__init__("\n".join([head, *lines]))


def json_error_text(exc: json.JSONDecodeError) -> str:
    """'not valid JSON: ... at line L, column C' (json's own message for an unterminated string
    already ends in "starting at", which would read "starting at at line")."""
    msg = exc.msg.rstrip()
    where = f"line {exc.lineno}, column {exc.colno}"
    return f"not valid JSON: {msg} {where}" if msg.endswith(" at") else f"not valid JSON: {msg} at {where}"


class CatalogProblems(ValueError):
    """Carries (path, message) pairs through pydantic (it keeps the exception in the error's ctx)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{p}: {m}" for p, m in problems))
