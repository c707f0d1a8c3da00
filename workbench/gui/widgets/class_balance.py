"""Class balance as small horizontal bars, one per class, in the class colours (doubles as the
scatter's legend). Many classes go in columns, so ten digits take a few lines, not a tall block;
the widget asks the layout for the height its width needs (height-for-width), so it never
paints over what is below it."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.gui.widgets.class_colors import class_color

_ROW = 15
_MAX_ROWS = 6  # rows of bars at most; more classes end in "… and N more classes"
_MIN_COLUMN = 170  # px a column of bars needs to stay readable
_ONE_COLUMN_UP_TO = 4  # a few classes read best as one column of long bars


class ClassBalance(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._names: list[str] = []
        self._counts: list[int] = []
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def set_counts(self, names: list[str], counts: list[int]) -> None:
        self._names, self._counts = list(names), list(counts)
        self.setToolTip("\n".join(self.lines()))
        self.updateGeometry()
        self.update()

    def lines(self) -> list[str]:
        total = sum(self._counts) or 1
        return [f"{n}: {c} ({100 * c / total:.0f} %)" for n, c in zip(self._names, self._counts)]

    def layout_for(self, width: int) -> tuple[int, int, int]:
        """(columns, rows of bars, classes shown) at `width` px."""
        n = len(self._counts)
        if n == 0:
            return 1, 0, 0
        cols = 1 if n <= _ONE_COLUMN_UP_TO else max(1, min(n, width // _MIN_COLUMN))
        rows = min(math.ceil(n / cols), _MAX_ROWS)
        return cols, rows, min(n, cols * rows)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        _cols, rows, shown = self.layout_for(width)
        more = 1 if shown < len(self._counts) else 0
        return (rows + more) * _ROW + 2 if self._counts else 0

    def sizeHint(self) -> QSize:  # noqa: N802
        width = max(self.width(), 200)
        return QSize(200, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(120, self.heightForWidth(max(self.width(), 120)))

    def paintEvent(self, event) -> None:  # noqa: N802
        if not self._counts:
            return
        painter = QPainter(self)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        fm = painter.fontMetrics()
        cols, rows, shown = self.layout_for(self.width())
        col_w = self.width() / cols
        label_w = min(max(fm.horizontalAdvance(n) for n in self._names[:shown]) + 8, col_w / 3)
        count_w = fm.horizontalAdvance("00000 (100 %)") + 6
        bar_w = max(10.0, col_w - label_w - count_w - 8)
        top = max(self._counts) or 1
        total = sum(self._counts) or 1
        for i, (name, count) in enumerate(zip(self._names[:shown], self._counts[:shown])):
            col, row = divmod(i, rows)  # down the first column, then the next
            x, y = col * col_w, row * _ROW + 1
            painter.setPen(text)
            painter.drawText(QRectF(x, y, label_w - 6, _ROW), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(name, Qt.TextElideMode.ElideRight, int(label_w - 6)))
            length = bar_w * count / top
            painter.fillRect(QRectF(x + label_w, y + 3, length, _ROW - 6), class_color(i))
            painter.drawText(QRectF(x + label_w + length + 4, y, count_w, _ROW),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"{count} ({100 * count / total:.0f} %)")
        if shown < len(self._counts):
            painter.setPen(text)
            painter.drawText(QRectF(0, rows * _ROW, self.width(), _ROW), Qt.AlignmentFlag.AlignLeft,
                             f"… and {len(self._counts) - shown} more classes (all in the tooltip)")
        painter.end()
