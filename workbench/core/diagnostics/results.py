"""CheckResult: one item of the pre-flight check (pass / warn / fail, in plain words, with the fix)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["CheckResult", "Status", "STATUSES", "worst_status", "Cancelled"]

Status = Literal["pass", "warn", "fail"]
STATUSES: tuple[Status, ...] = ("pass", "warn", "fail")


class Cancelled(Exception):
    """A long diagnostic (the race, a model slice's loss grid) was stopped by its progress callback."""


@dataclass(frozen=True)
class CheckResult:
    """check: a short id ("initial_loss"); title: for people ("Initial loss"); message: what was
    found and, unless it passed, what to do; details: the numbers behind it (JSON-safe)."""

    check: str
    title: str
    status: Status
    message: str
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Every field, for JSON."""
        return asdict(self)


def worst_status(results: list[CheckResult]) -> Status:
    """fail if any failed, else warn if any warned, else pass."""
    return max((r.status for r in results), key=STATUSES.index, default="pass")
