"""Warnings the core logs (e.g. the run store reconnecting after its file locks were lost) shown
in the window's status bar, not only on a terminal nobody watches."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

__all__ = ["StatusLog"]


class StatusLog(QObject):
    """A logging handler's Qt end: `message` carries each WARNING (or worse) that `logger_name`
    logs, from whatever thread logged it (queued to the receiver's thread). `close()` detaches."""

    message = Signal(str)

    def __init__(self, parent: QObject | None = None, logger_name: str = "workbench"):
        super().__init__(parent)
        self._logger = logging.getLogger(logger_name)
        self._handler = _Forward(self)
        self._handler.setLevel(logging.WARNING)
        self._logger.addHandler(self._handler)

    def close(self) -> None:
        self._logger.removeHandler(self._handler)


class _Forward(logging.Handler):
    def __init__(self, target: StatusLog):
        super().__init__()
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.target.message.emit(record.getMessage())
        except RuntimeError:  # the window is gone while a thread still logs
            pass
        except Exception:  # (a bad format string: logging's own report, never the caller's error)
            self.handleError(record)
