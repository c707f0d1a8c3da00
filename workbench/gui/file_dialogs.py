"""Every file dialog of the app: Open, Save, choose a folder. None of them ever opens a file.

Qt's file dialog guesses each listed file's type (for its icon and its Type column) by reading
the file. In a folder holding the run store that read runs.db, runs.db-wal and runs.db-shm in
the app's own process, and closing those reads silently dropped SQLite's locks on them (POSIX
advisory locks belong to the process and go with the first close of ANY descriptor on the file:
https://www.sqlite.org/howtocorrupt.html, 2.2). Another process then deleted the WAL the app was
still writing into, and runs were lost. So every dialog here is Qt's own (a platform's native
dialog may run in this process and sniff files too) with icons and types from the name alone.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileInfo
from PySide6.QtGui import QAbstractFileIconProvider, QIcon
from PySide6.QtWidgets import QFileDialog, QFileIconProvider, QWidget

__all__ = ["NameOnlyIconProvider", "make_file_dialog", "open_file", "open_folder", "save_file"]


class NameOnlyIconProvider(QFileIconProvider):
    """Icons and type names from what a file is called and whether it is a folder; never reads it."""

    def icon(self, what) -> QIcon:
        """The icon for an IconType, or for a file by whether it is a folder."""
        if isinstance(what, QFileInfo):
            kind = QAbstractFileIconProvider.IconType.Folder if what.isDir() else QAbstractFileIconProvider.IconType.File
            return super().icon(kind)
        return super().icon(what)

    def type(self, info: QFileInfo) -> str:
        """'Folder', 'CSV file', ... from the name's suffix."""
        if info.isDir():
            return "Folder"
        return f"{info.suffix().upper()} file" if info.suffix() else "File"


_provider: NameOnlyIconProvider | None = None  # one for the app: a dialog does not own its provider


def make_file_dialog(parent: QWidget | None, caption: str, start: str = "", filters: str = "", *,
                     mode: str = "open") -> QFileDialog:
    """A Qt file dialog that never opens the files it lists. `mode`: "open" (an existing file),
    "save" (a file name, asking before replacing one) or "folder" (an existing folder). `start`
    is a folder, or a file in it to select."""
    global _provider
    if _provider is None:
        _provider = NameOnlyIconProvider()
    dialog = QFileDialog(parent, caption)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setOption(QFileDialog.Option.DontUseCustomDirectoryIcons, True)
    dialog.setIconProvider(_provider)
    if mode == "folder":
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    elif mode == "save":
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    else:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    if filters:
        dialog.setNameFilters(filters.split(";;"))
    if start:
        place = Path(start).expanduser()
        if place.is_dir():
            dialog.setDirectory(str(place))
        else:
            dialog.setDirectory(str(place.parent))
            dialog.selectFile(place.name)
    return dialog


def _ask(dialog: QFileDialog) -> str | None:
    try:
        if dialog.exec() != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
            return None
        return dialog.selectedFiles()[0]
    finally:
        dialog.deleteLater()


def open_file(parent: QWidget | None, caption: str, start: str = "", filters: str = "") -> str | None:
    """The existing file a person picked, or None when they cancelled."""
    return _ask(make_file_dialog(parent, caption, start, filters, mode="open"))


def save_file(parent: QWidget | None, caption: str, suggested: str = "", filters: str = "") -> str | None:
    """The file name a person chose to save to (replacing a file only after asking), or None."""
    return _ask(make_file_dialog(parent, caption, suggested, filters, mode="save"))


def open_folder(parent: QWidget | None, caption: str, start: str = "") -> str | None:
    """The existing folder a person picked, or None."""
    return _ask(make_file_dialog(parent, caption, start, mode="folder"))
