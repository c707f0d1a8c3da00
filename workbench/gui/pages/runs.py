"""The Runs page: the table takes the full width and the selected run's details sit beside it
when there is room for every column, under it otherwise."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget

from workbench.gui.pages.adaptive import AdaptivePage

DETAILS_WIDTH = 330  # px beside the table on a wide page
DETAILS_HEIGHT = 230  # px under it otherwise


class RunsPage(AdaptivePage):
    WIDE_FROM = 1560

    def __init__(self, panel: QWidget, parent: QWidget | None = None):
        super().__init__(panel, parent)
        self.body.addWidget(panel)

    def _arrange(self, wide: bool) -> None:
        self.panel.splitter.setOrientation(Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical)
        QTimer.singleShot(0, self, self._size_details)  # once the splitter has its new size

    def _size_details(self) -> None:
        splitter = self.panel.splitter
        if self.wide:
            total = splitter.width()
            splitter.setSizes([max(total - DETAILS_WIDTH, 400), DETAILS_WIDTH])
        else:
            total = splitter.height()
            splitter.setSizes([max(total - DETAILS_HEIGHT, 200), DETAILS_HEIGHT])
