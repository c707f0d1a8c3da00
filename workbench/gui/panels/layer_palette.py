"""The layer palette: catalog layers grouped as the catalog groups them.

Double-click (or Enter) asks for the layer to be added; dragging carries its name to the stack.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (QAbstractItemView, QLineEdit, QStyle, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from workbench.core import catalog

LAYER_NAME_MIME = "application/x-workbench-layer-name"
_NAME_ROLE = Qt.ItemDataRole.UserRole


class PaletteTree(QTreeWidget):
    add_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)  # the groups are bold headings, always open
        self.setItemsExpandable(False)
        self.setIndentation(10)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setUniformRowHeights(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.itemDoubleClicked.connect(self._double_clicked)
        self._populate()

    def _populate(self) -> None:
        groups: dict[str, QTreeWidgetItem] = {}
        bold = QFont(self.font())
        bold.setBold(True)
        for entry in catalog.entries("layer"):
            group = groups.get(entry.group)
            if group is None:
                group = QTreeWidgetItem(self, [entry.group])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                group.setFont(0, bold)
                group.setExpanded(True)
                groups[entry.group] = group
            item = QTreeWidgetItem(group, [entry.name])
            item.setData(0, _NAME_ROLE, entry.name)
            item.setToolTip(0, f"<b>{entry.name}</b><br>{entry.help}<br><i>Double-click or drag to add</i>")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)

    def fitting_width(self) -> int:
        """The width that shows every name whole, with the vertical scroll bar."""
        fm = self.fontMetrics()
        bold = QFontMetrics(self.topLevelItem(0).font(0)) if self.topLevelItemCount() else fm
        widest = 0
        for group_index in range(self.topLevelItemCount()):
            group = self.topLevelItem(group_index)
            widest = max(widest, bold.horizontalAdvance(group.text(0)))
            for i in range(group.childCount()):
                widest = max(widest, self.indentation() + fm.horizontalAdvance(group.child(i).text(0)))
        scroll = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return widest + scroll + 2 * self.frameWidth() + 14  # + the item's text margins

    def item_for(self, name: str) -> QTreeWidgetItem | None:
        for group_index in range(self.topLevelItemCount()):
            group = self.topLevelItem(group_index)
            for i in range(group.childCount()):
                if group.child(i).data(0, _NAME_ROLE) == name:
                    return group.child(i)
        return None

    def selected_name(self) -> str | None:
        items = self.selectedItems()
        return items[0].data(0, _NAME_ROLE) if items else None

    def filter(self, text: str) -> None:
        text = text.strip().lower()
        for group_index in range(self.topLevelItemCount()):
            group = self.topLevelItem(group_index)
            any_shown = False
            for i in range(group.childCount()):
                child = group.child(i)
                name = child.data(0, _NAME_ROLE).lower()
                shown = not text or text in name or text in group.text(0).lower()
                child.setHidden(not shown)
                any_shown |= shown
            group.setHidden(not any_shown)

    # ---- add / drag --------------------------------------------------------------------------
    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        name = item.data(0, _NAME_ROLE)
        if name:
            self.add_requested.emit(name)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected_name():
            self.add_requested.emit(self.selected_name())
            return
        super().keyPressEvent(event)

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [LAYER_NAME_MIME]

    def mimeData(self, items) -> QMimeData:  # noqa: N802
        mime = QMimeData()
        names = [item.data(0, _NAME_ROLE) for item in items if item.data(0, _NAME_ROLE)]
        if names:
            mime.setData(LAYER_NAME_MIME, names[0].encode("utf-8"))
            mime.setText(names[0])
        return mime


class LayerPalette(QWidget):
    """A filter box above the palette tree. `tree.add_requested(name)` asks for a layer."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Find a layer…")
        self.filter_edit.setToolTip("Type part of a name (or a group: conv, pool, activation)")
        self.filter_edit.setClearButtonEnabled(True)
        self.tree = PaletteTree()
        self.filter_edit.textChanged.connect(self.tree.filter)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree, 1)
