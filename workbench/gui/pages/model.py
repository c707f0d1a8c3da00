"""The Model page: on a wide page the selected layer's parameters sit beside the stack instead
of under it, so the stack keeps its height; narrow, the panel is as it was."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from workbench.gui.pages.adaptive import AdaptivePage

STACK_SHARE = 0.58  # of the room right of the palette, for the stack on a wide page


class ModelPage(AdaptivePage):
    WIDE_FROM = 1100

    def __init__(self, panel: QWidget, parent: QWidget | None = None):
        super().__init__(panel, parent)
        self.body.addWidget(panel)

    def _arrange(self, wide: bool) -> None:
        splitter = self.panel.right_splitter
        splitter.setOrientation(Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical)
        total = splitter.width() if splitter.width() > 100 else self.width()
        if wide:
            splitter.setSizes([int(total * STACK_SHARE), total - int(total * STACK_SHARE)])
        else:
            splitter.setSizes([int(total * 0.6), total - int(total * 0.6)])
