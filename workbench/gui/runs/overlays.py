"""What the plots overlay for the selected runs, read from the store on a background thread:
each run's epochs in its colour; a branch's parent drawn muted up to the branch point and the
child joined to it, labelled "branch of #12 at epoch 30"."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtGui import QColor

from workbench.core.runs import lineage_rows
from workbench.core.runs import Group


def muted(color: QColor) -> QColor:
    c = QColor(color)
    c.setHsvF(c.hsvHueF() if c.hsvHueF() >= 0 else 0.0, c.hsvSaturationF() * 0.35, min(1.0, c.valueF() * 0.9 + 0.1))
    c.setAlpha(170)
    return c


def branch_epoch(child_rows: Sequence[dict], parent_record) -> int:
    epochs = [int(r["epoch"]) for r in child_rows if r.get("epoch") is not None]
    return min(epochs) - 1 if epochs else parent_record.epochs


def fetch_overlays(store, records: Sequence, colors: Sequence[QColor]) -> list[tuple[str, list[dict], QColor]]:
    """[(label, epoch rows, colour)] with lineage; runs on the background thread."""
    out: list[tuple[str, list[dict], QColor]] = []
    for record, color in zip(records, colors):
        rows = store.epochs(record.id)
        label = f"#{record.id} {record.name}"
        if record.parent_id is not None:
            try:
                parent = store.get_run(record.parent_id)
            except KeyError:
                parent = None
            if parent is not None:
                at = branch_epoch(rows, parent)
                head, rows = lineage_rows(store.epochs(parent.id), rows, at)
                out.append((f"#{parent.id} {parent.name} (parent)", head, muted(color)))
                kind = "resume" if "resume" in record.tags else "branch"
                name = record.name.split(f" ({kind}", 1)[0]  # "x (branch of #12)": the label says it
                label = f"#{record.id} {name} — {kind} of #{parent.id} at epoch {at}"
        out.append((label, rows, color))
    return out


def fetch_groups(store, groups: dict[str, Sequence]) -> list[Group]:
    return [Group(name, [store.epochs(r.id) for r in runs]) for name, runs in groups.items()]
