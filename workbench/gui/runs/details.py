"""The selected run's details: tags and notes (saved as they are edited), its checkpoints, its
parent, and the Load settings / Resume / Branch buttons."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from workbench.core.catalog import baseline_note
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton,
                               QVBoxLayout, QWidget)


WARNING_COLOR = "#c0392b"


def result_html(metrics: dict) -> str:
    """'test accuracy 29.3%' and, when a classifier is no better than always guessing the most
    common class, that warning in red (rich text for a QLabel)."""
    if not metrics:
        return "—"
    parts = []
    for key in ("test_accuracy", "val_accuracy", "test_r2", "val_r2", "test_loss", "val_loss"):
        value = metrics.get(key)
        if isinstance(value, (int, float)):
            split, name = key.split("_", 1)
            shown = f"{value:.1%}" if name == "accuracy" else f"{value:.4g}"
            parts.append(f"{'validation' if split == 'val' else split} {'R²' if name == 'r2' else name} {shown}")
            break
    note = baseline_note(metrics, short=True)
    if note:
        parts.append(f"<span style='color:{WARNING_COLOR}'>⚠ {html.escape(note)}</span>")
    return "<br>".join(parts) or "—"


class RunDetails(QWidget):
    tags_edited = Signal(int, list)
    notes_edited = Signal(int, str)
    resume_clicked = Signal(int)
    branch_clicked = Signal(int)
    load_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._run_id: int | None = None
        self.title = QLabel("Select a run", objectName="runTitle")
        self.title.setWordWrap(True)
        self.tags = QLineEdit(objectName="runTags", placeholderText="tags, comma separated")
        self.notes = QPlainTextEdit(objectName="runNotes", placeholderText="Notes about this run…")
        self.notes.setTabChangesFocus(True)
        self.checkpoints = QLabel(objectName="runCheckpoints")
        self.checkpoints.setWordWrap(True)
        self.checkpoints.setTextInteractionFlags(self.checkpoints.textInteractionFlags()
                                                 | self.checkpoints.textInteractionFlags().TextSelectableByMouse)
        self.parent_label = QLabel(objectName="runParent")
        self.result = QLabel(objectName="runResult")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.resume_button = QPushButton("Resume", objectName="resumeButton")
        self.resume_button.setToolTip("Continue this stopped run from its last checkpoint, as a child run")
        self.load_button = QPushButton("Load settings", objectName="loadSettingsButton")
        self.load_button.setToolTip("Put this run's settings (data, model, training) in the editor; Undo puts "
                                    "yours back")
        self.branch_button = QPushButton("Branch…", objectName="branchButton")
        self.branch_button.setToolTip("Load this run's settings to change them; the next Train continues "
                                      "from its checkpoint as a child run")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Result", self.result)
        form.addRow("Tags", self.tags)
        form.addRow("Notes", self.notes)
        form.addRow("Checkpoints", self.checkpoints)
        form.addRow("Parent", self.parent_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.branch_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(form, 1)
        layout.addLayout(buttons)
        self._notes_timer = QTimer(self, singleShot=True, interval=600)
        self._notes_timer.timeout.connect(self._save_notes)
        self.notes.textChanged.connect(lambda: self._run_id is not None and self._notes_timer.start())
        self.tags.editingFinished.connect(self._save_tags)
        self.resume_button.clicked.connect(lambda: self._run_id is not None and self.resume_clicked.emit(self._run_id))
        self.branch_button.clicked.connect(lambda: self._run_id is not None and self.branch_clicked.emit(self._run_id))
        self.load_button.clicked.connect(lambda: self._run_id is not None and self.load_clicked.emit(self._run_id))
        self.show_run(None)

    @property
    def run_id(self) -> int | None:
        return self._run_id

    def show_run(self, record, checkpoints: dict[str, str] | None = None) -> None:
        self.flush()
        self._run_id = record.id if record is not None else None
        enabled = record is not None
        for w in (self.tags, self.notes):
            w.setEnabled(enabled)
        self.notes.blockSignals(True)
        self.notes.setPlainText(record.notes if record else "")
        self.notes.blockSignals(False)
        self.tags.setText(", ".join(record.tags) if record else "")
        self._show_title(record)
        self.parent_label.setText(f"#{record.parent_id}" if record and record.parent_id is not None else "—")
        self.result.setText(result_html(record.metrics) if record else "—")
        self.set_checkpoints(checkpoints or {})
        self.resume_button.setEnabled(bool(record) and record.status in ("stopped", "interrupted", "failed"))
        self.branch_button.setEnabled(bool(record) and record.status != "failed")
        self.load_button.setEnabled(bool(record))

    def _show_title(self, record) -> None:
        self.title.setText(f"<b>#{record.id} {html.escape(record.name)}</b> · {record.status}" if record
                           else "Select a run")

    def renamed(self, record) -> None:
        """The run shown here was renamed (in the table): show its new name."""
        if record is not None and record.id == self._run_id:
            self._show_title(record)

    def set_checkpoints(self, found: dict[str, str]) -> None:
        if not found:
            self.checkpoints.setText("none")
            self.checkpoints.setToolTip("")
            return
        self.checkpoints.setText("  ".join(f"{k}: {Path(p).name}" for k, p in sorted(found.items())))
        self.checkpoints.setToolTip("\n".join(f"{k}: {p}" for k, p in sorted(found.items())))

    def flush(self) -> None:
        """Save notes still waiting for the typing pause."""
        if self._notes_timer.isActive():
            self._notes_timer.stop()
            self._save_notes()

    def _save_notes(self) -> None:
        if self._run_id is not None:
            self.notes_edited.emit(self._run_id, self.notes.toPlainText())

    def _save_tags(self) -> None:
        if self._run_id is not None:
            tags = [t.strip() for t in self.tags.text().split(",") if t.strip()]
            self.tags_edited.emit(self._run_id, list(dict.fromkeys(tags)))
