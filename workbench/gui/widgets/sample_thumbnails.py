"""Small pictures of datasets: a scatter for 2-D data, a tiled grid for images.

Used for the built-in sample picker. Thumbnails of the samples are made lazily, one per timer
tick, so showing the window never waits for them, and are cached for the whole process.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap

from workbench.gui.background import BackgroundCalls
from workbench.gui.widgets.class_colors import class_color

THUMB_SIZE = 40
_CACHE: dict[tuple[str, int], QPixmap] = {}


# ---- what a dataset looks like -------------------------------------------------------------
def as_images(dataset: Any) -> np.ndarray | None:
    """(N, C, H, W) images for image data, and for tabular data that is a square of pixels
    (the 8x8 digits); None otherwise."""
    X = np.asarray(dataset.X)
    if dataset.meta.kind == "image" and X.ndim == 4:
        return X
    return square_pixels(X)


def square_pixels(X: np.ndarray) -> np.ndarray | None:
    """Rows of a table that are a square of at least 6x6 pixels (the 8x8 digits) as (N, 1, H, W)
    images; None for any other array."""
    X = np.asarray(X)
    if X.ndim == 2 and X.shape[1] >= 36:
        side = int(round(math.sqrt(X.shape[1])))
        if side * side == X.shape[1]:
            return X.reshape(len(X), 1, side, side)
    return None


def downsample(dataset: Any, limit: int, seed: int = 0) -> Any:
    """The dataset itself when it has at most `limit` rows, else a random `limit` of them (in
    file order): a scatter of a million points says no more than one of a few thousand."""
    n = len(dataset.y)
    if n <= limit:
        return dataset
    rows = np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))
    return dataclasses.replace(dataset, X=np.asarray(dataset.X[rows]), y=np.asarray(dataset.y[rows]))


def plot_coordinates(dataset: Any) -> tuple[np.ndarray, np.ndarray, str, str] | None:
    """x, y and axis names for a scatter of tabular data, or None when a scatter says nothing.

    Two features: feature 0 against feature 1. One feature: the feature against the target
    (regression) or against a small jitter (classification). More features: the first two.
    """
    X = np.asarray(dataset.X)
    if dataset.meta.kind != "tabular" or X.ndim != 2 or X.shape[1] == 0 or X.shape[1] > 16:
        return None
    names = list(dataset.meta.feature_names) or [f"x{i}" for i in range(X.shape[1])]
    if X.shape[1] >= 2:
        return X[:, 0].astype(float), X[:, 1].astype(float), names[0], names[1]
    x = X[:, 0].astype(float)
    if dataset.meta.task == "regression":
        y = np.asarray(dataset.y, dtype=float).reshape(len(x), -1)[:, 0]
        return x, y, names[0], dataset.meta.target_name or "target"
    jitter = np.random.default_rng(0).uniform(-0.4, 0.4, len(x)) + np.asarray(dataset.y, dtype=float)
    return x, jitter, names[0], "class"


def point_colors(dataset: Any, n: int) -> list[QColor]:
    """Colour per point: the class colour, or a blue-to-orange ramp over the regression target."""
    if dataset.meta.task == "classification":
        y = np.asarray(dataset.y).reshape(-1)[:n]
        palette = [class_color(i) for i in range(max(1, len(dataset.meta.class_names) or int(y.max(initial=0)) + 1))]
        return [palette[int(c) % len(palette)] for c in y]
    y = np.asarray(dataset.y, dtype=float).reshape(len(dataset.y), -1)[:n, 0]
    lo, hi = (float(np.nanmin(y)), float(np.nanmax(y))) if len(y) else (0.0, 1.0)
    t = (y - lo) / (hi - lo) if hi > lo else np.zeros_like(y)
    a, b = np.array([31, 119, 180]), np.array([255, 127, 14])
    rgb = (a[None, :] * (1 - t[:, None]) + b[None, :] * t[:, None]).astype(int)
    return [QColor(int(r), int(g), int(bl)) for r, g, bl in rgb]


# ---- painting ---------------------------------------------------------------------------------
def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return np.zeros_like(v)
    lo, hi = float(finite.min()), float(finite.max())
    return (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)


def scatter_pixmap(x: np.ndarray, y: np.ndarray, colors: list[QColor], size: int = THUMB_SIZE,
                   max_points: int = 400) -> QPixmap:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(255, 255, 255))
    step = max(1, len(x) // max_points)
    xs, ys = _normalise(x)[::step], _normalise(y)[::step]
    cols = colors[::step]
    margin = 3.0
    span = size - 2 * margin
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    radius = 1.3 if size <= 48 else 2.0
    for xi, yi, c in zip(xs, ys, cols):
        if not (math.isfinite(xi) and math.isfinite(yi)):
            continue
        painter.setBrush(c)
        painter.drawEllipse(QPointF(margin + xi * span, margin + (1 - yi) * span), radius, radius)
    painter.setPen(QPen(QColor(0, 0, 0, 60)))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(QRectF(0.5, 0.5, size - 1, size - 1))
    painter.end()
    return QPixmap.fromImage(image)


def image_to_qimage(img: np.ndarray) -> QImage:
    """One (C, H, W) or (H, W) image, any range, as an 8-bit QImage (contrast-stretched)."""
    a = np.asarray(img, dtype=float)
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = a[0] if a.shape[0] == 1 else np.transpose(a, (1, 2, 0))
    a = (_normalise(a) * 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.ascontiguousarray(a)
        h, w = a.shape
        return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    a = np.ascontiguousarray(a)
    h, w, _ = a.shape
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def tiles_pixmap(images: np.ndarray, size: int = THUMB_SIZE, grid: int = 3) -> QPixmap:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    tile = size / grid
    for k in range(min(grid * grid, len(images))):
        r, c = divmod(k, grid)
        painter.drawImage(QRectF(c * tile + 0.5, r * tile + 0.5, tile - 1, tile - 1), image_to_qimage(images[k]))
    painter.end()
    return QPixmap.fromImage(image)


def dataset_pixmap(dataset: Any, size: int = THUMB_SIZE) -> QPixmap | None:
    """A thumbnail of a loaded dataset, or None when neither a scatter nor images fit."""
    images = as_images(dataset)
    if images is not None:
        order = np.argsort(np.asarray(dataset.y).reshape(len(dataset.y), -1)[:, 0], kind="stable")
        # one of each class first, so the grid shows the variety
        picks = _one_per_class(dataset) if dataset.meta.task == "classification" else list(order[:9])
        return tiles_pixmap(images[picks], size)
    coords = plot_coordinates(dataset)
    if coords is None:
        return None
    x, y, _, _ = coords
    return scatter_pixmap(x, y, point_colors(dataset, len(x)), size)


def _one_per_class(dataset: Any, count: int = 9) -> list[int]:
    y = np.asarray(dataset.y).reshape(-1)
    picks: list[int] = []
    classes = list(dict.fromkeys(int(v) for v in y))
    while len(picks) < min(count, len(y)):
        before = len(picks)
        for c in classes:
            idx = [i for i in np.flatnonzero(y == c) if i not in picks]
            if idx and len(picks) < count:
                picks.append(int(idx[0]))
        if len(picks) == before:
            break
    return picks


# ---- the sample cache -------------------------------------------------------------------------
def cached_sample_pixmap(name: str, size: int = THUMB_SIZE) -> QPixmap | None:
    return _CACHE.get((name, size))


def render_sample(name: str, loader: Callable[[str], Any], size: int = THUMB_SIZE) -> QPixmap | None:
    """Load a small version of sample `name` through `loader` and cache its thumbnail.
    Returns None (and caches nothing) when the sample cannot be loaded."""
    key = (name, size)
    if key in _CACHE:
        return _CACHE[key]
    try:
        dataset = loader(name)
        pixmap = dataset_pixmap(dataset, size)
    except Exception:  # a thumbnail is decoration: a broken sample shows up when it is picked
        return None
    if pixmap is not None:
        _CACHE[key] = pixmap
    return pixmap


def default_sample_loader(name: str) -> Any:
    """A small load of a built-in sample for its thumbnail."""
    from workbench.core.data import DataError, load_dataset
    from workbench.core.spec import DataSpec

    try:
        return load_dataset(DataSpec(source=f"sample:{name}", n_samples=300))
    except (DataError, ValueError):
        return load_dataset(DataSpec(source=f"sample:{name}"))


class ThumbnailQueue(QObject):
    """Loads sample thumbnails one at a time on a background thread and reports each as it is
    ready (the pixmap itself is drawn on the GUI thread). Loading a sample takes 20-50 ms, the
    folder of shape images ~200 ms: on the GUI thread that froze the window in its first
    seconds, a run's live plots included."""

    ready = Signal(str, QIcon)

    def __init__(self, loader: Callable[[str], Any] | None = None, size: int = THUMB_SIZE,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._loader = loader or default_sample_loader
        self._size = size
        self._pending: list[str] = []
        self._loading: str | None = None  # the sample being loaded on the thread
        self._calls = BackgroundCalls("thumbnails", self)

    def request(self, names: list[str]) -> None:
        for name in names:
            cached = cached_sample_pixmap(name, self._size)
            if cached is not None:
                self.ready.emit(name, QIcon(cached))
            elif name not in self._pending:
                self._pending.append(name)
        self._load_next()

    def flush(self) -> None:
        """Render everything pending now, on this thread (tests; a person never waits for this)."""
        while self._pending:
            name = self._pending.pop(0)
            self._show(name, render_sample(name, self._loader, self._size))

    def pending(self) -> list[str]:
        return list(self._pending)

    def shutdown(self) -> None:
        """Drop what is pending; the thread ends (after the sample it may be loading)."""
        self._pending.clear()
        self._calls.shutdown()

    def _load_next(self) -> None:
        if self._loading is not None or not self._pending:
            return
        name = self._loading = self._pending[0]  # pending until shown
        self._calls.submit(self._loader, name, on_done=lambda dataset: self._loaded(name, dataset),
                           on_error=lambda _error, _details: self._loaded(name, None))

    def _loaded(self, name: str, dataset: Any) -> None:
        self._loading = None
        if name in self._pending:
            self._pending.remove(name)
            self._show(name, render_sample(name, lambda _name: dataset, self._size) if dataset is not None else None)
        self._load_next()

    def _show(self, name: str, pixmap: QPixmap | None) -> None:
        if pixmap is not None:
            self.ready.emit(name, QIcon(pixmap))
