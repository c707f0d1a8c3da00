"""A page that lays its panel out one way when it has the room and another way when not (shown
beside another page, or on a small screen). It wraps the panel; the panel keeps its own layout
for the narrow case, so it still works on its own (tests, a page shown beside)."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

HYSTERESIS = 40  # px: a width near the threshold does not flip the layout back and forth


class AdaptivePage(QWidget):
    """Subclasses set WIDE_FROM (px of the page's width) and implement `_arrange(wide)`."""

    WIDE_FROM = 1100

    def __init__(self, panel: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.panel = panel
        self.wide: bool | None = None
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(0)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        width = event.size().width()
        if self.wide is None:
            wide = width >= self.WIDE_FROM
        elif self.wide:
            wide = width >= self.WIDE_FROM - HYSTERESIS
        else:
            wide = width >= self.WIDE_FROM + HYSTERESIS
        if wide != self.wide:
            self.wide = wide
            self._arrange(wide)

    def _arrange(self, wide: bool) -> None:
        raise NotImplementedError
