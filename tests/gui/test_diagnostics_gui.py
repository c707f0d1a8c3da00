"""Diagnostics in the app: the Check and Find LR dialogs, the health view (live and stored), the
optimizer race, the divergence bar and the training panel's optimization options."""

from __future__ import annotations

import math

import pytest
from helpers import save_screenshot, wait_ready
from PySide6.QtCore import Qt

from workbench.core.spec import experiment_name
from workbench.core.training import EpochEnd, HealthAlert, HealthSample, RunFinished, RunStarted


def _sample(step, dead=0.0, epoch=1):
    return HealthSample(epoch=epoch, step=step, layers=["1 Linear", "2 ReLU", "3 Linear"],
                        grad_norm=[0.1 / step, math.nan, 0.5 / step], update_ratio=[1e-3, math.nan, 2e-3],
                        act_mean=[0.0, 0.3, 0.1], act_std=[1.0, 0.5, 0.8], dead_fraction=[math.nan, dead, math.nan],
                        total_grad_norm=0.6 / step, lr=0.01)


def _started():
    return RunStarted(name="t", spec_json="{}", device="cpu", device_name="CPU", precision="fp32",
                      task="classification", class_names=["a", "b"], n_train=100, n_val=20, n_test=0, epochs=3,
                      batch_size=10, steps_per_epoch=10, summary=[], total_params=1, total_flops=1, memory_bytes=1)


