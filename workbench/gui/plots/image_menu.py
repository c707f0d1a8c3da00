"""Right-click on any plot of the app: "Copy image" or "Save image…" (PNG or JPEG), for reports,
slides and teaching. The picture is the plot as it is shown (its size, theme, legend and marks).

pyqtgraph's own menu is off everywhere (its view-box options confused more than they helped), so
one application-wide event filter offers this menu on every pyqtgraph view instead of each plot
wiring its own.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QSettings
from PySide6.QtGui import QContextMenuEvent, QPixmap
from PySide6.QtWidgets import QApplication, QGraphicsItem, QMenu, QWidget

from workbench.gui.file_dialogs import save_file

__all__ = ["PlotImageMenu", "grab_plot", "install_plot_image_menu", "mark_transient", "plot_menu",
           "save_plot_image"]

SAVE_DIR_KEY = "plots/save_dir"
IMAGE_FILTERS = "PNG image (*.png);;JPEG image (*.jpg *.jpeg)"
TRANSIENT_KEY = 0x57B  # QGraphicsItem.data key: the item follows the mouse, not the data


def mark_transient(item: QGraphicsItem) -> None:
    """`item` is there for the mouse (a crosshair line): left out of copied and saved images."""
    QGraphicsItem.setData(item, TRANSIENT_KEY, True)


def grab_plot(view: QWidget) -> QPixmap:
    """What `view` shows, without the items that only follow the mouse (`mark_transient`): the
    crosshair was in the images of the plot a person right-clicked."""
    scene = view.scene() if isinstance(view, pg.GraphicsView) else None
    # (QGraphicsItem.data, not item.data: pyqtgraph's scatter items keep their points there)
    hidden = [item for item in (scene.items() if scene else [])
              if QGraphicsItem.data(item, TRANSIENT_KEY) and item.isVisible()]
    for item in hidden:
        item.setVisible(False)
    try:
        return view.grab()
    finally:
        for item in hidden:
            item.setVisible(True)


def save_plot_image(view: QWidget, path: str) -> str:
    """Write what `view` shows to `path` (.png unless it ends in .jpg/.jpeg); the path written."""
    target = Path(path)
    if target.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        target = target.with_suffix(".png")
    if not grab_plot(view).save(str(target)):
        raise OSError(f"could not write {target}")
    return str(target)


def plot_menu(view: QWidget) -> QMenu:
    """The menu offered on `view`: copy it to the clipboard or save it to a file."""
    menu = QMenu(view)
    menu.addAction("Copy image", lambda: QApplication.clipboard().setPixmap(grab_plot(view)))
    menu.addAction("Save image…", lambda: _ask_and_save(view))
    return menu


def _ask_and_save(view: QWidget) -> None:
    settings = QSettings()
    folder = Path(str(settings.value(SAVE_DIR_KEY, "") or Path.home()))
    name = view.objectName() or "plot"
    path = save_file(view, "Save the plot as an image", str(folder / f"{name}.png"), IMAGE_FILTERS)
    if not path:
        return
    try:
        written = save_plot_image(view, path)
    except OSError as exc:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.warning(view, "Image not saved", f"{exc}. Choose a folder you can write to.")
        return
    settings.setValue(SAVE_DIR_KEY, str(Path(written).parent))


class PlotImageMenu(QObject):
    """Application event filter: a context-menu request on a pyqtgraph view's viewport opens
    plot_menu for that view."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ContextMenu and isinstance(watched, QWidget):
            view = watched.parent()
            if isinstance(view, pg.GraphicsView) and isinstance(event, QContextMenuEvent):
                self.popup(view, event.globalPos())
                return True
        return False

    def popup(self, view: QWidget, where: QPoint) -> QMenu:
        """Show the menu for `view` at global position `where` (the menu deletes itself on close)."""
        menu = plot_menu(view)
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(where)
        return menu


def install_plot_image_menu(app: QApplication) -> PlotImageMenu:
    """Offer the image menu on every plot of `app` (once; later calls return the same filter)."""
    existing = app.findChild(PlotImageMenu)
    if existing is not None:
        return existing
    menu = PlotImageMenu(app)
    app.installEventFilter(menu)
    return menu
