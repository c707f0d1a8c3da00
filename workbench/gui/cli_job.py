"""A `workbench` command (export, compress) run as a child process for the app.

Exports and compression take seconds to a minute and are CPU-heavy (tracing, quantising,
timing): in a child process they never hold the window's interpreter lock, their latency
figures are not disturbed by the window, and Cancel can end them at once. The command's
`--json` lines (stdout) are the result; its progress lines (stderr) are shown as they come.
"""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

STDERR_TAIL = 4000  # characters of the child's stderr kept for the error message


class CliJob(QObject):
    """One command at a time: `start(args)`; `progress(text)` per stderr line; `finished(objects,
    code, error_text)` once, with the JSON objects the command printed."""

    progress = Signal(str)
    finished = Signal(list, int, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.process: QProcess | None = None
        self._stdout = b""
        self._stderr = ""
        self._cancelled = False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, args: list[str]) -> None:
        if self.running:
            raise RuntimeError("a command is already running")
        self._stdout, self._stderr, self._cancelled = b"", "", False
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        # leave the window a core; the command's own timings run on one thread anyway
        env.insert("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 2) - 1)))
        env.insert("PYTHONPATH", os.pathsep.join(p for p in sys.path if p))  # this same Workbench
        process.setProcessEnvironment(env)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        self.process = process
        process.start(sys.executable, ["-m", "workbench", *args])

    def cancel(self) -> None:
        if self.running:
            self._cancelled = True
            self.process.kill()

    def _read_stdout(self) -> None:
        self._stdout += bytes(self.process.readAllStandardOutput())

    def _read_stderr(self) -> None:
        text = bytes(self.process.readAllStandardError()).decode("utf-8", "replace")
        self._stderr = (self._stderr + text)[-STDERR_TAIL:]
        for line in text.splitlines():
            if line.strip():
                self.progress.emit(line.strip().rstrip(".").strip())

    def _error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._done([], -1, f"could not start {sys.executable} -m workbench")

    def _finished(self, code: int, _status) -> None:
        self._read_stdout()
        objects = []
        for line in self._stdout.decode("utf-8", "replace").splitlines():
            if line.startswith("{"):
                try:
                    objects.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        error = "cancelled" if self._cancelled else "" if code == 0 else self._stderr.strip()
        self._done(objects, code, error)

    def _done(self, objects: list, code: int, error: str) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.deleteLater()
        self.finished.emit(objects, code, error)
