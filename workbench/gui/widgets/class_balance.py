"""Class balance as small horizontal bars, one per class, in the class colours (doubles as the
scatter's legend)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.gui.widgets.class_colors import class_color

_ROW = 15
_MAX_ROWS = 12


class ClassBalance(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._names: list[str] = []
        self._counts: list[int] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_counts(self, names: list[str], counts: list[int]) -> None:
        self._names, self._counts = list(names), list(counts)
        self.setToolTip("\n".join(self.lines()))
        self.updateGeometry()
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def lines(self) -> list[str]:
        total = sum(self._counts) or 1
        return [f"{n}: {c} ({100 * c / total:.0f} %)" for n, c in zip(self._names, self._counts)]

    def _rows(self) -> int:
        return min(len(self._counts), _MAX_ROWS) + (1 if len(self._counts) > _MAX_ROWS else 0)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, self._rows() * _ROW + 2)

    def paintEvent(self, event) -> None:  # noqa: N802
        if not self._counts:
            return
        painter = QPainter(self)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        fm = painter.fontMetrics()
        label_w = min(max(fm.horizontalAdvance(n) for n in self._names[:_MAX_ROWS]) + 8, self.width() // 3)
        count_w = fm.horizontalAdvance("00000 (100 %)") + 6
        bar_w = max(10, self.width() - label_w - count_w)
        top = max(self._counts) or 1
        total = sum(self._counts) or 1
        for i, (name, count) in enumerate(zip(self._names[:_MAX_ROWS], self._counts[:_MAX_ROWS])):
            y = i * _ROW + 1
            painter.setPen(text)
            painter.drawText(QRectF(0, y, label_w - 6, _ROW), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(name, Qt.TextElideMode.ElideRight, label_w - 6))
            painter.fillRect(QRectF(label_w, y + 3, bar_w * count / top, _ROW - 6), class_color(i))
            painter.drawText(QRectF(label_w + bar_w * count / top + 4, y, count_w, _ROW),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"{count} ({100 * count / total:.0f} %)")
        if len(self._counts) > _MAX_ROWS:
            painter.setPen(text)
            painter.drawText(QRectF(0, _MAX_ROWS * _ROW, self.width(), _ROW), Qt.AlignmentFlag.AlignLeft,
                             f"… and {len(self._counts) - _MAX_ROWS} more classes")
        painter.end()
