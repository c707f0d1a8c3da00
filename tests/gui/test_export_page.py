"""The Export page as a person uses it: pick a run, export ONNX (a real `workbench export` child
process checks it with onnxruntime), measure compressed variants and save one, start a new run
from the run's weights; and the model stack's Lock column and learning-rate multipliers."""

from __future__ import annotations

import json

import torch
from PySide6.QtCore import Qt

from tests.gui.helpers import choose, save_screenshot, wait_ready


def _trained_run(tmp_path) -> int:
    """A short iris run in the test's run store (the CLI, in this process)."""
    import os

    from workbench.cli import main

    store = os.environ["WORKBENCH_STORE"]
    assert main(["train", "iris", "--epochs", "5", "-q", "--device", "cpu", "--store", store]) == 0
    return 1


def _export_page(qtbot, window):
    window.pages.show_page("export")
    page = window.pages.page("export")
    qtbot.waitUntil(lambda: page.run_combo.count() > 0)
    return page


def test_export_onnx_and_compress_from_the_page(qtbot, make_window, tmp_path, monkeypatch):
    run_id = _trained_run(tmp_path)
    window = make_window()
    page = _export_page(qtbot, window)
    assert page.selected_run_id() == run_id and page.run_combo.currentText().startswith(f"#{run_id} ")
    page.folder_edit.setText(str(tmp_path / "out"))
    choose(qtbot, page.format_combo, "ONNX + predict.py (checked with onnxruntime)")
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "ONNX matches PyTorch" in page.result_label.text(), timeout=120_000)
    assert "test accuracy" in page.result_label.text() and "✓" in page.result_label.text()
    assert (tmp_path / "out" / "predict.py").exists()
    onnx_files = list((tmp_path / "out").glob("*.onnx"))
    assert len(onnx_files) == 1 and json.loads(onnx_files[0].with_suffix(".json").read_text())["class_names"]

    view = page.compress
    view.prune.setChecked(False)
    assert view.qat.isEnabled() and not view.sparsity.isEnabled()
    view.qat.setValue(2)
    commands = []
    start = view.job.start
    monkeypatch.setattr(view.job, "start", lambda args: (commands.append(args), start(args)))
    qtbot.mouseClick(view.measure_button, Qt.MouseButton.LeftButton)
    assert commands[0][commands[0].index("--qat-epochs") + 1] == "2" and "prune" not in commands[0]
    assert view.cancel_button.isEnabled() and not view.measure_button.isEnabled()
    qtbot.waitUntil(lambda: view.table.rowCount() == 3, timeout=180_000)
    assert [view.table.item(r, 0).text() for r in range(3)] == ["original", "fp16 weights", "int8 (dynamic)"]
    assert view.table.horizontalHeaderItem(5).text() == "Test\naccuracy"
    save_screenshot(window, "export_page")
    view.table.selectRow(2)
    files = view.save_selected(str(tmp_path / "chosen"))
    assert [f.name for f in files][-1] == "predict.py" and files[0].name.endswith("-int8.onnx")
    assert f"MODEL_FILE = '{files[0].name}'" in files[-1].read_text()


def test_cancel_and_a_run_without_weights(qtbot, make_window, tmp_path):
    _trained_run(tmp_path)
    window = make_window()
    page = _export_page(qtbot, window)
    page.folder_edit.setText(str(tmp_path / "out"))
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.result_label.text() == "Export cancelled.")
    assert page.export_button.isEnabled()
    # a run trained with checkpoints off is listed, and says why it cannot be exported
    import os

    from tests.gui.conftest import TINY_SPEC
    from workbench.cli import main

    (tmp_path / "nockpt.json").write_text(json.dumps(TINY_SPEC))  # train.checkpoint: false
    assert main(["train", str(tmp_path / "nockpt.json"), "-q", "--store", os.environ["WORKBENCH_STORE"]]) == 0
    page.refresh()
    qtbot.waitUntil(lambda: page.run_combo.findData(2) >= 0)
    page.select_run(2)
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.export_button.isEnabled() and "has no checkpoint" in page.result_label.text(),
                    timeout=120_000)
    assert "Save checkpoints" in page.result_label.text() and "#d93025" in page.result_label.text()


def test_start_a_new_run_from_the_weights(qtbot, make_window, tmp_path):
    run_id = _trained_run(tmp_path)
    window = make_window()
    wait_ready(qtbot, window.session)
    page = _export_page(qtbot, window)
    qtbot.mouseClick(page.finetune_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.spec.finetune is not None)
    ft = window.session.spec.finetune
    assert ft.init_run == run_id and ft.init_from.endswith("final.pt")
    box = window.training_panel.finetune
    assert f"run #{run_id} (final.pt)" in box.source_label.text()
    qtbot.mouseClick(box.clear_button, Qt.MouseButton.LeftButton)
    assert window.session.spec.finetune is None


