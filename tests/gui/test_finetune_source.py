"""The fine-tuning source follows the data and the model: weights chosen for one dataset are let
go, with a note, when the data changes so that they no longer fit; a run never starts from them."""

from __future__ import annotations

import json
import os

from PySide6.QtCore import Qt

from tests.gui.conftest import TINY_SPEC
from tests.gui.helpers import choose, wait_ready
from workbench.core.training import RunStarted


def test_changing_the_data_lets_go_of_weights_that_no_longer_fit(qtbot, make_window, tmp_path):
    from workbench.cli import main

    source = {**TINY_SPEC, "train": {**TINY_SPEC["train"], "checkpoint": True}}  # spiral: 2 inputs
    (tmp_path / "source.json").write_text(json.dumps(source))
    assert main(["train", str(tmp_path / "source.json"), "-q", "--store", os.environ["WORKBENCH_STORE"]]) == 0
    window = make_window()
    session, box = window.session, window.training_panel.finetune
    wait_ready(qtbot, session)
    window.pages.show_page("export")
    page = window.pages.page("export")
    qtbot.waitUntil(lambda: page.run_combo.count() > 0)
    qtbot.mouseClick(page.finetune_button, Qt.MouseButton.LeftButton)  # start from run #1's weights
    qtbot.waitUntil(lambda: box.report.text().startswith("Next run: loaded"))

    window.pages.show_page("data")
    combo = window.data_panel.sample_combo
    choose(qtbot, combo, combo.itemText(combo.findData("iris")))  # 4 inputs: run #1's weights no longer fit
    qtbot.waitUntil(lambda: session.spec.finetune is None or session.spec.finetune.init_from is None)
    window.pages.show_page("train")  # where the person sees the Fine-tuning box
    assert box.message.isVisible() and "starts from fresh weights" in box.message.text(), box.message.text()
    assert "none of the layers of run #1 (final.pt) fit" in box.message.text()
    assert "Layer 1 (Linear): weight (16, 2) → (16, 4)" in box.message.text()  # why: other inputs
    assert "finetune." not in box.message.text()  # the app's words, not the spec's
    assert "fresh weights" in box.source_label.text()

    started = []
    session.run_event.connect(lambda e: isinstance(e, RunStarted) and started.append(e))
    wait_ready(qtbot, session)
    window.train_action.trigger()
    qtbot.waitUntil(lambda: bool(started))
    assert not any("loaded" in note for note in started[0].notes)
    qtbot.waitUntil(lambda: session.state == "idle")


def test_a_run_refused_by_its_weights_names_the_app_controls(qtbot, make_window, tmp_path):
    """Weights that fit nothing and Train pressed anyway: the run fails saying what to do in the
    app (Fine-tuning's Fresh start), not which spec field to edit."""
    import torch
    from safetensors.torch import save_file

    window = make_window()
    session = window.session
    wait_ready(qtbot, session)
    save_file({"0.weight": torch.zeros(5, 7)}, str(tmp_path / "other.safetensors"))
    assert session.edit({"finetune": {"init_from": str(tmp_path / "other.safetensors")}}, text="Weights file") is None
    wait_ready(qtbot, session)
    window.train_action.trigger()
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible())
    said = window.error_dialog.message_label.text()
    assert "none of the layers of other.safetensors fit" in said and "Fresh start under Fine-tuning" in said
    assert "finetune." not in said
    qtbot.waitUntil(lambda: session.state == "idle")
    window.error_dialog.close()