# ---- check and LR finder dialogs -------------------------------------------------------------------
def test_check_dialog_shows_every_check_as_it_finishes(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    assert window.check_button.isEnabled()
    qtbot.mouseClick(window.check_button, Qt.MouseButton.LeftButton)
    dialog = window.diagnostics.check_dialog
    qtbot.waitUntil(lambda: not dialog.running and len(dialog.results) == 8, timeout=60_000)
    assert set(dialog.rows) == {"duplicates", "target_leakage", "constant_columns", "class_balance",
                                "initial_loss", "gradients", "overfit_batch", "input_baseline"}
    row = dialog.rows["initial_loss"]
    assert row.findChild(type(row.message), "status").text().endswith("PASS</b>")
    assert "ln 2" in row.message.text()
    assert "8 checks:" in dialog.summary.text()
    name = experiment_name(window.session.spec, window.session.meta)
    assert name and dialog.header.text() == f"Pre-flight check of <b>{name}</b>"
    # the built-in sample's own design is no warning, and no row names a spec field
    assert dialog.rows["duplicates"].result.status == "pass"
    assert "Check the labels" not in dialog.rows["duplicates"].message.text()
    assert all("data.standardize" not in r.message.text() for r in dialog.rows.values())
    save_screenshot(dialog, "diagnostics_check")
    dialog.close()


def test_lr_finder_dialog_applies_and_offers_a_sweep_range(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    qtbot.mouseClick(window.find_lr_button, Qt.MouseButton.LeftButton)
    dialog = window.diagnostics.lr_dialog
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60_000)
    result = dialog.result
    assert set(dialog.lines) == {"suggestion", "steepest", "minimum"}
    assert dialog.lines["suggestion"].value() == pytest.approx(math.log10(result.suggestion))
    assert dialog.radios["suggestion"].isChecked() and dialog.apply_button.isEnabled()
    save_screenshot(dialog, "diagnostics_lr_finder")
    before = window.session.spec.optimizer.params["lr"]
    assert f"lr now {before:.3g}." in dialog.header.text()
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert window.session.spec.optimizer.params["lr"] == pytest.approx(float(f"{result.suggestion:.3g}"))
    # the header and the note say the rate the spec has now, not the one before Apply
    applied = f"{float(f'{result.suggestion:.3g}'):.3g}"
    assert f"lr now {applied}." in dialog.header.text() and f"lr now {before:.3g}." not in dialog.header.text()
    assert f"Applied: the optimizer's lr is now {applied}." in dialog.note.text()
    # the Train page's optimizer form shows the applied rate
    assert window.training_panel.optimizer.form.values()["lr"] == pytest.approx(float(f"{result.suggestion:.3g}"))
    dialog.radios["minimum"].setChecked(True)
    assert dialog.chosen_lr() == pytest.approx(float(f"{result.minimum:.3g}"))
    dialog.sweep_requested.disconnect(window.diagnostics._sweep_lr)  # (the sweep dialog is tested below)
    with qtbot.waitSignal(dialog.sweep_requested) as got:
        qtbot.mouseClick(dialog.sweep_button, Qt.MouseButton.LeftButton)
    low, high = got.args[0]["optimizer.lr"]["log_uniform"]
    assert low == pytest.approx(result.suggestion / 10, rel=0.01) and high == pytest.approx(result.suggestion * 10,
                                                                                            rel=0.01)
    dialog.close()


def test_lr_finder_range_opens_a_sweep_dialog_with_it(qtbot, make_window, monkeypatch):
    window = make_window()
    wait_ready(qtbot, window.session)
    seen = {}
    from workbench.gui.sweep import dialog as sweep_dialog

    def fake_exec(self):
        seen["space"] = self.space()
        seen["valid"] = self.validate()
        return 0

    monkeypatch.setattr(sweep_dialog.SweepDialog, "exec", fake_exec)
    window.diagnostics._sweep_lr({"optimizer.lr": {"log_uniform": [0.001, 0.1]}})
    assert seen["space"] == {"optimizer.lr": {"log_uniform": [0.001, 0.1]}} and seen["valid"]


# ---- health view ----------------------------------------------------------------------------------
def test_a_hidden_health_view_draws_when_shown_not_while_hidden(qtbot, monkeypatch):
    """Behind the Train page it took ~5 ms of the GUI thread a few times a second (issue 8)."""
    from workbench.gui.diagnostics.health_view import HealthView

    view = HealthView()
    qtbot.addWidget(view)
    drawn = []
    monkeypatch.setattr(view, "redraw", lambda: drawn.append(1))
    view._timer.timeout.disconnect()
    view._timer.timeout.connect(view.redraw)
    view.handle_events([_started(), *(_sample(s) for s in range(1, 5))])
    qtbot.wait(300)
    assert drawn == [] and not view._timer.isActive()
    view.resize(600, 300)
    view.show()
    qtbot.waitUntil(lambda: drawn == [1], timeout=2000)


def test_health_view_strips_curve_and_alerts(qtbot):
    from workbench.gui.diagnostics.health_view import HealthView

    view = HealthView()
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    alert = HealthAlert(kind="dead_units", epoch=2, step=15, layer="2 ReLU", value=0.8,
                        message="Dead units: 80% of the units of layer 2 ReLU output zero")
    epochs = [EpochEnd(epoch=e, step=10 * e, logs={"loss": 1.0 / e, "val_loss": 1.2 / e} if e > 1 else {"loss": 1.0},
                       lr=0.01, samples_per_s=1.0, elapsed=float(e), epoch_seconds=1.0) for e in (1, 2)]
    view.handle_events([_started(), *(_sample(s, dead=s / 30) for s in range(1, 30)), epochs[0], alert, epochs[1]])
    view.redraw()
    matrix, names, steps = view.strip_matrix()
    assert names == ["1 Linear", "3 Linear"]  # gradient norms: layers with weights only
    assert matrix.shape[0] == 2 and steps[0] == 1 and steps[-1] == 29
    assert matrix[0, 0] == pytest.approx(math.log10(0.1))
    view.stat.setCurrentIndex(view.stat.findData("dead_fraction"))
    view.redraw()
    matrix, names, _ = view.strip_matrix()
    assert names == ["2 ReLU"] and matrix.max() == pytest.approx(29 / 30)
    assert view.alert_list.count() == 1 and "80%" in view.alert_list.item(0).text()
    # the alert is marked on the gradient-norm curve and on the loss beside it
    assert len(view.alert_lines) == 2 and {line.value() for line in view.alert_lines} == {15}
    assert list(view.train_curve.getData()[0]) == [10, 20] and list(view.train_curve.getData()[1]) == [1.0, 0.5]
    assert list(view.val_curve.getData()[0]) == [20] and view.val_curve.getData()[1][0] == pytest.approx(0.6)
    assert "29 samples" in view.title.text()
    save_screenshot(view, "diagnostics_health_view")
    view.handle_events([_started()])
    assert view.samples == [] and view.alert_list.item(0).data(32) == "placeholder"
    assert view.epochs == [] and len(view.train_curve.getData()[0] or []) == 0
    assert not any(line in plot.items for line in view.alert_lines for plot in (view.norms, view.losses))


def test_empty_health_view_shows_a_message_not_empty_axes_and_plain_numbers(qtbot):
    """Before any run: a message where the plots will be (no axes with made-up ranges under it);
    with samples, the plots, their step axis in plain numbers (no "(x0.001)", no "-0")."""
    from workbench.gui.diagnostics.health_view import HealthView

    view = HealthView()
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    view.redraw()
    assert view.plots_or_empty.currentWidget() is view.empty and view.empty.isVisible()
    assert not view.glw.isVisible() and "Train" in view.empty.text()
    view.handle_events([_started(), *(_sample(s) for s in range(1, 5))])
    view.redraw()
    assert view.plots_or_empty.currentWidget() is view.glw
    for plot in (view.strips, view.norms, view.losses):
        axis = plot.getAxis("bottom")
        assert not axis.autoSIPrefix and axis.tickStrings([-0.0, 0.0005, 2.0], 1.0, 0.0005) == ["0", "0.0005", "2"]
    view.stat.setCurrentIndex(view.stat.findData("act_mean"))  # values around 0: the colour bar says "0", never "-0"
    view.redraw()
    labels = [label for _v, label in view.colorbar_ticks]
    assert labels[0] == "0" and all("e" not in label and not label.startswith("-0") for label in labels), labels
    view.handle_events([_started()])
    assert view.plots_or_empty.currentWidget() is view.empty


def test_live_run_fills_the_health_dock_and_a_past_run_shows_its_stored_health(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    window.session.edit({"train.health": {"every": 2}, "train.epochs": 4})
    events = []
    window.session.run_event.connect(events.append)
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(e, RunFinished) for e in events), timeout=30_000)
    qtbot.waitUntil(lambda: window.session.state == "idle", timeout=10_000)
    live = len(window.health_view.samples)
    window.health_view.redraw()
    title = window.health_view.title.text()  # the run has ended: not "Live" any more
    assert not title.startswith("Live") and "(finished) · " in title, title
    assert "diagnose" in window.pages.keys() and "race" in window.pages.keys()
    assert live >= 10 and window.health_view.samples[0].layers == ["1 Linear", "2 Tanh", "3 Linear"]
    window.health_view.reset("")
    window.runs_panel.refresh()
    qtbot.waitUntil(lambda: window.runs_panel.proxy.rowCount() == 1, timeout=10_000)
    window.runs_panel.select_ids([window.runs_panel.model.records()[0].id])
    qtbot.waitUntil(lambda: len(window.health_view.samples) == live, timeout=10_000)
    assert window.health_view.title.text().startswith("Run #")
    window.health_view.redraw()
    steps, losses = window.health_view.train_curve.getData()
    assert len(steps) == 4 and list(steps) == sorted(steps) and steps[-1] >= window.health_view.samples[-1].step
    assert all(math.isfinite(v) for v in losses)


