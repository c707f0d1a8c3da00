"""Per-class precision, recall, F1, support, ROC AUC and average precision, with macro and
weighted averages and (5+ classes) top-k accuracy; sortable by any column."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from workbench.core.evaluation import ClassMetrics

__all__ = ["ClassTable"]

COLUMNS = ("class", "precision", "recall", "F1", "support", "ROC AUC", "avg precision")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def _item(value, bold: bool = False, order: float | None = None) -> QStandardItem:
    if isinstance(value, float):
        text = "–" if not math.isfinite(value) else f"{value:.3f}"
    else:
        text = str(value)
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(order if order is not None else (value if isinstance(value, (int, float)) else text), SORT_ROLE)
    if not isinstance(value, str):
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if bold:
        f = item.font()
        f.setBold(True)
        item.setFont(f)
    return item


class _AveragesLast(QSortFilterProxyModel):
    """Sorts the classes by any column; the macro and weighted averages stay below them."""

    def _average(self, index) -> int | None:
        first = self.sourceModel().index(index.row(), 0).data(SORT_ROLE)
        return index.row() if first == float("inf") else None

    def lessThan(self, left, right) -> bool:  # noqa: N802 (Qt name)
        a, b = self._average(left), self._average(right)
        if a is None and b is None:
            return super().lessThan(left, right)
        descending = self.sortOrder() == Qt.SortOrder.DescendingOrder
        if a is not None and b is not None:  # macro above weighted, either way
            return (a > b) if descending else (a < b)
        return (a is not None) if descending else (b is not None)


def _mean(values: list[float], weights=None) -> float | None:
    """Mean (support-weighted with `weights`) of the defined per-class areas, as scikit-learn's
    average="macro"/"weighted" over the classes whose curve exists; None when none does."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    if not ok.any():
        return None
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(np.average(v[ok], weights=w[ok])) if w[ok].sum() > 0 else None


class ClassTable(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = _AveragesLast(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(objectName="classTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.summary = QLabel(objectName="classSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def set_metrics(self, names: list[str], metrics: ClassMetrics, accuracy: float,
                    auc: list[float] | None = None, ap: list[float] | None = None,
                    top_k: dict[str, float] | None = None, auc_macro: float | None = None) -> None:
        self.table.setSortingEnabled(False)
        self.model.removeRows(0, self.model.rowCount())
        n = len(names)
        auc = auc or [float("nan")] * n
        ap = ap or [float("nan")] * n
        for i, name in enumerate(names):
            self.model.appendRow([_item(name), _item(float(metrics.precision[i])), _item(float(metrics.recall[i])),
                                  _item(float(metrics.f1[i])), _item(int(metrics.support[i])), _item(float(auc[i])),
                                  _item(float(ap[i]))])
        total = int(np.sum(metrics.support))
        areas = {"macro": (auc_macro, _mean(ap)), "weighted": (_mean(auc, metrics.support), _mean(ap, metrics.support))}
        # the averages always sort below the classes
        for label, how in (("macro avg", "macro"), ("weighted avg", "weighted")):
            avg = metrics.average(how)
            row = [_item(label, True, order=float("inf"))] + [
                _item(avg[k], True) for k in ("precision", "recall", "f1")] + [
                _item(total, True)] + [_item(float(a) if a is not None else "", True) for a in areas[how]]
            self.model.appendRow(row)
        self.table.setSortingEnabled(True)
        self.proxy.sort(-1)
        parts = [f"accuracy <b>{accuracy:.3f}</b>" if math.isfinite(accuracy) else "accuracy –"]
        for k, v in (top_k or {}).items():
            if v is not None:
                parts.append(f"top-{k} accuracy <b>{v:.3f}</b>")
        parts.append(f"{total} samples")
        self.summary.setText(" · ".join(parts) + "<br><span style='color:gray'>A class's precision is 0 when "
                             "it is never predicted, its recall 0 when it never occurs; macro averages are over "
                             "the classes that occur or are predicted.</span>")
