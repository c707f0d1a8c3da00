"""The questions the window asks: file dialogs and yes/no boxes, in one place.

Buttons carry object names ("saveButton", "discardButton", "stopButton" ...) so tests can
click them like a person would.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from workbench.gui.file_dialogs import open_file, save_file

PROJECT_FILTER = "Workbench projects (*.json);;All files (*)"
DATA_FILTER = "Data (*.csv *.tsv *.txt *.npy *.npz);;All files (*)"


def ask_open_project(parent: QWidget, start_dir: str = "") -> str | None:
    return open_file(parent, "Open project", start_dir, PROJECT_FILTER)


def ask_save_project(parent: QWidget, suggested: str) -> str | None:
    path = save_file(parent, "Save project as", suggested, PROJECT_FILTER)
    if not path:
        return None
    if not Path(path).suffix:
        path += ".json"
    return path


def ask_open_data(parent: QWidget, start_dir: str = "") -> str | None:
    return open_file(parent, "Open data file", start_dir, DATA_FILTER)


def ask_unsaved(parent: QWidget, name: str) -> str:
    """'save' | 'discard' | 'cancel'."""
    box = QMessageBox(parent)
    box.setObjectName("unsavedBox")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to “{name}”?")
    box.setInformativeText("Your changes are lost if you don't save them.")
    save = box.addButton("Save", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Don't save", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    save.setObjectName("saveButton")
    discard.setObjectName("discardButton")
    cancel.setObjectName("cancelButton")
    box.setDefaultButton(save)
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    return {save: "save", discard: "discard"}.get(clicked, "cancel")


def ask_stop_run(parent: QWidget, unsaved: str | None = None) -> str:
    """Closing during a run, one question for everything: 'stop' | 'keep', or with `unsaved`
    (the project's name, when it has unsaved changes) 'save' (save, then stop) | 'discard' |
    'keep'."""
    box = QMessageBox(parent)
    box.setObjectName("stopRunBox")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("A run is going")
    kept = "Every epoch that finished is kept in the run history."
    if unsaved is None:
        box.setText("A run is still training. Stop it and close Workbench?")
        box.setInformativeText(kept + " The run is paused while you decide.")
        buttons = {"stop": box.addButton("Stop and close", QMessageBox.ButtonRole.AcceptRole)}
        buttons["stop"].setObjectName("stopButton")
    else:
        box.setText(f"A run is still training, and “{unsaved}” has unsaved changes. Stop the run and close "
                    "Workbench?")
        box.setInformativeText(kept + " The run is paused while you decide.")
        buttons = {"save": box.addButton("Save, stop and close", QMessageBox.ButtonRole.AcceptRole),
                   "discard": box.addButton("Stop without saving", QMessageBox.ButtonRole.DestructiveRole)}
        buttons["save"].setObjectName("saveButton")
        buttons["discard"].setObjectName("discardButton")
    buttons["keep"] = box.addButton("Keep training", QMessageBox.ButtonRole.RejectRole)
    buttons["keep"].setObjectName("keepButton")
    box.setDefaultButton(buttons["keep"])
    box.setEscapeButton(buttons["keep"])
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    return next((answer for answer, button in buttons.items() if button is clicked), "keep")


def show_error(parent: QWidget, title: str, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorBox")
    box.open()  # not blocking: the window stays usable