# ---- optimizer race -------------------------------------------------------------------------------
def test_race_animates_every_racer_to_the_last_step(qtbot):
    from workbench.gui.diagnostics.race_paths import final_losses
    from workbench.gui.diagnostics.race_view import RaceView

    view = RaceView()
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    view.surface_combo.setCurrentIndex(view.surface_combo.findData("ill_conditioned"))
    assert len(view.racer_cards()) == 6 and view.isocurves
    view.steps.setValue(60)
    view.speed.setValue(20)
    qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(view.paths) == 6 and not view.timer.isActive(), timeout=30_000)
    assert view.step_label.text() == "Step 60 of 60"
    losses = final_losses(view.paths)
    assert all(losses[p.name] < p.loss[0] for p in view.paths)  # every racer went downhill
    line, head = view.path_items[0]
    assert len(line.getData()[0]) == 61
    assert "Adam:" in view.scores.text()
    save_screenshot(view, "diagnostics_race")


def test_race_racer_cards_edit_and_remove(qtbot):
    from workbench.gui.diagnostics.race_view import RaceView

    view = RaceView()
    qtbot.addWidget(view)
    card = view.racer_cards()[0]
    card.optimizer.setCurrentIndex(card.optimizer.findData("RMSprop"))
    card._optimizer_chosen(0)
    racer = card.racer(with_batch=False)
    assert racer.optimizer["type"] == "RMSprop" and racer.optimizer["lr"] == pytest.approx(1e-3)
    card.remove_requested.emit(card)
    assert len(view.racer_cards()) == 5
    view.add_button.click()
    assert view.racer_cards()[-1].racer(False).optimizer == {"type": "Adam", "lr": 0.01}


