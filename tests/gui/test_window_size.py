"""The window's size is the person's: maximised at the first launch on screens up to 1920x1080,
as it was left after that, and never changed by what a page shows (a long error, say)."""

from __future__ import annotations

from helpers import wait_ready
from PySide6.QtCore import QRect, QSettings
from PySide6.QtWidgets import QApplication


def test_first_launch_is_maximised_on_screens_up_to_1920x1080(qtbot, make_window):
    from workbench.gui.main_window import MainWindow

    assert MainWindow._maximise_on(QRect(0, 0, 1366, 768)) and MainWindow._maximise_on(QRect(0, 0, 1920, 1080))
    assert not MainWindow._maximise_on(QRect(0, 0, 2560, 1440))  # a big screen: a large window, not all of it
    window = make_window(show=False)
    assert QApplication.primaryScreen().availableGeometry().width() <= 1920
    window.show_first()
    qtbot.waitExposed(window)
    assert window.isMaximized()

    window.showNormal()
    window.resize(700, 500)
    window.save_settings()
    again = MainWindow(window.session, settings=QSettings())  # the next launch: as it was left
    again.show_first()
    qtbot.waitExposed(again)
    assert not again.isMaximized() and (again.width(), again.height()) == (700, 500)
    again.shutdown()
    again.close()


def test_a_long_load_error_never_resizes_the_window(qtbot, make_window, tmp_path):
    window = make_window()  # 1366x768, the smallest screen promised
    session = window.session
    wait_ready(qtbot, session)
    window.show_page("data")
    size = window.size()
    path = tmp_path / ("customers_exported_from_the_crm_" * 4 + ".csv")
    path.write_text("rooms,area,price\n" + "\n".join(f"{i % 5},{50 + i},{100 + 3 * i}" for i in range(40)) + "\n")
    session.edit({"data.source": str(path), "data.target": "the_column_that_is_not_in_this_file_" * 6})
    qtbot.waitUntil(lambda: window.data_panel.error_label.isVisible() and not session.is_loading)
    QApplication.processEvents()
    assert len(window.data_panel.error_label.text()) > 200  # a long message indeed
    assert window.size() == size
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768  # it still fits the smallest screen
