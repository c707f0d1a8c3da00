"""The Train page: the live curves, large, with the training settings in a column on the right.

The run controls (Train, Pause, Stop, the live learning rate and the progress) are the window's
own, in the toolbar and the status bar, so they work from every page."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget

SETTINGS_SHARE = 0.27  # of the page's width for the settings column, when there is room


class TrainPage(QSplitter):
    def __init__(self, curves: QWidget, settings: QWidget, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setObjectName("trainPageSplitter")
        self.setChildrenCollapsible(False)
        self.curves, self.settings = curves, settings
        self.addWidget(curves)
        self.addWidget(settings)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 0)
        self._sized = False

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if not self._sized:  # once the page has its real width; after that the person's sizes stay
            self._sized = True
            self.reset_sizes()

    def reset_sizes(self) -> None:
        width = max(self.width(), 900)
        side = max(self.settings.minimumWidth(), int(width * SETTINGS_SHARE))
        self.setSizes([width - side, side])
