"""Fine-tuning settings on the Train page: what the next run starts from (fresh weights, a run's
weights, or a weights file), whether the last layer gets a new head, and the epoch at which
locked layers are unlocked (with the learning-rate factor then). Layers are locked in the
model stack (its Lock column).

Before a run, the box says which layers the weights will fill ("Next run: loaded 4 of 5 layers
...; Layer 5 (Linear) re-initialised: 10 → 5 classes"), worked out off the GUI thread whenever
the weights, the model or the data change, or why they cannot be used; once a run has started,
what it did. Weights that fitted the data and model they were chosen with, and no longer fit
after the data or the model changed, are let go (a Fresh start, one Undo away) with a note
saying why: a run never starts from weights made for other data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from workbench.core.spec import FineTuneSpec
from workbench.core.training import RunStarted
from workbench.gui.background import BackgroundCalls
from workbench.gui.file_dialogs import open_file
from workbench.gui.wording import for_the_app


class FineTuneBox(QGroupBox):
    def __init__(self, session: Any, parent: QWidget | None = None):
        super().__init__("Fine-tuning", parent)
        self.setObjectName("fineTuneBox")
        self.session = session
        self.source_label = QLabel(objectName="fineTuneSource", wordWrap=True)
        choose = QPushButton("Weights file…", objectName="fineTuneChoose")
        choose.setToolTip("Start from a .safetensors file (or a Workbench checkpoint .pt). The Export page starts "
                          "from a run's weights.")
        choose.clicked.connect(self._choose)
        self.clear_button = QPushButton("Fresh start", objectName="fineTuneClear")
        self.clear_button.setToolTip("Start from freshly initialised weights again")
        self.clear_button.clicked.connect(lambda: self._edit(None))
        self.reset_head = QCheckBox("New head (start the last layer afresh)", objectName="fineTuneResetHead")
        self.reset_head.setToolTip("For a new task: the output layer is initialised anew even when its shape fits")
        self.reset_head.toggled.connect(lambda on: self._edit_field("reset_head", bool(on)))
        self.unfreeze = QSpinBox(objectName="fineTuneUnfreeze", minimum=0, maximum=100_000, specialValueText="never")
        self.unfreeze.setToolTip("From this epoch on, locked layers train too (fastai's fine_tune: the new head first, "
                                 "then everything at a lower rate)")
        self.factor = QDoubleSpinBox(objectName="fineTuneFactor", decimals=3, minimum=0.001, maximum=1.0,
                                     singleStep=0.05, prefix="× ")
        self.factor.setToolTip("Every learning rate is multiplied by this when the layers are unlocked")
        self.unfreeze.valueChanged.connect(lambda v: self._edit_field("unfreeze_epoch", int(v) or None))
        self.factor.valueChanged.connect(lambda v: self._edit_field("unfreeze_lr_factor", float(v)))
        self.message = QLabel(objectName="fineTuneMessage", wordWrap=True)
        self.message.setStyleSheet("QLabel { color: #d93025; }")
        self.message.hide()
        # what the last run's start did with the weights ("loaded 4 of 5 layers from run #3 ...;
        # Layer 5 (Linear) re-initialised: 10 → 5 classes"), as the command line prints it
        self.report = QLabel(objectName="fineTuneReport", wordWrap=True)
        self.report.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        self.report.hide()
        self._checks = BackgroundCalls("finetune-check", self)
        self._checked: tuple | None = None  # what the preview in `report` was worked out for
        self._fitted: str | None = None  # the init_from that last fitted the data and model

        top = QHBoxLayout()
        top.addWidget(self.source_label, 1)
        top.addWidget(choose)
        top.addWidget(self.clear_button)
        unlock = QHBoxLayout()
        unlock.addWidget(QLabel("Unlock layers at epoch"))
        unlock.addWidget(self.unfreeze)
        unlock.addWidget(QLabel("then rates"))
        unlock.addWidget(self.factor)
        unlock.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.reset_head)
        layout.addLayout(unlock)
        layout.addWidget(self.message)
        layout.addWidget(self.report)
        session.spec_changed.connect(self.show_spec)
        session.run_event.connect(self._on_run_event)
        session.summary_changed.connect(lambda _summary: self._preview())  # data, model or engine changed
        self.show_spec(session.spec)

    def show_spec(self, spec: Any) -> None:
        ft = spec.finetune
        frozen = [i + 1 for i, layer in enumerate(spec.model.layers) if layer.frozen]
        if ft is not None and ft.init_from:
            source = f"run #{ft.init_run} ({Path(ft.init_from).name})" if ft.init_run else Path(ft.init_from).name
            text = f"Starts from <b>{source}</b>: layers whose shapes match are loaded."
        else:
            text = "Starts from fresh weights."
        if frozen:
            text += f" Locked in the model stack: layer{'s' if len(frozen) > 1 else ''} " + ", ".join(map(str, frozen))
        self.source_label.setText(text)
        if not (ft is not None and ft.init_from) and self.report.text().startswith("Next run"):
            self._checked = None
            self._show_report("")
        self.source_label.setToolTip(ft.init_from if ft is not None and ft.init_from else "")
        self.clear_button.setEnabled(ft is not None and bool(ft.init_from))
        for widget, value in ((self.reset_head, ft.reset_head if ft is not None else True),
                              (self.unfreeze, (ft.unfreeze_epoch or 0) if ft is not None else 0),
                              (self.factor, ft.unfreeze_lr_factor if ft is not None else 0.1)):
            widget.blockSignals(True)
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            else:
                widget.setValue(value)
            widget.blockSignals(False)
        self.unfreeze.setEnabled(bool(frozen))
        self.factor.setEnabled(bool(frozen))

    def _on_run_event(self, event: Any) -> None:
        if isinstance(event, RunStarted):
            self._checked = None
            self._show_report("Last run: " + "; ".join(event.notes) if event.notes else "")

    def _show_report(self, text: str) -> None:
        self.report.setText(text)
        self.report.setVisible(bool(text))

    def _preview(self) -> None:
        """Work out (in the background) what the next run will load from finetune.init_from."""
        session = self.session
        spec, meta = session.spec, session.meta
        ft = spec.finetune
        if ft is None or not ft.init_from or meta is None or session.summary is None or session.is_running:
            return
        # session.meta is made anew per call when data.classes is set: key on the dataset and the classes
        key = (ft.model_dump_json(), spec.model.model_dump_json(), id(session.dataset), tuple(spec.data.classes or ()),
               str(session.base_dir))
        if key == self._checked:
            return
        self._checked = key

        def check() -> list[str]:
            from workbench.core.training import check_initial_weights

            return check_initial_weights(spec, meta, session.base_dir)

        def done(notes: list[str]) -> None:
            if self._checked == key:
                self._fitted = ft.init_from
                self._show_error("")
                self._show_report("Next run: " + "; ".join(notes) if notes else "")

        def failed(exc: BaseException, _details: str) -> None:
            if self._checked != key:
                return
            self._show_report("")
            current = self.session.spec.finetune
            if self._fitted == ft.init_from and current is not None and current.init_from == ft.init_from:
                self._fitted = None  # they fitted before this data or model: let them go
                self._edit({**current.model_dump(), "init_from": None, "init_run": None})
                why = for_the_app(str(exc).removeprefix("finetune.init_from: ").split(". Start from")[0])
                self._show_error(f"The next run starts from fresh weights: the data or the model changed and {why}. "
                                 "Choose weights again (Weights file…, or a run on the Export page) to fine-tune.")
            else:
                self._show_error(for_the_app(str(exc)))

        self._checks.submit(check, on_done=done, on_error=failed)

    def _show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _current(self) -> dict:
        ft = self.session.spec.finetune
        return ft.model_dump() if ft is not None else {}

    def _edit_field(self, key: str, value: Any) -> None:
        self._edit({**self._current(), key: value})

    def _edit(self, finetune: dict | None) -> None:
        if finetune is not None and finetune == FineTuneSpec().model_dump():
            finetune = None  # nothing but defaults: no fine-tuning section in the spec
        error = self.session.edit({"finetune": finetune}, text="Fine-tuning")
        self._show_error(error or "")
        if error:
            self.show_spec(self.session.spec)

    def _choose(self) -> None:
        path = open_file(self, "Start from weights", "", "Weights (*.safetensors *.pt *.pth);;All files (*)")
        if path:
            self._edit({**self._current(), "init_from": path, "init_run": None})
