"""The samples behind a confusion-matrix cell: an image gallery for images, a table of rows with
their feature values for tables, each with its true class, predicted class, probability and loss,
ordered by confidence or loss (most confidently wrong first finds mislabelled data)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QModelIndex, QSize, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.evaluation import SAMPLE_ORDERS, Preprocessing, SplitPredictions, sample_label, select_samples
from workbench.gui.widgets.sample_thumbnails import image_to_qimage, square_pixels

__all__ = ["SamplesView", "SampleTableModel", "SampleGalleryModel", "SORT_ROLE"]

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
TILE = 72
MAX_FEATURE_COLUMNS = 64


class SampleTableModel(QAbstractTableModel):
    """One row per selected sample: where it is, true, predicted, p(predicted), p(true), loss and
    (tables) its feature values in their own units."""

    FIXED = ("where", "true", "predicted", "p(predicted)", "p(true)", "loss")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sp: SplitPredictions | None = None
        self.index_map = np.zeros(0, dtype=np.int64)
        self.predicted = np.zeros(0, dtype=np.int64)
        self.columns: list = []  # Preprocessing.input_blocks(): the input columns to show

    def set_samples(self, sp: SplitPredictions | None, index: np.ndarray, predicted: np.ndarray | None,
                    columns: list) -> None:
        self.beginResetModel()
        self.sp, self.index_map = sp, np.asarray(index, dtype=np.int64)
        self.predicted = predicted if predicted is not None else (sp.predicted if sp is not None else np.zeros(0))
        show = sp is not None and sp.inputs is not None and sp.inputs.ndim == 2
        self.columns = list(columns[:MAX_FEATURE_COLUMNS]) if show else []
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.index_map)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.FIXED) + len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return self.FIXED[section] if section < len(self.FIXED) else self.columns[section - len(self.FIXED)][0]

    def sample(self, row: int) -> int:
        """Index into the split of the sample on this row."""
        return int(self.index_map[row])

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.sp is None:
            return None
        sp, i, col = self.sp, self.sample(index.row()), index.column()
        pred = int(self.predicted[i])
        true = int(sp.y_true[i])
        values = (sample_label(sp, i), sp.class_names[true], sp.class_names[pred], float(sp.probabilities[i, pred]),
                  float(sp.probabilities[i, true]), float(sp.sample_loss[i]))
        if col < len(values):
            value = values[col]
        else:
            value = Preprocessing.block_value(self.columns[col - len(values)], sp.inputs[i])
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{value:.4g}" if isinstance(value, float) else value
        if role == SORT_ROLE:
            if col == 0:
                return int(sp.rows[i]) if sp.rows is not None else i
            return value
        if role == Qt.ItemDataRole.ForegroundRole and col == 2 and pred != true:
            return QColor(214, 39, 40)
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 3 and not isinstance(value, str):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


MAX_TILE_WIDTH = 240  # px: longer class names wrap (and are whole in the tooltip)


def gallery_captions(class_names: Sequence[str], probability: float = 0.99) -> list[str]:
    """The caption lines a tile can carry: 'predicted p' and '(true: name)' for every class."""
    return [line for name in class_names for line in (f"{name} {probability:.2f}", f"(true: {name})")]


def caption_grid(metrics: QFontMetrics, class_names: Sequence[str]) -> QSize:
    """A gallery cell wide enough for the widest caption line (up to MAX_TILE_WIDTH) and high
    enough for the picture and two lines: class names are never cut."""
    widest = max((metrics.horizontalAdvance(line) for line in gallery_captions(class_names)), default=0)
    width = min(max(TILE + 56, widest + 16), MAX_TILE_WIDTH)
    return QSize(width, TILE + 2 * metrics.lineSpacing() + 16)


class SampleGalleryModel(QAbstractListModel):
    """The same samples as image tiles, captioned 'true → predicted p'."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sp: SplitPredictions | None = None
        self.index_map = np.zeros(0, dtype=np.int64)
        self.predicted = np.zeros(0, dtype=np.int64)
        self._pixmaps: dict[int, QPixmap] = {}
        self.images: np.ndarray | None = None  # (N, C, H, W): the split's images, or its pixel rows as images

    def set_samples(self, sp, index, predicted, images: np.ndarray | None = None) -> None:
        self.beginResetModel()
        self.sp, self.index_map = sp, np.asarray(index, dtype=np.int64)
        self.images = images if images is not None else (sp.inputs if sp is not None else None)
        self.predicted = predicted if predicted is not None else (sp.predicted if sp is not None else np.zeros(0))
        self._pixmaps = {}
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.index_map)

    def sample(self, row: int) -> int:
        return int(self.index_map[row])

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.sp is None:
            return None
        sp, i = self.sp, self.sample(index.row())
        pred, true = int(self.predicted[i]), int(sp.y_true[i])
        if role == Qt.ItemDataRole.DecorationRole:
            pix = self._pixmaps.get(i)
            if pix is None:
                pix = QPixmap.fromImage(image_to_qimage(self.images[i])).scaled(
                    TILE, TILE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
                self._pixmaps[i] = pix
            return pix
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{sp.class_names[pred]} {sp.probabilities[i, pred]:.2f}\n(true: {sp.class_names[true]})"
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(46, 140, 60) if pred == true else QColor(214, 39, 40)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"{sample_label(sp, i)}\ntrue: {sp.class_names[true]}\npredicted: {sp.class_names[pred]} "
                    f"(p = {sp.probabilities[i, pred]:.3f})\np(true) = {sp.probabilities[i, true]:.3f}, "
                    f"loss {sp.sample_loss[i]:.3f}")
        return None