def test_lock_column_and_learning_rate_multiplier(qtbot, make_window):
    window = make_window()
    session = window.session
    wait_ready(qtbot, session)
    window.pages.show_page("model")
    panel = window.model_panel
    stack = panel.stack
    qtbot.waitUntil(lambda: stack.topLevelItem(0) is not None
                    and bool(stack.topLevelItem(0).flags() & Qt.ItemFlag.ItemIsUserCheckable))
    first = stack.topLevelItem(0)
    assert not bool(stack.topLevelItem(1).flags() & Qt.ItemFlag.ItemIsUserCheckable)  # Tanh has no weights
    first.setCheckState(4, Qt.CheckState.Checked)  # a click on the lock
    qtbot.waitUntil(lambda: session.spec.model.layers[0].frozen is True)
    assert session.undo_stack.undoText() == "Lock Linear"
    stack.setCurrentItem(stack.topLevelItem(0))
    qtbot.waitUntil(lambda: panel.tuning is not None)
    assert panel.tuning.lock.isChecked()
    panel.tuning.lr.setValue(0.25)
    assert session.spec.model.layers[0].lr_mult == 0.25
    qtbot.waitUntil(lambda: stack.topLevelItem(0).text(4) == "×0.25")
    # an edit of the layer's own parameters keeps its lock and multiplier
    panel._form.set_values({"out_features": 8})
    panel._params_edited((0,), "Linear", {"out_features": 8, "bias": True})
    layer = session.spec.model.layers[0]
    assert layer.params["out_features"] == 8 and layer.frozen and layer.lr_mult == 0.25
    session.undo_stack.undo()
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert session.spec.model.layers[0].frozen is None


def test_a_fine_tuning_run_lists_what_it_loaded(qtbot, make_window, tmp_path):
    """Start from a run's weights on the Export page, press Train: the Train page's Fine-tuning
    box (and the status bar) say which layers were loaded and which start afresh."""
    import os

    from tests.gui.conftest import TINY_SPEC
    from workbench.cli import main

    source = {**TINY_SPEC, "train": {**TINY_SPEC["train"], "checkpoint": True}}
    (tmp_path / "source.json").write_text(json.dumps(source))
    assert main(["train", str(tmp_path / "source.json"), "-q", "--store", os.environ["WORKBENCH_STORE"]]) == 0
    window = make_window()
    wait_ready(qtbot, window.session)
    page = _export_page(qtbot, window)
    qtbot.mouseClick(page.finetune_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.spec.finetune is not None)
    box = window.training_panel.finetune
    loaded = ("loaded 1 of 2 layers from run #1 (final.pt); Layer 3 (Linear) re-initialised: a new head "
              "(finetune.reset_head)")
    qtbot.waitUntil(lambda: box.report.text() == f"Next run: {loaded}")  # said before Train is pressed
    window.pages.show_page("train")
    window.training_panel.ensureWidgetVisible(box)
    save_screenshot(window, "finetune_box")
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    wait_ready(qtbot, window.session)
    window.train_action.trigger()
    qtbot.waitUntil(lambda: box.report.text() == f"Last run: {loaded}")
    assert any("parameters · loaded 1 of 2 layers from run #1" in m for m in messages), messages
    qtbot.waitUntil(lambda: window.session.state == "idle")
    # weights that fit nothing: the box says why, in red, before a run could fail on them
    from safetensors.torch import save_file

    save_file({"0.weight": torch.zeros(5, 7)}, str(tmp_path / "other.safetensors"))
    window.session.edit({"finetune": {"init_from": str(tmp_path / "other.safetensors")}}, text="Weights file")
    qtbot.waitUntil(lambda: box.message.isVisible())
    assert "none of the layers of other.safetensors fit this model" in box.message.text()
    assert "Layer 1 (Linear): weight (5, 7) → (16, 2)" in box.message.text() and not box.report.isVisible()
    qtbot.mouseClick(box.clear_button, Qt.MouseButton.LeftButton)
    assert not box.message.isVisible() and not box.report.isVisible()



def test_a_run_whose_data_moved(qtbot, make_window, tmp_path, monkeypatch):
    """The run's CSV moved since it trained: the page says so, offers to locate it, and then
    exports (and measures) with the file where it is now."""
    import os
    import shutil

    from workbench.cli import main
    from workbench.gui.pages import export as export_page

    csv = tmp_path / "flowers.csv"
    from workbench.core.locations import sample_data_dir

    shutil.copy(sample_data_dir() / "iris.csv", csv)
    spec = {"name": "flowers", "data": {"source": str(csv)}, "model": {"layers": [
        {"type": "Linear", "out_features": "auto"}]}, "train": {"epochs": 2, "device": "cpu"}}
    (tmp_path / "flowers.json").write_text(json.dumps(spec))
    assert main(["train", str(tmp_path / "flowers.json"), "-q", "--store", os.environ["WORKBENCH_STORE"]]) == 0
    moved = tmp_path / "elsewhere" / "flowers.csv"
    moved.parent.mkdir()
    csv.rename(moved)
    window = make_window()
    page = _export_page(qtbot, window)
    page.folder_edit.setText(str(tmp_path / "out"))
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.locate_button.isVisible(), timeout=120_000)
    assert "data cannot be loaded" in page.result_label.text() and "--data" not in page.result_label.text()
    save_screenshot(window, "export_data_moved")
    monkeypatch.setattr(export_page, "open_file", lambda *a, **k: str(moved))
    qtbot.mouseClick(page.locate_button, Qt.MouseButton.LeftButton)
    assert not page.locate_button.isVisible() and page.command_options()[-2:] == ["--data", str(moved)]
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "ONNX matches PyTorch" in page.result_label.text(), timeout=120_000)
