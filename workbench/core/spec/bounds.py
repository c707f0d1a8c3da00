"""The bounds the spec itself sets on a number field (pydantic `Field(ge=…, le=…)`), so forms
offer exactly the range the spec accepts: one source for field bounds."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass

from pydantic import BaseModel


@dataclass(frozen=True)
class FieldBounds:
    """low/high are None where the spec sets none; *_open: the bound itself is not allowed (gt/lt)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def int_range(self, low: int, high: int) -> tuple[int, int]:
        """The whole numbers allowed, with `low`/`high` where the spec sets no bound."""
        lo = low if self.low is None else int(self.low) + (1 if self.low_open else 0)
        hi = high if self.high is None else int(self.high) - (1 if self.high_open else 0)
        return lo, hi

    def float_range(self, low: float, high: float, step: float) -> tuple[float, float]:
        """The numbers allowed, an open bound moved in by `step`; `low`/`high` where the spec sets none."""
        lo = low if self.low is None else float(self.low) + (step if self.low_open else 0.0)
        hi = high if self.high is None else float(self.high) - (step if self.high_open else 0.0)
        return lo, hi


def field_bounds(path: str, root: type[BaseModel] | None = None) -> FieldBounds:
    """Bounds of the field at a dotted path of ExperimentSpec ("train.epochs", "schedule.warmup.epochs").

    Raises KeyError for a path that is not a field."""
    if root is None:
        from workbench.core.spec.model import ExperimentSpec

        root = ExperimentSpec
    model: type[BaseModel] = root
    parts = path.split(".")
    for i, name in enumerate(parts):
        field = model.model_fields.get(name)
        if field is None:
            raise KeyError(f"{path}: {model.__name__} has no field {name!r}")
        if i == len(parts) - 1:
            return _bounds(field.metadata)
        nested = _model_in(field.annotation)
        if nested is None:
            raise KeyError(f"{path}: {'.'.join(parts[:i + 1])} is not a group of fields")
        model = nested
    return FieldBounds()


def _model_in(annotation) -> type[BaseModel] | None:
    """The pydantic model in `X`, `X | None` or `Optional[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _bounds(metadata) -> FieldBounds:
    low = high = None
    low_open = high_open = False
    for item in metadata:
        if getattr(item, "ge", None) is not None:
            low, low_open = item.ge, False
        if getattr(item, "gt", None) is not None:
            low, low_open = item.gt, True
        if getattr(item, "le", None) is not None:
            high, high_open = item.le, False
        if getattr(item, "lt", None) is not None:
            high, high_open = item.lt, True
    return FieldBounds(low, high, low_open, high_open)
