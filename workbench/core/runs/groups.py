"""Seed groups: one spec run with K seeds, the runs tagged "group:<name>" so they are shown and
compared together (statistics in repeats.py)."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Iterable

from workbench.core.runs.errors import ExperimentError
from workbench.core.spec import experiment_name

if TYPE_CHECKING:
    from workbench.core.runs.record import RunRecord
    from workbench.core.spec import ExperimentSpec

__all__ = ["GROUP_PREFIX", "group_tag", "repeat_specs", "group_of", "group_runs"]

GROUP_PREFIX = "group:"  # a tag "group:<name>" marks the runs of one seed group


def group_tag(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-")[:24] or "runs"
    return f"{GROUP_PREFIX}{slug}-{uuid.uuid4().hex[:4]}"


def repeat_specs(spec: "ExperimentSpec", k: int, group: str | None = None, name: str | None = None
                 ) -> tuple[list["ExperimentSpec"], str]:
    """K copies of `spec` with train.seed = seed, seed+1, ... seed+K-1, named "<name> · seed N"
    (`name`: the experiment's name as the runs show it; default experiment_name(spec)), and the
    group tag they share."""
    if k < 1:
        raise ExperimentError("Run at least one seed (K ≥ 1)")
    name = name or experiment_name(spec)
    tag = group or group_tag(name)
    seed = int(spec.train.seed)
    specs = [spec.with_values({"train.seed": seed + i, "name": f"{name} · seed {seed + i}"})
             for i in range(k)]
    return specs, tag


def group_of(record: "RunRecord") -> str | None:
    """The seed group of a run (its "group:" tag without the prefix), or None."""
    for tag in record.tags:
        if tag.startswith(GROUP_PREFIX):
            return tag[len(GROUP_PREFIX):]
    return None


def group_runs(records: Iterable["RunRecord"]) -> dict[str, list["RunRecord"]]:
    """Runs by seed group, in the order the groups are first met; runs without a group are left out."""
    groups: dict[str, list] = {}
    for r in records:
        g = group_of(r)
        if g is not None:
            groups.setdefault(g, []).append(r)
    return groups
