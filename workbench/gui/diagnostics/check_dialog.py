"""The pre-flight check dialog ("Check" beside Train): each check appears as it finishes, with
pass / warn / fail, its time, and the message with the fix. Nothing here changes the spec."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from workbench.core.spec import experiment_name
from workbench.gui.diagnostics.task import DiagnosticTask
from workbench.gui.wording import for_the_app

STATUS_STYLE = {  # status -> (word, colour)
    "pass": ("PASS", "#2e7d32"),
    "warn": ("WARN", "#e65100"),
    "fail": ("FAIL", "#c62828"),
}


def _run_checks(spec, dataset, base_dir, report):
    """On the worker thread: prepare the session's loaded dataset and stream the results."""
    from workbench.core.data import prepare
    from workbench.core.diagnostics import preflight

    data = prepare(dataset, spec.data) if dataset is not None else None
    results = []
    for result in preflight(spec, data=data, base_dir=base_dir):
        results.append(result)
        if report(result) is False:
            break
    return results


class CheckRow(QFrame):
    """One check: a coloured status word, the title and time, the message under them."""

    def __init__(self, result, parent: QWidget | None = None):
        super().__init__(parent)
        self.result = result
        word, color = STATUS_STYLE[result.status]
        self.setObjectName(f"check_{result.check}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(f"#check_{result.check} {{ border-left: 4px solid {color}; }}")
        head = QHBoxLayout()
        status = QLabel(f"<b style='color:{color}'>{word}</b>")
        status.setObjectName("status")
        title = QLabel(f"<b>{result.title}</b>")
        seconds = QLabel(f"{result.seconds:.2f} s")
        seconds.setEnabled(False)
        head.addWidget(status)
        head.addWidget(title, 1)
        self.find_lr_button = None
        if result.status != "pass" and "Find LR" in result.message:  # the fix is one click away
            self.find_lr_button = QPushButton("Find LR…", objectName="rowFindLr")
            self.find_lr_button.setToolTip("Run the learning-rate range test on this spec")
            head.addWidget(self.find_lr_button)
        head.addWidget(seconds)
        self.message = QLabel(for_the_app(result.message))
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col = QVBoxLayout(self)
        col.setContentsMargins(8, 4, 8, 6)
        col.setSpacing(2)
        col.addLayout(head)
        col.addWidget(self.message)


class CheckDialog(QDialog):
    """Runs the pre-flight check of the session's spec on open (`start()`); `results` holds
    the CheckResults so far. A row whose fix is the LR finder gets a button for it
    (`find_lr_requested`)."""

    find_lr_requested = Signal()

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("checkDialog")
        self.setWindowTitle("Pre-flight check")
        self.session = session
        self.results: list = []
        self.rows: dict[str, CheckRow] = {}
        self.task = DiagnosticTask("check", self)
        self.task.progress.connect(self._on_result)
        self._t0 = 0.0
        self._checked_name = ""

        self.header = QLabel(objectName="checkHeader")
        self.header.setWordWrap(True)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(2, 2, 2, 2)
        self.body_layout.setSpacing(6)
        self.body_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        self.summary = QLabel(objectName="checkSummary")
        self.summary.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.again_button = QPushButton("Check again", objectName="checkAgain")
        buttons.addButton(self.again_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.again_button.clicked.connect(self.start)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(self.header)
        col.addWidget(scroll, 1)
        col.addWidget(self.summary)
        col.addWidget(buttons)
        self.resize(720, 640)

    @property
    def running(self) -> bool:
        return self.task.running

    @Slot()
    def start(self) -> None:
        """Run the pre-flight check on the session's current spec (off the GUI thread), each row as it
        finishes."""
        for row in self.rows.values():
            self.body_layout.removeWidget(row)
            row.deleteLater()
        self.rows.clear()
        self.results = []
        spec = self.session.spec
        name = experiment_name(spec, self.session.meta)
        self._checked_name = name  # (the spec may be edited while the check runs)
        self.header.setText(f"Checking <b>{name}</b> on its data and a fresh copy of its model "
                            "(the weights a run would start from)…")
        self.summary.setText("Running…")
        self.again_button.setEnabled(False)
        self._t0 = time.perf_counter()
        self.task.run(lambda report: _run_checks(spec, self.session.dataset, self.session.base_dir, report),
                      on_done=self._on_done, on_error=self._on_error)

    @Slot(object)
    def _on_result(self, item) -> None:
        if not self.task.accepts(item):
            return
        result = item[1]
        self.results.append(result)
        row = CheckRow(result, self.body)
        if row.find_lr_button is not None:
            row.find_lr_button.clicked.connect(self.find_lr_requested)
        self.rows[result.check] = row
        self.body_layout.insertWidget(self.body_layout.count() - 1, row)
        self.summary.setText(f"{len(self.results)} done, running…")

    def _on_done(self, results) -> None:
        self.again_button.setEnabled(True)
        counts = {s: sum(r.status == s for r in self.results) for s in STATUS_STYLE}
        spent = time.perf_counter() - self._t0
        self.header.setText(f"Pre-flight check of <b>{self._checked_name}</b>")
        self.summary.setText(f"{len(self.results)} checks: {counts['pass']} passed, {counts['warn']} "
                             f"warning{'s' if counts['warn'] != 1 else ''}, {counts['fail']} failed "
                             f"in {spent:.1f} s")

    def _on_error(self, err: BaseException, details: str) -> None:
        self.again_button.setEnabled(True)
        self.summary.setText(f"The check could not run: {err}")
        self.summary.setToolTip(details)

    def done(self, code: int) -> None:  # closing cancels a check in progress
        self.task.cancel()
        super().done(code)

    def shutdown(self, wait: bool = True) -> None:
        self.task.shutdown(wait)
