"""The layer stack: the model's layers in order, Residual blocks with their inner layers as
children, one row per layer with its number, a compact description ("Conv2d 16, k3, p1"), its
output shape per sample and its parameter count (the live summary, merged into the stack); a
layer that cannot take its input is red with the reason.

It edits nothing itself: drops are reported as signals (a palette layer dropped at a position,
or a layer moved) and the panel turns them into one `session` change. Drops are handled here
rather than by Qt's internal move so that the spec, not the tree, decides the order.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QStyleOptionViewItem,
                               QTreeWidget, QTreeWidgetItem, QWidget)

from workbench.gui.panels import layer_ops
from workbench.gui.panels.layer_palette import LAYER_NAME_MIME

LAYER_PATH_MIME = "application/x-workbench-layer-path"
PATH_ROLE = Qt.ItemDataRole.UserRole
ERROR_ROLE = Qt.ItemDataRole.UserRole + 1
ERROR_COLOR = QColor("#d93025")
WARNING_COLOR = "#b26a00"  # amber: allowed, but rarely meant
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


COLUMNS = ["#", "Layer", "Output", "Params", "Lock"]
COL_NUMBER, COL_LAYER, COL_OUTPUT, COL_PARAMS, COL_LOCK = range(5)


def shape_text(shape: tuple[int, ...] | None) -> str:
    if not shape:
        return "—"
    return "×".join(str(d) for d in shape)


def count_text(n: float) -> str:
    """A count that fits a narrow column: 1,234 / 56,789 / 1.2 M."""
    n = float(n)
    if abs(n) < 100_000:
        return f"{n:,.0f}"
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= factor:
            return f"{n / factor:.3g} {suffix}"
    return f"{n:,.0f}"


def info_for(summary: Any, path: tuple[int, ...]) -> Any:
    """The LayerInfo of the layer at `path` (inner layers via LayerInfo.inner), or None."""
    if summary is None:
        return None
    infos = summary.layers
    info = None
    for i in path:
        if i >= len(infos):
            return None
        info = infos[i]
        infos = getattr(info, "inner", None) or []
    return info


class _IndentedLayerDelegate(QStyledItemDelegate):
    """Indents the Layer column of inner layers as the tree indents their numbers, so a block's
    layers read as its children."""

    def paint(self, painter, option, index) -> None:  # noqa: D102
        depth, parent = 0, index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        if depth:
            option = QStyleOptionViewItem(option)
            option.rect.adjust(depth * self.parent().indentation(), 0, 0, 0)
        super().paint(painter, option, index)

    def sizeHint(self, option, index):  # noqa: N802
        size = super().sizeHint(option, index)
        depth, parent = 0, index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        size.setWidth(size.width() + depth * self.parent().indentation())
        return size


class LayerStack(QTreeWidget):
    dropped_new = Signal(str, object, int)     # layer name, parent path, row
    dropped_move = Signal(object, object, int)  # source path, parent path, row
    delete_pressed = Signal()
    lock_toggled = Signal(object, bool)  # layer path, locked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(COLUMNS)
        header = self.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(24)
        for col, mode in ((COL_NUMBER, QHeaderView.ResizeMode.ResizeToContents),
                          (COL_LAYER, QHeaderView.ResizeMode.Stretch),
                          (COL_OUTPUT, QHeaderView.ResizeMode.ResizeToContents),
                          (COL_PARAMS, QHeaderView.ResizeMode.ResizeToContents),
                          (COL_LOCK, QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(col, mode)
        self.headerItem().setTextAlignment(COL_PARAMS, _RIGHT)
        self.headerItem().setToolTip(COL_LOCK, "Locked layers keep their weights while training (fine-tuning); "
                                               "×0.1 = the layer learns at a tenth of the learning rate")
        self.itemChanged.connect(self._item_changed)
        self.headerItem().setToolTip(COL_OUTPUT, "The shape of one sample after the layer")
        self.headerItem().setToolTip(COL_PARAMS, "Trainable numbers in the layer (weights and biases)")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Blocks are always open: their inner layers are indented under them, numbered 3.1, 3.2.
        self.setRootIsDecorated(False)
        self.setItemsExpandable(False)
        self.setIndentation(12)
        self.setItemDelegateForColumn(COL_LAYER, _IndentedLayerDelegate(self))
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self._layers: list[dict] = []
        # True while the summary is still to come (PyTorch loading): shapes read "…", not "—"
        self.pending = False

    # ---- content -----------------------------------------------------------------------------
    def show_layers(self, layers: list[dict], summary: Any, select: tuple[int, ...] | None) -> None:
        """Rebuild from the spec's layers and the summary; select `select` if given."""
        self._layers = layers
        self.blockSignals(True)
        try:
            self.clear()
            self._add_items(self.invisibleRootItem(), layers, (), summary)
            self.expandAll()
        finally:
            self.blockSignals(False)
        item = self.item_at_path(select) if select else None
        if item is not None:
            self.setCurrentItem(item)
        self.itemSelectionChanged.emit()

    def _add_items(self, parent: QTreeWidgetItem, layers: list[dict], prefix: tuple[int, ...], summary: Any) -> None:
        for i, layer in enumerate(layers):
            path = (*prefix, i)
            info = info_for(summary, path)
            number = ".".join(str(p + 1) for p in path)
            reached = info is not None and bool(info.out_shape)  # layers after a failing one were not
            unknown = "…" if self.pending and info is None else "—"
            item = QTreeWidgetItem(parent, [
                number,
                layer_ops.label(layer),
                shape_text(info.out_shape) if info is not None else unknown,
                count_text(info.params) if reached else unknown,
            ])
            item.setData(COL_NUMBER, PATH_ROLE, path)
            item.setTextAlignment(COL_PARAMS, _RIGHT)
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
            if layer.get("type") == "Residual":
                flags |= Qt.ItemFlag.ItemIsDropEnabled
                font = QFont(self.font())
                font.setBold(True)
                item.setFont(COL_LAYER, font)
                item.setToolTip(COL_LAYER, "Residual block: output = input + f(input), where f is the "
                                           "layers indented under it. Drop layers on it to add them inside.")
            else:
                item.setToolTip(COL_LAYER, layer_ops.full_label(layer))
            if len(path) == 1 and reached and info.params > 0:  # a top-level layer with weights
                flags |= Qt.ItemFlag.ItemIsUserCheckable
                item.setCheckState(COL_LOCK, Qt.CheckState.Checked if layer.get("frozen") else Qt.CheckState.Unchecked)
                mult = layer.get("lr_mult")
                item.setText(COL_LOCK, f"×{mult:g}" if mult is not None else "")
                item.setToolTip(COL_LOCK, ("locked: its weights do not train" if layer.get("frozen") else
                                           "click to lock its weights (fine-tuning)")
                                + (f"; learning rate ×{mult:g}" if mult is not None else ""))
            item.setFlags(flags)
            if info is not None:
                item.setToolTip(COL_OUTPUT, f"output per sample: {shape_text(info.out_shape)}")
                if reached:
                    item.setToolTip(COL_PARAMS, f"{info.params:,} parameters · {count_text(info.flops)} "
                                                "FLOPs per sample")
            error = getattr(info, "error", None)
            if error:
                self._mark_error(item, error)
            if layer.get("layers"):
                self._add_items(item, layer["layers"], path, summary)

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column == COL_LOCK and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            self.lock_toggled.emit(tuple(item.data(COL_NUMBER, PATH_ROLE)),
                                   item.checkState(COL_LOCK) == Qt.CheckState.Checked)

    def _mark_error(self, item: QTreeWidgetItem, message: str) -> None:
        item.setData(COL_NUMBER, ERROR_ROLE, message)
        background = QColor(ERROR_COLOR)
        background.setAlpha(40)
        for col in range(len(COLUMNS)):
            item.setForeground(col, QBrush(ERROR_COLOR))
            item.setBackground(col, QBrush(background))
            item.setToolTip(col, message)
        item.setIcon(COL_LAYER, self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))

    # ---- reading (tests, and what a person reads) ------------------------------------------------
    def all_items(self) -> list[QTreeWidgetItem]:
        """Every row, top to bottom (inner layers under their block)."""
        found: list[QTreeWidgetItem] = []

        def walk(parent: QTreeWidgetItem) -> None:
            for i in range(parent.childCount()):
                found.append(parent.child(i))
                walk(parent.child(i))

        walk(self.invisibleRootItem())
        return found

    def row_texts(self, row: int) -> list[str]:
        item = self.all_items()[row]
        return [item.text(c) for c in range(len(COLUMNS))]

    def row_count(self) -> int:
        return len(self.all_items())

    def layers(self) -> list[dict]:
        return self._layers

    def item_at_path(self, path: tuple[int, ...] | None) -> QTreeWidgetItem | None:
        if not path:
            return None
        item = None
        parent = self.invisibleRootItem()
        for i in path:
            if i >= parent.childCount():
                return None
            item = parent.child(i)
            parent = item
        return item

    def selected_path(self) -> tuple[int, ...] | None:
        items = self.selectedItems()
        return tuple(items[0].data(0, PATH_ROLE)) if items else None

    def error_items(self) -> list[QTreeWidgetItem]:
        return [item for item in self.all_items() if item.data(COL_NUMBER, ERROR_ROLE)]

    def is_red(self, item: QTreeWidgetItem) -> bool:
        return all(item.foreground(c).color() == ERROR_COLOR for c in range(len(COLUMNS)))

    # ---- keyboard ----------------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected_path():
            self.delete_pressed.emit()
            return
        super().keyPressEvent(event)

    # ---- drag and drop -----------------------------------------------------------------------
    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [LAYER_PATH_MIME, LAYER_NAME_MIME]

    def mimeData(self, items) -> QMimeData:  # noqa: N802
        mime = QMimeData()
        if items:
            mime.setData(LAYER_PATH_MIME, json.dumps(list(items[0].data(0, PATH_ROLE))).encode("utf-8"))
        return mime

    @staticmethod
    def _ours(mime: QMimeData) -> bool:
        return mime.hasFormat(LAYER_PATH_MIME) or mime.hasFormat(LAYER_NAME_MIME)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if self._ours(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction if event.mimeData().hasFormat(LAYER_NAME_MIME)
                                else Qt.DropAction.MoveAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if not self._ours(event.mimeData()):
            event.ignore()
            return
        super().dragMoveEvent(event)  # auto-scroll and the drop indicator
        event.setDropAction(Qt.DropAction.CopyAction if event.mimeData().hasFormat(LAYER_NAME_MIME)
                            else Qt.DropAction.MoveAction)
        event.accept()

    def drop_target(self, pos: QPoint) -> tuple[tuple[int, ...], int]:
        """(parent path, row) for a drop at `pos`: above or below the row under the cursor, or
        into a Residual block when dropped on its middle."""
        item = self.itemAt(pos)
        if item is None:
            return (), self.topLevelItemCount()
        path = tuple(item.data(0, PATH_ROLE))
        rect = self.visualItemRect(item)
        offset = pos.y() - rect.top()
        is_block = layer_ops.get(self._layers, path).get("type") == "Residual"
        if is_block and rect.height() * 0.25 < offset < rect.height() * 0.75:
            return path, item.childCount()
        row = path[-1] + (1 if offset >= rect.height() / 2 else 0)
        return path[:-1], row

    def dropEvent(self, event) -> None:  # noqa: N802
        mime = event.mimeData()
        if not self._ours(mime):
            event.ignore()
            return
        parent, row = self.drop_target(event.position().toPoint())
        if mime.hasFormat(LAYER_NAME_MIME):
            name = bytes(mime.data(LAYER_NAME_MIME)).decode("utf-8")
            self.dropped_new.emit(name, parent, row)
        else:
            source = tuple(json.loads(bytes(mime.data(LAYER_PATH_MIME)).decode("utf-8")))
            self.dropped_move.emit(source, parent, row)
        # The spec change rebuilds the tree; Qt must not move or delete anything itself.
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.setState(QAbstractItemView.State.NoState)
        self.viewport().update()
