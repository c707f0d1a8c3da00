"""File dialogs never open the files they list: the run store's locks survive browsing its folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QFileSystemModel

REPO = Path(__file__).resolve().parents[2]


def _look_through(qtbot, dialog: QFileDialog, folder: Path) -> None:
    """Go to `folder`, list all files, and show every entry's icon and type, as the dialog's view
    does when painting."""
    dialog.setDirectory(str(folder))
    dialog.selectNameFilter("All files (*)")
    model = dialog.findChild(QFileSystemModel)
    root = lambda: model.index(str(folder))  # noqa: E731
    qtbot.waitUntil(lambda: model.rowCount(root()) >= 3)
    for row in range(model.rowCount(root())):
        for column in range(model.columnCount(QModelIndex())):
            index = model.index(row, column, root())
            model.data(index, Qt.ItemDataRole.DecorationRole)
            model.data(index, Qt.ItemDataRole.DisplayRole)


def test_browsing_the_run_store_folder_keeps_its_locks(qtbot, make_window, tmp_path, tiny_spec):
    from workbench.core.runs import RunStore

    path = Path(os.environ["WORKBENCH_STORE"])
    app_store = RunStore(path)  # the app's own connection, as the runs page holds one
    run_id = app_store.create_run(tiny_spec, name="kept")
    window = make_window()
    from workbench.gui.panels.data_panel import DataPanel

    data_panel = window.findChild(DataPanel)
    outcome = {}

    def browse_then_cancel():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(20, browse_then_cancel)
            return
        try:
            _look_through(qtbot, dialog, path.parent)
            # another process (the CLI, a run's child) writes and closes its connection
            code = (f"from workbench.core.runs import RunStore\ns = RunStore({str(path)!r})\n"
                    f"s.rename({run_id}, 'renamed elsewhere')\ns.close()\n")
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
            outcome["wal_kept"] = Path(f"{path}-wal").exists()
        finally:
            dialog.reject()

    QTimer.singleShot(0, browse_then_cancel)
    qtbot.mouseClick(data_panel.open_file_button, Qt.MouseButton.LeftButton)
    assert outcome["wal_kept"], "the other process believed itself the last user and deleted the WAL"
    assert app_store.reconnects == 0
    assert app_store.get_run(run_id).name == "renamed elsewhere"
    app_store.close()
