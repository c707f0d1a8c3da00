"""The Train page: the live curves, large, with the training settings in a column on the right.
Where the page is narrow (another page shown beside it, a small screen) the settings go under
the curves instead, at the page's full width, rather than squeezing both.

The run controls (Train, Pause, Stop, the live learning rate and the progress) are the window's
own, in the toolbar and the status bar, so they work from every page."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget

from workbench.gui.pages.adaptive import HYSTERESIS

SETTINGS_SHARE = 0.27  # of the page's width for the settings column, when there is room
STACK_BELOW = 1000  # px of the page's width: narrower, the settings go under the curves
CURVES_SHARE_STACKED = 0.58  # of the page's height for the curves, when stacked


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

    @property
    def stacked(self) -> bool:
        """Whether the settings are under the curves (a narrow page)."""
        return self.orientation() == Qt.Orientation.Vertical

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if not self._sized:  # once the page has its real width; after that the person's sizes stay
            self._sized = True
            self.reset_sizes()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        width = event.size().width()
        stack = width < STACK_BELOW + (HYSTERESIS if self.stacked else 0)
        if stack != self.stacked:
            self.setOrientation(Qt.Orientation.Vertical if stack else Qt.Orientation.Horizontal)
            self.reset_sizes()

    def reset_sizes(self) -> None:
        """The default split: settings in a column of SETTINGS_SHARE, or under the curves."""
        if self.stacked:
            height = max(self.height(), 500)
            curves = int(height * CURVES_SHARE_STACKED)
            self.setSizes([curves, height - curves])
            return
        width = max(self.width(), 900)
        side = max(self.settings.minimumWidth(), int(width * SETTINGS_SHARE))
        self.setSizes([width - side, side])
