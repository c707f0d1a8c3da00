"""Columns of the runs table: widths that never clip a header, and a header menu to show or
hide columns (remembered), so the columns a person cares about fit without scrolling sideways."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QHeaderView, QMenu, QTableView

HIDDEN_KEY = "runs/hidden_columns"
HEADER_PADDING = 26  # px: the section's padding and the sort arrow


def fit_widths(table: QTableView, widths: dict[str, int], columns: dict[str, int]) -> None:
    """Each column at its width, or wider where its header text needs it."""
    header = table.horizontalHeader()
    metrics = header.fontMetrics()
    for name, width in widths.items():
        header.resizeSection(columns[name], max(width, metrics.horizontalAdvance(name) + HEADER_PADDING))


def spread_spare_width(table: QTableView, widths: dict[str, int], columns: dict[str, int],
                       grow: dict[str, float], keep_last: int = 120) -> None:
    """A wide table gives its room to the columns that clip first (names, models), not all to
    the last one: each column in `grow` gets its share of the width beyond `widths` (leaving
    `keep_last` px to the last column). Never narrower than `widths`."""
    header = table.horizontalHeader()
    metrics = header.fontMetrics()
    base = {name: max(w, metrics.horizontalAdvance(name) + HEADER_PADDING) for name, w in widths.items()}
    shown = [name for name in widths if not header.isSectionHidden(columns[name])]
    spare = table.viewport().width() - sum(base[name] for name in shown) - keep_last
    for name, share in grow.items():
        if name in shown:
            header.resizeSection(columns[name], base[name] + max(0, int(spare * share)))


def install_column_menu(table: QTableView, columns: dict[str, int], default_hidden: tuple[str, ...] = (),
                        settings: QSettings | None = None) -> None:
    """Right-click on the header: a checkable list of the columns. Hidden columns are remembered."""
    header: QHeaderView = table.horizontalHeader()
    settings = settings or QSettings()
    saved = settings.value(HIDDEN_KEY)
    hidden = set(saved if isinstance(saved, list) else ([saved] if isinstance(saved, str) and saved else
                                                         default_hidden if saved is None else []))
    for name, index in columns.items():
        header.setSectionHidden(index, name in hidden and name not in ("#", "Name"))

    def toggle(name: str, shown: bool) -> None:
        header.setSectionHidden(columns[name], not shown)
        settings.setValue(HIDDEN_KEY, [n for n, i in columns.items() if header.isSectionHidden(i)] or "")

    def menu(pos) -> None:
        popup = QMenu(header)
        for name, index in columns.items():
            action = popup.addAction(name)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(index))
            action.setEnabled(name not in ("#", "Name"))
            action.toggled.connect(lambda shown, n=name: toggle(n, shown))
        popup.popup(header.mapToGlobal(pos))

    header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    header.customContextMenuRequested.connect(menu)
    header.setToolTip("Right-click to choose the columns")
