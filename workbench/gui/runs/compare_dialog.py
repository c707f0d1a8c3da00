"""Two runs side by side: their specs with the differences highlighted, and their final metrics."""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.runs.table_model import metric_text
from workbench.gui.widgets.spec_diff import SpecDiffView


def _title(r) -> str:
    return f"#{r.id} {r.name}"


SPLIT_WORDS = {"train": "train", "val": "validation", "test": "test"}
METRIC_WORDS = {"r2": "R²", "mae": "MAE", "rmse": "RMSE", "f1": "F1", "baseline_accuracy":
                "accuracy of always guessing the most common class"}


def metric_name(key: str) -> tuple[int, str]:
    """(order, words): 'val_loss' -> 'validation loss'; 'loss' and 'train_loss' are both the
    'train loss' (one row); 'lr' -> 'final learning rate'."""
    if key == "lr":
        return 3, "final learning rate"
    split, _, name = key.partition("_")
    if split not in SPLIT_WORDS or not name:
        split, name = "train", key
    return list(SPLIT_WORDS).index(split), f"{SPLIT_WORDS[split]} {METRIC_WORDS.get(name, name)}"


def lr_changes_text(events: Sequence[dict]) -> str:
    """A run's live learning-rate changes in words: "0.01 → 0.003 at step 120", "none"."""
    changes = [f"{e['data'].get('previous', float('nan')):.3g} → {e['data'].get('lr', float('nan')):.3g} "
               f"at step {e['step']}" for e in events]
    return ", ".join(changes) if changes else "none"


def metric_rows(a, b, lr_changes: tuple[Sequence[dict], Sequence[dict]] | None = None) -> list[tuple[str, str, str]]:
    """Status, epochs, live learning-rate changes (when either run had one: its spec's lr no
    longer tells the whole story), best validation value, then each final metric once, named as
    the app names it, train / validation / test in that order."""
    rows = [("status", a.status, b.status), ("epochs", str(a.epochs), str(b.epochs))]
    if lr_changes is not None and any(lr_changes):
        rows.append(("learning rate changed live", lr_changes_text(lr_changes[0]), lr_changes_text(lr_changes[1])))
    rows.append(("best val", metric_text(a.best_val_metric, a.best_val), metric_text(b.best_val_metric, b.best_val)))
    named: dict[str, tuple[int, int, Any, Any]] = {}
    keys = list(dict.fromkeys([k for k in (*a.metrics, *b.metrics) if k != "best_epoch"]))
    for position, key in enumerate(keys):
        order, name = metric_name(key)
        va, vb = a.metrics.get(key), b.metrics.get(key)
        if name in named:  # "loss" and "train_loss": the same number, one row
            _, _, old_a, old_b = named[name]
            va, vb = (old_a if old_a is not None else va), (old_b if old_b is not None else vb)
            order, position = named[name][:2]
        named[name] = (order, position, va, vb)
    for name, (_, _, va, vb) in sorted(named.items(), key=lambda item: item[1][:2]):
        rows.append((name, f"{va:.4g}" if isinstance(va, float) else "—", f"{vb:.4g}" if isinstance(vb, float) else "—"))
    return rows


class CompareDialog(QDialog):
    def __init__(self, a, b, parent: QWidget | None = None, specs: tuple | None = None,
                 lr_changes: tuple[Sequence[dict], Sequence[dict]] | None = None):
        """`specs`: the two runs' specs to compare (default their own; the runs panel passes them
        with the data path each run found, so one file named two ways is no difference).
        `lr_changes`: each run's recorded "lr_changed" events (store.events)."""
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle(f"Compare #{a.id} and #{b.id}")
        self.diff = SpecDiffView()
        self.diff.only_differences.setChecked(True)
        left, right = specs if specs is not None else (a.spec, b.spec)
        self.diff.set_specs(left, right, _title(a), _title(b))
        self.metrics = QTableWidget(0, 3, objectName="compareMetrics")
        self.metrics.setHorizontalHeaderLabels(["Final metric", _title(a), _title(b)])
        self.metrics.verticalHeader().hide()
        self.metrics.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metrics.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for row, values in enumerate(metric_rows(a, b, lr_changes)):
            self.metrics.insertRow(row)
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.metrics.setItem(row, col, item)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.diff)
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("Final metrics"))
        lay.addWidget(self.metrics)
        split.addWidget(box)
        split.setSizes([320, 200])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setObjectName("closeButton")
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.resize(760, 560)
