"""Asking before "Use best" replaces the settings: the best trial, and exactly which settings
would change (named as the pages name them), with Use these settings / Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from workbench.core.sweep import trial_label
from workbench.gui.widgets.spec_diff import SpecDiffView


class UseBestDialog(QDialog):
    def __init__(self, current, best, trial: dict, metric: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("useBestDialog")
        self.setWindowTitle("Use the best trial's settings?")
        value = trial.get("value")
        shown = f" ({metric} {value:.4g})" if isinstance(value, (int, float)) else ""
        self.diff = SpecDiffView()
        self.diff.set_specs(current, best, "Now", f"Trial #{trial_label(trial.get('number', trial.get('id')))}")
        self.diff.only_differences.setChecked(True)
        n = len(self.diff.differing_paths())
        what = (f"These {n} settings change" if n != 1 else "This setting changes") if n else "Nothing changes"
        self.intro = QLabel(f"The best trial is #{trial_label(trial.get('number', trial.get('id')))}{shown}. {what}; "
                            "Edit ▸ Undo brings yours back.")
        self.intro.setWordWrap(True)
        buttons = QDialogButtonBox()
        use = buttons.addButton("Use these settings", QDialogButtonBox.ButtonRole.AcceptRole)
        use.setObjectName("useBestConfirm")
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("useBestCancel")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.diff, 1)
        layout.addWidget(buttons)
        self.resize(640, 360)


def confirm_use_best(parent: QWidget, current, best, trial: dict, metric: str) -> bool:
    """True when the person agrees to replace `current` with `best`."""
    dialog = UseBestDialog(current, best, trial, metric, parent)
    try:
        return dialog.exec() == QDialog.DialogCode.Accepted
    finally:
        dialog.deleteLater()