def _race_on_a_trained_moons_mlp(qtbot, tmp_path, *, rows: int, width: int, n_samples: int, epochs: int):
    """A Race page on "Your model": an MLP trained on Two moons, sliced through its last weights."""
    from workbench.core.diagnostics import model_slice
    from workbench.core.spec import parse_spec
    from workbench.core.training import train
    from workbench.gui.diagnostics.race_view import MODEL_KEY, RaceView

    spec = parse_spec({"data": {"source": "sample:moons", "n_samples": n_samples},
                       "model": {"layers": [{"type": "Linear", "out_features": width}, {"type": "ReLU"},
                                            {"type": "Linear", "out_features": "auto"}]},
                       "train": {"epochs": epochs, "device": "cpu"}})
    list(train(spec, run_dir=tmp_path))
    view = RaceView()
    qtbot.addWidget(view)
    view.set_model_surface(model_slice(spec, tmp_path / "last.pt", rows=rows), "run #1")
    view.surface_combo.setCurrentIndex(view.surface_combo.findData(MODEL_KEY))
    return view


def test_race_on_your_models_slice(qtbot, tmp_path):
    view = _race_on_a_trained_moons_mlp(qtbot, tmp_path, rows=128, width=8, n_samples=200, epochs=3)
    cards = view.racer_cards()
    assert [c.racer(True).batch for c in cards] == [None, 8, 8, 8] and cards[0].batch_row.isVisibleTo(view)
    view.steps.setValue(20)
    view.speed.setValue(20)
    view.start()
    qtbot.waitUntil(lambda: len(view.paths) == 4 and not view.timer.isActive(), timeout=60_000)
    assert view.isocurves and view.step_label.text() == "Step 20 of 20"
    assert view.start_button.text() == "Race" and not view.progress.isVisible()


def test_a_long_race_on_your_model_shows_its_measured_time_and_progress_and_cancels(qtbot, tmp_path):
    """5000 steps of four racers on a model slice take a while: the page says how long (measured on
    this model), shows progress, and Cancel stops the computation itself, not only the display."""
    from workbench.gui.diagnostics.race_paths import duration_words

    view = _race_on_a_trained_moons_mlp(qtbot, tmp_path, rows=256, width=64, n_samples=300, epochs=1)
    view.show()
    assert "few seconds" not in view.step_label.text() and "measured" in view.step_label.text()
    view.steps.setValue(5000)
    qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
    assert view.start_button.text() == "Cancel" and view.start_button.isEnabled() and view.progress.isVisible()
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=60_000)
    text = view.step_label.text()
    assert view.estimate > 0
    if view.estimate >= 2:  # the measured time is said, then what is left
        assert f"about {duration_words(view.estimate)} on this machine (measured)" in text or "left…" in text
    qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)  # Cancel
    assert view.start_button.text() == "Race" and not view.progress.isVisible()
    assert view.step_label.text().startswith("Cancelled")
    qtbot.waitUntil(lambda: not view.task.busy(), timeout=10_000)  # the worker stopped, long before its end
    assert view.paths == []


# ---- divergence and options --------------------------------------------------------------------------
def test_divergence_bar_offers_a_lower_learning_rate(qtbot):
    from workbench.gui.diagnostics.divergence_bar import DivergenceBar

    bar = DivergenceBar()
    qtbot.addWidget(bar)
    bar.offer(HealthAlert(kind="divergence", epoch=3, step=40, suggested_lr=1e-3, value=1e-2,
                          message="Diverged: the training loss became NaN at epoch 3, step 40. Paused; ..."))
    assert bar.isVisibleTo(bar.parentWidget() or bar) and bar.lr.value() == pytest.approx(1e-3)
    with qtbot.waitSignal(bar.resume_requested) as got:
        qtbot.mouseClick(bar.resume_button, Qt.MouseButton.LeftButton)
    assert got.args == [pytest.approx(1e-3)] and not bar.isVisible()


