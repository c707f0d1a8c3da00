"""PageHost: the window's workspace, one page per stage of the work, picked from a rail on the left.

Each page fills the workspace. One other page can be shown beside the current one (right-click
a page in the rail, or View ▸ Show beside), so a person can keep the model stack next to the
live curves as the old docks allowed. Every page sits in a scroll area: a page that asks for
more room than the screen has scrolls; it never makes the window grow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QByteArray, QCoreApplication, QEvent, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QMenu, QScrollArea, QSplitter, QStackedWidget,
                               QToolBar, QToolButton, QVBoxLayout, QWidget)

from workbench.gui.theme import icon

# Pages appear in this order whatever order they are added in; a key not listed goes last.
STAGE_ORDER = ("data", "model", "train", "evaluate", "diagnose", "runs", "sweeps", "export")
SIDE_SHARE = 0.42  # of the workspace's width, for a page shown beside another


@dataclass
class Page:
    """One page: its rail action, its scroll-area container and (once built) its widget."""

    key: str
    title: str
    action: QAction
    container: QScrollArea
    factory: Callable[[], QWidget] | None = None
    explicit_shortcut: bool = False
    widget: QWidget | None = field(default=None)


class PageHost(QWidget):
    """The rail, the current page, and optionally a second page beside it."""

    current_changed = Signal(str)  # key of the page now shown in the main area
    beside_changed = Signal(str)  # key of the page shown beside it ("" when none)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("pageHost")
        self._pages: dict[str, Page] = {}
        self._order: list[str] = []
        self._current = ""
        self._previous = ""
        self._beside = ""

        self.rail = QToolBar("Pages", self, objectName="pageRail")
        self.rail.setOrientation(Qt.Orientation.Vertical)
        self.rail.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.rail.setIconSize(QSize(22, 22))
        self.rail.setMovable(False)
        self.rail.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.group = QActionGroup(self)
        self.group.setExclusive(True)

        self.stack = QStackedWidget(objectName="pageStack")
        self.side = QWidget(objectName="sidePage")
        self.side_title = QLabel(objectName="sidePageTitle")
        close = QToolButton(objectName="closeSidePage", autoRaise=True)
        close.setIcon(icon("close"))
        close.setToolTip("Close the page beside (it goes back to its own place in the rail)")
        close.clicked.connect(self.close_beside)
        self.side_close = close
        header = QHBoxLayout()
        header.setContentsMargins(8, 2, 2, 2)
        header.addWidget(self.side_title, 1)
        header.addWidget(close)
        side_layout = QVBoxLayout(self.side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(0)
        side_layout.addLayout(header)
        self.side.hide()

        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="pageSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.rail)
        layout.addWidget(self.splitter, 1)

    # ---- adding pages ---------------------------------------------------------------------
    def add_page(self, key: str, title: str, widget: QWidget | Callable[[], QWidget],
                 shortcut: str | None = None, *, tip: str = "", icon_name: str | None = None) -> QAction:
        """Add a page; returns its action (checkable, in the rail and the View menu).

        `widget` is the page, or a function that builds it the first time it is shown.
        `shortcut` defaults to Ctrl+<position in the rail>; the rail's order is STAGE_ORDER."""
        if key in self._pages:
            raise ValueError(f"a page {key!r} exists already")
        action = QAction(title, self, checkable=True)
        action.setObjectName(f"{key}PageAction")
        name = icon_name or f"page-{key}"
        action.setIcon(icon(name))
        action.setProperty("iconName", name)
        action.setToolTip(tip or f"{title} page")
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False, k=key: self.show_page(k))
        self.group.addAction(action)
        container = QScrollArea(objectName=f"{key}Page", widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        container.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the focus goes to the page's own fields
        page = Page(key, title, action, container, explicit_shortcut=shortcut is not None)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if isinstance(widget, QWidget):
            self._set_widget(page, widget)
        else:
            page.factory = widget
        self._pages[key] = page
        self._order.append(key)
        self._order.sort(key=_rank)
        position = self._order.index(key)
        self.stack.insertWidget(position, container)
        before = self._pages[self._order[position + 1]].action if position + 1 < len(self._order) else None
        self.rail.insertAction(before, action)
        button = self.rail.widgetForAction(action)
        button.setObjectName(f"{key}PageButton")
        button.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        button.customContextMenuRequested.connect(lambda pos, k=key, b=button: self._rail_menu(k, b.mapToGlobal(pos)))
        self._number_shortcuts()
        if not self._current:
            self.show_page(key)
        return action

    def _set_widget(self, page: Page, widget: QWidget) -> None:
        page.widget = widget
        page.container.setWidget(_PageFrame(widget, page.container))

    def _number_shortcuts(self) -> None:
        for position, key in enumerate(self._order, start=1):
            page = self._pages[key]
            if not page.explicit_shortcut:
                page.action.setShortcut(QKeySequence(f"Ctrl+{position}") if position <= 9 else QKeySequence())
            sequence = page.action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            tip = page.action.statusTip() or f"{page.title} page"
            page.action.setToolTip(f"{tip} ({sequence})" if sequence else tip)

    # ---- finding pages --------------------------------------------------------------------
    def keys(self) -> list[str]:
        """Page keys in rail order."""
        return list(self._order)

    def has_page(self, key: str) -> bool:
        return key in self._pages

    def page(self, key: str) -> QWidget:
        """The page's widget (built now if it is built on first show)."""
        page = self._pages[key]
        if page.widget is None and page.factory is not None:
            factory, page.factory = page.factory, None
            self._set_widget(page, factory())
        return page.widget

    def action(self, key: str) -> QAction:
        return self._pages[key].action

    def title(self, key: str) -> str:
        return self._pages[key].title

    @property
    def current_key(self) -> str:
        return self._current

    @property
    def beside_key(self) -> str:
        return self._beside

    def is_visible_page(self, key: str) -> bool:
        """Shown now, in the main area or beside it."""
        return key in (self._current, self._beside)

    # ---- showing pages --------------------------------------------------------------------
    def show_page(self, key: str) -> None:
        """Show a page in the main area (a page shown beside comes back to the main area)."""
        if key not in self._pages:
            raise KeyError(f"no page {key!r}; pages: {', '.join(self._order)}")
        if key == self._beside:
            self.close_beside()
        page = self._pages[key]
        self.page(key)
        page.action.setChecked(True)
        self.stack.setCurrentWidget(page.container)
        if key != self._current:
            self._previous, self._current = self._current, key
            self.current_changed.emit(key)

    def show_beside(self, key: str) -> None:
        """Show a page on the right of the current one, until closed or picked in the rail."""
        if key not in self._pages or key == self._beside:
            return
        if self._beside:
            self.close_beside()
        if key == self._current:  # it moves beside: the main area shows the page seen before
            others = [k for k in (self._previous, *self._order) if k and k != key]
            self.show_page(others[0])
        page = self._pages[key]
        self.page(key)
        self.stack.removeWidget(page.container)
        self.side.layout().addWidget(page.container, 1)
        page.container.show()
        self.side_title.setText(f"<b>{page.title}</b> beside")
        self._beside = key
        self._mark_beside(key, True)
        first_time = not self.side.isVisible()
        self.side.show()
        if first_time:
            total = max(self.splitter.width(), 800)
            side = int(total * SIDE_SHARE)
            self.splitter.setSizes([total - side, side])
        self.beside_changed.emit(key)

    def close_beside(self) -> None:
        """Put the page shown beside back in the main area's stack."""
        key, self._beside = self._beside, ""
        if not key:
            return
        page = self._pages[key]
        self.side.layout().removeWidget(page.container)
        self.stack.insertWidget(self._order.index(key), page.container)
        self.side.hide()
        self._mark_beside(key, False)
        self.stack.setCurrentWidget(self._pages[self._current].container)
        self.beside_changed.emit("")

    def _mark_beside(self, key: str, beside: bool) -> None:
        button = self.rail.widgetForAction(self._pages[key].action)
        if button is not None:
            button.setProperty("beside", beside)
            button.style().unpolish(button)
            button.style().polish(button)

    def _rail_menu(self, key: str, where) -> None:
        menu = QMenu(self)
        self.fill_beside_menu(menu, key)
        menu.popup(where)

    def fill_beside_menu(self, menu: QMenu, key: str | None = None) -> None:
        """Menu items to show a page (or each page, when key is None) beside the current one."""
        keys = [key] if key else [k for k in self._order if k != self._current]
        for k in keys:
            title = self._pages[k].title
            if k == self._beside:
                menu.addAction(f"Close {title} beside", self.close_beside)
            elif k == self._current:
                menu.addAction(f"Show {title} beside the page seen before", lambda k=k: self.show_beside(k))
            else:
                menu.addAction(f"Show {title} beside {self._pages[self._current].title}",
                               lambda k=k: self.show_beside(k))
        if key is None and self._beside:
            menu.addSeparator()
            menu.addAction("Close the page beside", self.close_beside)

    # ---- remembering ----------------------------------------------------------------------
    def save_state(self) -> dict:
        return {"current": self._current, "beside": self._beside,
                "splitter": self.splitter.saveState() if self._beside else QByteArray()}

    def restore_state(self, state: dict) -> None:
        current, beside = state.get("current") or "", state.get("beside") or ""
        if current in self._pages:
            self.show_page(current)
        if beside in self._pages and beside != self._current:
            self.show_beside(beside)
            splitter = state.get("splitter")
            if isinstance(splitter, QByteArray) and not splitter.isEmpty():
                self.splitter.restoreState(splitter)

    def refresh_icons(self) -> None:
        """After a theme change: icons are tinted with the palette's text colour."""
        for page in self._pages.values():
            page.action.setIcon(icon(page.action.property("iconName")))
        self.side_close.setIcon(icon("close"))


class _PageFrame(QWidget):
    """Gives its page the whole visible area, or the page's minimum size where that is larger
    (then the scroll area scrolls). Unlike a layout it does not pass on the page's
    height-for-width, which would make the scroll area scroll to reach the *preferred* height."""

    def __init__(self, page: QWidget, scroll: QScrollArea):
        super().__init__()
        self.page, self._scroll = page, scroll
        page.setParent(self)
        page.show()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        hint = self.page.minimumSizeHint()
        return hint.expandedTo(self.page.minimumSize()) if hint.isValid() else self.page.minimumSize()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return self.page.sizeHint()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.page.setGeometry(self.rect())

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # the page's minimum may have changed
            self.updateGeometry()
            QCoreApplication.sendEvent(self._scroll, QEvent(QEvent.Type.LayoutRequest))
        return super().event(event)


def _rank(key: str) -> int:
    return STAGE_ORDER.index(key) if key in STAGE_ORDER else len(STAGE_ORDER)
