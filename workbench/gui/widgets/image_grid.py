"""A grid of sample images with their class names underneath, and which images to show: a
sample across the classes (a folder loads class by class; its first images are all one class)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.gui.widgets.class_colors import class_color
from workbench.gui.widgets.sample_thumbnails import image_to_qimage


GRID_SAMPLE = 256  # images handed to the grid: enough to fill a large page


def spread_across_classes(labels: np.ndarray | None, n_items: int, limit: int = GRID_SAMPLE) -> np.ndarray:
    """Indices of up to `limit` items: one of each class in turn (classes in order), each class's
    picks spread evenly over its members; without labels, spread evenly over all items."""
    if labels is None:
        return np.unique(np.linspace(0, n_items - 1, min(limit, n_items)).round().astype(int)) if n_items else \
            np.empty(0, dtype=int)
    labels = np.asarray(labels).reshape(-1)
    members = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    per_class = [m[np.linspace(0, len(m) - 1, min(len(m), limit)).round().astype(int)] for m in members]
    order: list[int] = []
    for rank in range(max((len(p) for p in per_class), default=0)):
        order.extend(int(p[rank]) for p in per_class if rank < len(p))
        if len(order) >= limit:
            break
    return np.array(order[:limit], dtype=int)


class ImageGrid(QWidget):
    """Paints as many of the given images as fit, each with its caption (class name)."""

    def __init__(self, parent: QWidget | None = None, tile: int = 56):
        super().__init__(parent)
        self._tile = tile
        self._images: list[QImage] = []
        self._captions: list[str] = []
        self._classes: list[int] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 80)

    def set_images(self, images: np.ndarray, captions: list[str] | None = None,
                   classes: list[int] | None = None, limit: int = GRID_SAMPLE) -> None:
        """images: (N, C, H, W) or (N, H, W), any value range; only the first `limit` are kept."""
        n = min(limit, len(images))
        self._images = [image_to_qimage(images[i]) for i in range(n)]
        self._captions = list(captions or [])[:n]
        self._classes = list(classes or [])[:n]
        self.update()

    def clear(self) -> None:
        self._images, self._captions, self._classes = [], [], []
        self.update()

    def shown_classes(self) -> list[int]:
        """The class of each image, in the order they are laid out."""
        return list(self._classes)

    def image_count(self) -> int:
        return len(self._images)

    def visible_count(self) -> int:
        cols, rows = self.layout_size()
        return min(len(self._images), cols * rows)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(8 * self._tile, 3 * (self._tile + 14))

    def layout_size(self) -> tuple[int, int]:
        """(columns, rows) of images that fit now."""
        cell_h = self._tile + (14 if self._captions else 4)
        cols = max(1, self.width() // (self._tile + 4))
        rows = max(1, self.height() // cell_h)
        return cols, rows

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        cols, rows = self.layout_size()
        cell_w, cell_h = self._tile + 4, self._tile + (14 if self._captions else 4)
        text_color = self.palette().color(QPalette.ColorRole.WindowText)
        font = painter.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        painter.setFont(font)
        for k, image in enumerate(self._images[: cols * rows]):
            r, c = divmod(k, cols)
            x, y = c * cell_w + 2, r * cell_h + 2
            painter.drawImage(QRectF(x, y, self._tile, self._tile), image)
            if k < len(self._classes):
                painter.setPen(class_color(self._classes[k]))
                painter.drawRect(QRectF(x - 0.5, y - 0.5, self._tile + 1, self._tile + 1))
            if k < len(self._captions):
                painter.setPen(text_color)
                painter.drawText(QRectF(x - 2, y + self._tile, cell_w, 13),
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                                 painter.fontMetrics().elidedText(self._captions[k], Qt.TextElideMode.ElideRight, cell_w))
        painter.end()