def test_optimization_options_edit_the_spec(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    box = window.training_panel.options
    box.accumulate.setValue(4)
    assert window.session.spec.train.accumulate_batches == 4
    assert box.effective.text() == "= effective batch 128"
    box.ema_check.setChecked(True)
    assert window.session.spec.train.ema is not None and window.session.spec.train.ema.decay == pytest.approx(0.999)
    box.health.setChecked(False)
    assert window.session.spec.train.health is None
    window.session.undo_stack.undo()
    assert window.session.spec.train.health is not None and box.health.isChecked()


def test_a_run_trained_on_the_command_line_shows_its_health_in_the_app(qtbot, make_window):
    from workbench.cli.main import main

    window = make_window()
    wait_ready(qtbot, window.session)
    store = str(window.session.store_path)
    assert main(["train", "xor", "--epochs", "3", "--store", store, "--quiet"]) == 0
    window.runs_panel.refresh()
    qtbot.waitUntil(lambda: window.runs_panel.proxy.rowCount() == 1, timeout=10_000)
    window.show_page("diagnose")
    window.runs_panel.select_ids([window.runs_panel.model.records()[0].id])
    view = window.health_view
    qtbot.waitUntil(lambda: len(view.samples) >= 2, timeout=10_000)
    view.redraw()
    assert view.title.text().startswith("Run #") and view.samples[0].layers[0] == "1 Linear"
    assert len(view.train_curve.getData()[0]) == 3 and view.norm_curve.getData()[0] is not None


def test_a_check_that_blames_the_learning_rate_opens_the_lr_finder(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    window.session.edit({"optimizer": {"type": "SGD", "lr": 1e-6}})
    qtbot.mouseClick(window.check_button, Qt.MouseButton.LeftButton)
    dialog = window.diagnostics.check_dialog
    qtbot.waitUntil(lambda: not dialog.running and len(dialog.results) == 8, timeout=60_000)
    row = dialog.rows["input_baseline"]
    assert "learned nothing" in row.message.text() and row.find_lr_button is not None
    assert dialog.rows["initial_loss"].find_lr_button is None
    qtbot.mouseClick(row.find_lr_button, Qt.MouseButton.LeftButton)
    lr_dialog = window.diagnostics.lr_dialog
    assert lr_dialog is not None and lr_dialog.isVisible()
    qtbot.waitUntil(lambda: lr_dialog.result is not None, timeout=60_000)
    assert lr_dialog.result.current_lr == pytest.approx(1e-6) and lr_dialog.result.suggestion > 1e-6
    lr_dialog.close()
    dialog.close()


def test_double_clicking_a_plateau_alert_uses_its_learning_rate(qtbot, make_window):
    window = make_window()
    wait_ready(qtbot, window.session)
    view = window.health_view
    window.show_page("diagnose")
    plateau = HealthAlert(kind="plateau", epoch=6, step=60, value=1e-7, suggested_lr=0.0123,
                          message="Loss plateau: the learning rate is tiny. Raise it, to about 0.0123.")
    dead = HealthAlert(kind="dead_units", epoch=6, step=60, layer="2 ReLU", value=0.8, message="Dead units")
    view.handle_events([_started(), plateau, dead])
    before = window.session.spec.optimizer.params.get("lr")
    dead_item, plateau_item = view.alert_list.item(1), view.alert_list.item(0)
    assert "Double-click to use lr = 0.0123" in plateau_item.toolTip()
    for item in (dead_item, plateau_item):
        rect = view.alert_list.visualItemRect(item)
        assert rect.isValid()
        # a person's double-click: press, release, then the second press (Qt 6 needs the first)
        qtbot.mouseClick(view.alert_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(view.alert_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        if item is dead_item:
            assert window.session.spec.optimizer.params.get("lr") == before  # nothing to use
    assert window.session.spec.optimizer.params["lr"] == pytest.approx(0.0123)
    assert window.training_panel.optimizer.form.values()["lr"] == pytest.approx(0.0123)
