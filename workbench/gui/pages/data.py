"""The Data page: on a wide page the plot / table / images take the right side, large, and the
source, facts and settings make a column on the left; narrow, the panel is one column."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget

from workbench.gui.pages.adaptive import AdaptivePage

COLUMN_WIDTH = 440  # px for the settings column on a wide page


class DataPage(AdaptivePage):
    WIDE_FROM = 1000

    def __init__(self, panel: QWidget, parent: QWidget | None = None):
        super().__init__(panel, parent)
        self.views = panel.view_tabs
        self._column = self.views.parentWidget().layout()  # the panel's column (it may sit in a scroll area)
        self._views_at = self._column.indexOf(self.views)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="dataPageSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(panel)
        self.body.addWidget(self.splitter)
        self._stretch = None  # at the column's end while the views are out: the facts stay at the top

    def _arrange(self, wide: bool) -> None:
        column = self._column
        if wide:
            column.removeWidget(self.views)
            if self._stretch is None:
                column.addStretch(1)
                self._stretch = column.itemAt(column.count() - 1)
            self.splitter.addWidget(self.views)
            self.splitter.setStretchFactor(0, 0)
            self.splitter.setStretchFactor(1, 1)
            self.splitter.setSizes([COLUMN_WIDTH, max(self.width() - COLUMN_WIDTH, 400)])
        else:
            if self._stretch is not None:
                column.removeItem(self._stretch)
                self._stretch = None
            column.insertWidget(self._views_at, self.views, 1)
        self.views.show()