class SamplesView(QWidget):
    """Title, order choice and the gallery or table. `sample_activated(split index)` on
    double-click (the page opens it in the playground)."""

    sample_activated = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel("Click a cell of the confusion matrix to see its samples.", objectName="samplesTitle")
        self.title.setWordWrap(True)
        self.order_combo = QComboBox(objectName="samplesOrder")
        self.order_combo.addItems(list(SAMPLE_ORDERS))
        self.table_model = SampleTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(objectName="samplesTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.gallery_model = SampleGalleryModel(self)
        self.gallery = QListView(objectName="samplesGallery")
        self.gallery.setModel(self.gallery_model)
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(TILE, TILE))
        self.gallery.setGridSize(QSize(TILE + 56, TILE + 44))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.gallery)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(QLabel("Order"))
        top.addWidget(self.order_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

        self._sp: SplitPredictions | None = None
        self._predicted: np.ndarray | None = None
        self._columns: list = []
        self._filter: tuple = (None, None, "wrong", "All misclassified")
        self.order_combo.currentTextChanged.connect(lambda _: self._refresh())
        self.table.doubleClicked.connect(
            lambda idx: self.sample_activated.emit(self.table_model.sample(self.proxy.mapToSource(idx).row())))
        self.gallery.doubleClicked.connect(lambda idx: self.sample_activated.emit(self.gallery_model.sample(idx.row())))

    def set_predictions(self, sp: SplitPredictions | None, predicted: np.ndarray | None, columns: list) -> None:
        """`columns`: the run's Preprocessing.input_blocks() (a table's rows show their values)."""
        self._sp, self._predicted, self._columns = sp, predicted, list(columns)
        self._refresh()

    def show_samples(self, true: int | None, pred: int | None, which: str, title: str) -> None:
        self._filter = (true, pred, which, title)
        self._refresh()

    def shown_indices(self) -> np.ndarray:
        model = self.gallery_model if self.stack.currentWidget() is self.gallery else self.table_model
        return model.index_map

    def _refresh(self) -> None:
        sp = self._sp
        if sp is None or sp.task != "classification":
            self.table_model.set_samples(None, np.zeros(0, np.int64), None, [])
            self.gallery_model.set_samples(None, np.zeros(0, np.int64), None)
            return
        true, pred, which, title = self._filter
        idx = select_samples(sp, true=true, pred=pred, which=which, order=self.order_combo.currentText(),
                             predicted=self._predicted)
        self.title.setText(f"<b>{title}</b>: {len(idx)} sample{'s' if len(idx) != 1 else ''}"
                           + (" — double-click one to open it in the playground" if len(idx) else ""))
        # images, or a table whose rows are a square of pixels (the 8x8 digits): a gallery
        pictures = None if sp.inputs is None else sp.inputs if sp.inputs.ndim >= 3 else square_pixels(sp.inputs)
        self.stack.setCurrentWidget(self.gallery if pictures is not None else self.table)
        if pictures is not None:
            self.gallery.setGridSize(caption_grid(self.gallery.fontMetrics(), sp.class_names))
            self.gallery_model.set_samples(sp, idx, self._predicted, pictures)
        else:
            self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the chosen order
            self.proxy.sort(-1)  # …not a header's (a header click still re-sorts the shown rows)
            self.table_model.set_samples(sp, idx, self._predicted, self._columns)
            self.table.resizeColumnsToContents()
