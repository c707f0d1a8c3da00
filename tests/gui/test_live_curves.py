"""LiveCurves fed scripted core events: what a person sees on the plots."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtTest import QTest

from workbench.core.training import (BatchProgress, EpochEnd, HealthAlert, LRChanged, RunFinished, RunStarted)
from workbench.gui.plots.decimate import PeakPyramid
from workbench.gui.plots.redraw import BASE_MS, LIVE_MS, MAX_MS, SUBFRAME_MS
from workbench.gui.plots.series import SYMBOLS_UP_TO
from workbench.gui.plots.smoothing import Ema, debiased_ema, debiased_ema_reference

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
STEPS = 10  # steps per epoch in the scripted runs


def started(task: str = "classification", epochs: int = 10) -> RunStarted:
    return RunStarted(
        name="test", spec_json="{}", device="cpu", device_name="CPU", precision="fp32",
        task=task, class_names=["a", "b"] if task == "classification" else [], n_train=320,
        n_val=80, n_test=0, epochs=epochs, batch_size=32, steps_per_epoch=STEPS, summary=[],
        total_params=100, total_flops=100, memory_bytes=1000)


def batch(epoch: int, b: int, loss: float, lr: float = 0.01) -> BatchProgress:
    step = (epoch - 1) * STEPS + b
    return BatchProgress(epoch=epoch, batch=b, batches=STEPS, step=step, loss=loss, lr=lr,
                         samples_per_s=1000.0, elapsed=step * 0.01)


def epoch_end(epoch: int, loss: float, val_loss: float, metric: float = 0.5,
              key: str = "accuracy", lr: float = 0.01) -> EpochEnd:
    logs = {"loss": loss, "val_loss": val_loss, key: metric, "val_" + key: metric - 0.05,
            "lr": lr}
    return EpochEnd(epoch=epoch, step=epoch * STEPS, logs=logs, lr=lr, samples_per_s=1000.0,
                    elapsed=epoch * STEPS * 0.01, epoch_seconds=0.1)


def run_events(train, val, batches_per_epoch: int = 2, task: str = "classification"):
    """A run whose epoch-level losses are `train` / `val`; a few BatchProgress per epoch."""
    key = "accuracy" if task == "classification" else "r2"
    events = [started(task, len(train))]
    for e, (tr, va) in enumerate(zip(train, val), start=1):
        for b in np.linspace(STEPS / batches_per_epoch, STEPS, batches_per_epoch):
            events.append(batch(e, int(b), tr * (1.1 - 0.1 * b / STEPS)))
        events.append(epoch_end(e, tr, va, metric=1 - tr / 2, key=key))
    return events


@pytest.fixture
def curves(make_curves):
    return make_curves()


def n_points(item) -> int:
    x, y = item.getOriginalDataset()
    return 0 if y is None else len(y)


def shot(widget, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    widget.grab().save(str(SHOTS / f"plots_{name}.png"))


FALLING = [1.0 / (e + 1) for e in range(8)]


def test_points_in_each_curve(curves, qtbot):
    before = curves.redraw_count  # a frame of the empty plots may have come already
    curves.handle_events(run_events(FALLING, [v + 0.1 for v in FALLING]))
    qtbot.waitUntil(lambda: curves.redraw_count > before, timeout=2000)
    s = curves.series
    assert n_points(s["batch_loss"].curve) == 16
    for key in ("train_loss", "val_loss", "train_metric", "val_metric"):
        assert n_points(s[key].curve) == 8, key
    assert n_points(s["lr"].curve) == 16 + 8  # from BatchProgress and EpochEnd
    x, y = s["val_loss"].raw.getOriginalDataset()
    np.testing.assert_allclose(y, [v + 0.1 for v in FALLING])
    np.testing.assert_allclose(x, np.arange(1, 9) * STEPS)  # x axis: step by default
    assert curves.metric_plot.getAxis("left").labelText == "accuracy"


def test_smoothing_debiased_and_raw_faint_beneath(curves):
    rng = np.random.default_rng(1)
    losses = 1.0 + rng.normal(0, 0.2, 40)
    events = [started()] + [batch(1 + i // STEPS, 1 + i % STEPS, float(v))
                            for i, v in enumerate(losses)]
    curves.handle_events(events)
    curves.set_smoothing(0.8)
    curves.flush()
    s = curves.series["batch_loss"]
    _, raw = s.raw.getOriginalDataset()
    _, smooth = s.curve.getOriginalDataset()
    np.testing.assert_allclose(raw, losses)
    assert s.raw.isVisible() and s.raw.opts["pen"].color().alpha() < 100  # faint
    assert s.curve.zValue() > s.raw.zValue()  # smoothed drawn on top
    assert smooth[0] == pytest.approx(losses[0])  # debiased: first point is the raw point
    w = 0.8
    second = (w * (1 - w) * losses[0] + (1 - w) * losses[1]) / (1 - w**2)
    assert smooth[1] == pytest.approx(second)
    np.testing.assert_allclose(smooth, debiased_ema_reference(losses.tolist(), w))
    assert np.std(np.diff(smooth)) < np.std(np.diff(raw)) / 2
    # Off: the curve shows the raw values and the faint copy goes away.
    curves.set_smoothing(0.0)
    curves.flush()
    np.testing.assert_allclose(s.curve.getOriginalDataset()[1], losses)
    assert not s.raw.isVisible()


def test_smoothing_vectorised_matches_loop_incremental_and_nan():
    rng = np.random.default_rng(0)
    x = rng.normal(size=3000) + np.linspace(3, 0, 3000)
    x[[5, 700, 2999]] = np.nan
    for w in (0.0, 0.3, 0.9, 0.99):
        expected = debiased_ema_reference(x.tolist(), w)
        np.testing.assert_allclose(debiased_ema(x, w), expected, rtol=1e-9, atol=1e-12)
        ema = Ema(w)
        parts = [ema.update(x[a:b]) for a, b in ((0, 1), (1, 6), (6, 1000), (1000, 3000))]
        np.testing.assert_allclose(np.concatenate(parts), expected, rtol=1e-9, atol=1e-12)


def test_log_toggle_keeps_original_data(curves):
    curves.handle_events(run_events(FALLING, FALLING))
    curves.set_smoothing(0.0)
    curves.flush()
    curves.log_check.click()
    curves.flush()
    assert curves.log_y and curves.loss_plot.getAxis("left").logMode
    item = curves.series["train_loss"].curve
    np.testing.assert_allclose(item.getOriginalDataset()[1], FALLING)
    np.testing.assert_allclose(item.getData()[1], np.log10(FALLING))  # displayed: log10
    assert not curves.metric_plot.getAxis("left").logMode
    curves.set_log_y(False)
    curves.flush()
    np.testing.assert_allclose(item.getData()[1], FALLING)


def test_x_axis_switch(curves):
    curves.handle_events(run_events(FALLING, FALLING))
    item = curves.series["train_loss"].curve
    for mode, expected in (("epoch", np.arange(1, 9)), ("time", np.arange(1, 9) * STEPS * 0.01),
                           ("step", np.arange(1, 9) * STEPS)):
        curves.x_axis_combo.setCurrentIndex(curves.x_axis_combo.findData(mode))
        curves.flush()
        assert curves.x_axis == mode
        np.testing.assert_allclose(item.getOriginalDataset()[0], expected)
        assert curves.lr_plot.getAxis("bottom").labelText.startswith(mode)
    curves.set_x_axis("epoch")
    curves.flush()
    x, _ = curves.series["batch_loss"].curve.getOriginalDataset()
    np.testing.assert_allclose(x[:2], [0.5, 1.0])  # batches sit inside their epoch
    lo, hi = curves.lr_plot.vb.viewRange()[0]
    assert lo <= 0.5 and hi >= 8  # following: everything in view


def test_nan_leaves_a_gap(curves):
    val = list(FALLING)
    val[3] = float("nan")
    events = run_events(FALLING, val)
    events.insert(3, batch(1, 7, float("nan")))
    curves.handle_events(events)
    curves.flush()
    item = curves.series["val_loss"].curve
    assert np.isnan(item.getOriginalDataset()[1][3])
    assert item.opts["connect"] == "finite"
    assert curves.series["train_loss"].curve.opts["connect"] == "all"  # finite: fast path
    curves.set_log_y(True)
    curves.flush()
    assert not curves.grab().isNull()  # painting with gaps works
    assert np.isnan(curves.series["batch_loss"].curve.getOriginalDataset()[1]).sum() == 1


def test_lr_change_marker_on_every_panel(curves):
    events = run_events(FALLING[:3], FALLING[:3])
    events.append(LRChanged(epoch=4, step=3 * STEPS, lr=0.003, previous=0.01))
    events += run_events(FALLING[3:], FALLING[3:])[1:]  # (no second RunStarted)
    curves.handle_events(events)
    curves.flush()
    assert len(curves.lr_markers.items) == 1
    coords, lines = curves.lr_markers.items[0]
    assert len(lines) == 3 and all(line.value() == 3 * STEPS for line in lines)
    # the rate is written once, on the learning-rate panel (the legend sits on the loss panel)
    assert curves.lr_markers.labels() == ["lr → 0.003"]
    assert lines[-1].label.toPlainText() == "lr → 0.003"
    assert all(line.pen.style() == Qt.PenStyle.DashLine for line in lines)
    assert {line.getViewBox() for line in lines} == {p.vb for p in curves.plots}
    curves.set_x_axis("epoch")
    assert lines[0].value() == pytest.approx(3.0)
    shot(curves, "lr_marker")
    curves.handle_event(started())
    assert curves.lr_markers.items == []


def test_overfitting_marked_from_scripted_sequence(curves):
    train = [1.0 / e for e in range(1, 16)]
    val = [1.0, 0.85, 0.7, 0.62, 0.6, 0.63, 0.67, 0.72, 0.78, 0.84, 0.9, 0.97, 1.04, 1.1, 1.18]  # best: epoch 5
    curves.handle_events(run_events(train, val))
    curves.flush()
    assert curves.overfitting_epoch is not None and curves.overfitting_epoch > 5
    assert curves.run.overfit.best_epoch == 5
    assert curves.overfit_mark.region.isVisible()
    assert curves.overfit_mark.line.label.toPlainText() == \
        f"best epoch 5 · overfitting since {curves.overfitting_epoch}"
    lo, hi = curves.overfit_mark.region.getRegion()
    assert (lo, hi) == (5 * STEPS, 15 * STEPS)  # from the best epoch to the last
    shot(curves, "overfitting")


def test_no_overfitting_while_validation_falls_or_only_wobbles(curves):
    curves.handle_events(run_events(FALLING, [v * 1.2 for v in FALLING]))
    curves.flush()
    assert curves.overfitting_epoch is None
    assert not curves.overfit_mark.region.isVisible()
    # the three-rising-epochs rule fired on this noisy but flat validation curve; the smoothed one does not
    train = [1.0 / e for e in range(1, 21)]
    wobble = [0.5, 0.48, 0.47, 0.46, 0.47, 0.48, 0.49, 0.46, 0.45, 0.46, 0.47, 0.48, 0.49, 0.47, 0.46, 0.47,
              0.48, 0.49, 0.47, 0.46]
    curves.handle_events(run_events(train, wobble))
    curves.flush()
    assert curves.overfitting_epoch is None and not curves.overfit_mark.region.isVisible()


def test_overlays_distinct_colours_and_clear(curves):
    curves.handle_events(run_events(FALLING, FALLING))
    rows = [[{"epoch": e, "loss": 1 / (e + k), "val_loss": 1.1 / (e + k), "accuracy": 0.5,
              "val_accuracy": 0.45, "lr": 0.01} for e in range(1, 9)] for k in range(1, 6)]
    curves.show_runs([(f"run {k}", r, None) for k, r in enumerate(rows)]
                     + [("mine", rows[0], QColor("#123456"))])
    curves.set_x_axis("epoch")
    curves.flush()
    colours = [o.color.name() for o in curves.overlays]
    assert len(set(colours)) == 6 and colours[-1] == "#123456"
    live = {curves.series[k].curve.opts["pen"].color().name() for k in ("train_loss", "val_loss")}
    assert not live & set(colours)
    legend = [label.text for _, label in curves.loss_legend.items]
    assert "run 0" in legend and "mine" in legend
    first = curves.overlays[0].items[0][1]
    np.testing.assert_allclose(first.getOriginalDataset()[0], np.arange(1, 9))
    shot(curves, "overlays")
    curves.clear_overlays()
    assert curves.overlays == []
    legend = [label.text for _, label in curves.loss_legend.items]
    assert "run 0" not in legend and "train" in legend
    assert first.scene() is None


def test_redraw_only_when_data_changed(curves, qtbot):
    qtbot.waitUntil(lambda: not curves._scheduler.timer.isActive(), timeout=3 * MAX_MS)
    base = curves.redraw_count  # 0, or 1 when the empty plots were drawn once already
    curves.handle_events(run_events(FALLING, FALLING))
    qtbot.waitUntil(lambda: curves.redraw_count == base + 1, timeout=2000)
    # the one extra tick after a frame (its interval backs off when painting is slow, as on a
    # loaded machine), then idle: no wake-ups
    timer = curves._scheduler.timer
    qtbot.waitUntil(lambda: not timer.isActive(), timeout=3 * MAX_MS)
    # the first frame may auto-range the view, and a new range is itself a reason for one more
    # frame; once the timer has gone idle, nothing new must mean no more frames
    settled = curves.redraw_count
    assert settled <= base + 2
    qtbot.wait(300)
    assert curves.redraw_count == settled
    assert not timer.isActive()
    assert not timer.isActive()
    # A burst of 2000 events is still one redraw per timer tick, not one per event.
    for i in range(2000):
        curves.handle_event(batch(9 + i // STEPS, 1 + i % STEPS, 0.1))
    qtbot.waitUntil(lambda: curves.redraw_count == settled + 1, timeout=2000)
    qtbot.wait(100)
    assert curves.redraw_count == settled + 1
    assert n_points(curves.series["batch_loss"].curve) == 16 + 2000


def test_crosshair_readout_after_mouse_move(curves, qtbot):
    curves.handle_events(run_events(FALLING, [v + 0.1 for v in FALLING]))
    curves.set_smoothing(0.0)
    curves.flush()
    curves.grab()  # a paint: the view takes its auto range before the mouse position is mapped
    vb = curves.loss_plot.vb
    scene_pos = vb.mapViewToScene(QPointF(4 * STEPS, 0.5))
    pos = curves._glw.mapFromScene(scene_pos)
    QTest.mouseMove(curves._glw.viewport(), pos)
    qtbot.waitUntil(lambda: curves.crosshair.active, timeout=2000)
    text = curves.readout.text().replace("\u00a0", " ")
    assert text.startswith("step")
    assert f"train {FALLING[3]:.4g}" in text and f"validation {FALLING[3] + 0.1:.4g}" in text
    assert "accuracy:" in text and "lr 0.01" in text
    assert all(line.isVisible() for line in curves.crosshair.lines)
    assert curves.crosshair.lines[0].value() == pytest.approx(4 * STEPS, abs=1.0)
    shot(curves, "crosshair")


def test_follow_after_manual_zoom(curves):
    curves.handle_events(run_events(FALLING, FALLING))
    curves.flush()
    assert curves.following and not curves.follow_button.isVisible()
    curves.loss_plot.vb.scaleBy((0.5, 0.5))  # what the mouse wheel does
    curves.loss_plot.vb.sigRangeChangedManually.emit([True, True])
    assert not curves.following and curves.follow_button.isVisible()
    before = curves.lr_plot.vb.viewRange()[0]
    curves.handle_events(run_events(FALLING + [0.1, 0.09], FALLING + [0.1, 0.09])[-3:])
    curves.flush()
    assert curves.lr_plot.vb.viewRange()[0] == before  # zoomed: stays put
    curves.follow_button.click()
    assert curves.following and not curves.follow_button.isVisible()
    assert curves.lr_plot.vb.viewRange()[0][1] >= 10 * STEPS


def test_regression_shows_r2_and_terminal_event(curves):
    events = run_events(FALLING, FALLING, task="regression")
    events.append(RunFinished(epochs=8, metrics={}, duration=1.0))
    curves.handle_events(events)
    curves.flush()
    assert curves.task == "regression"
    assert curves.metric_plot.getAxis("left").labelText == "R²"
    _, y = curves.series["train_metric"].curve.getOriginalDataset()
    assert len(y) == 8 and np.isfinite(y).all()
    assert not curves.live


def test_standardised_target_loss_axis_says_so(curves):
    from dataclasses import replace

    curves.handle_event(replace(started("regression"), target_scaler={"mean": [2e5], "std": [5e4]}))
    curves.flush()
    assert curves.loss_plot.getAxis("left").full_label == "loss (standardised target)"
    curves.handle_event(started("regression"))  # a run on the raw target: plain "loss"
    curves.flush()
    assert curves.loss_plot.getAxis("left").full_label == "loss"


def test_dark_palette_and_screenshots(curves, qtbot):
    rng = np.random.default_rng(3)
    train = [1.2 * math.exp(-e / 6) + 0.1 for e in range(30)]
    val = [t + 0.05 + max(0, e - 18) * 0.02 for e, t in enumerate(train)]
    events = [started(epochs=30)]
    for e in range(1, 31):
        for b in range(2, STEPS + 1, 2):
            events.append(batch(e, b, train[e - 1] + float(rng.normal(0, 0.05))))
        events.append(epoch_end(e, train[e - 1], val[e - 1], metric=1 - train[e - 1] / 2))
        if e == 12:
            events.append(LRChanged(epoch=13, step=e * STEPS, lr=0.003, previous=0.01))
    curves.handle_events(events)
    curves.flush()
    shot(curves, "light")
    dark = QPalette()
    for role, color in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.Base, "#181818"),
                        (QPalette.ColorRole.Text, "#e8e8e8"),
                        (QPalette.ColorRole.WindowText, "#e8e8e8"),
                        (QPalette.ColorRole.Button, "#303134"),
                        (QPalette.ColorRole.ButtonText, "#e8e8e8")):
        dark.setColor(role, QColor(color))
    curves.setPalette(dark)
    curves.flush()
    assert curves._glw.backgroundBrush().color().name() == "#181818"
    assert curves.loss_plot.getAxis("left").textPen().color().name() == "#e8e8e8"
    train_pen = curves.series["train_loss"].curve.opts["pen"].color()
    assert train_pen.lightnessF() > 0.5  # readable on dark
    shot(curves, "dark")
    curves.setPalette(QPalette())


def test_peak_pyramid_incremental_matches_whole_and_keeps_extremes():
    rng = np.random.default_rng(5)
    y = rng.normal(size=30_001)
    y[1000:1003] = np.nan
    x = np.arange(y.size, dtype=np.float64)
    whole, grown = PeakPyramid(), PeakPyramid()
    whole.update(y)
    for end in (1, 2, 7, 500, 12_345, 12_346, 30_001):  # appended in uneven parts
        grown.update(y[:end])
    for i0, i1, buckets in ((0, 30_001, 400), (5000, 9000, 300), (29_000, 30_001, 100)):
        xa, ya = whole.decimate(x, y, i0, i1, buckets)
        xb, yb = grown.decimate(x, y, i0, i1, buckets)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
        assert ya.size <= 2 * buckets + 2
        assert np.nanmax(ya) == np.nanmax(y[i0:i1]) and np.nanmin(ya) == np.nanmin(y[i0:i1])
        assert xa[0] <= x[i0] and np.all(np.diff(xa) >= 0)
    xs, ys = whole.decimate(x, y, 100, 300, 400)  # few points: the points themselves
    np.testing.assert_array_equal(ys, y[100:300])


def test_long_curve_draws_about_two_points_per_pixel_of_the_view(curves):
    n = 200_000
    steps = np.arange(1, n + 1, dtype=np.float64)
    loss = 1 + np.sin(steps / 5000) + np.where(steps % 997 == 0, 5.0, 0.0)  # narrow spikes
    curves.run.batches.extend(np.column_stack([steps, steps / 1000, steps / 100, loss]))
    curves.flush()
    item = curves.series["batch_loss"].curve
    pixels = curves.lr_plot.vb.width()
    assert len(item.getOriginalDataset()[1]) <= 2 * pixels + 4
    assert curves.series["batch_loss"].raw.getOriginalDataset()[1].max() == loss.max()  # spikes survive
    assert item.opts["connect"] == "all"  # finite data: pyqtgraph's finite scan skipped
    # Zoomed in: only the view, and its own points once there are few enough.
    curves.lr_plot.setXRange(1000, 1200, padding=0)
    curves.lr_plot.vb.sigRangeChangedManually.emit([True, False])  # as a mouse zoom would
    curves.flush()
    x, y = curves.series["batch_loss"].raw.getOriginalDataset()
    assert x[0] <= 1000 and x[-1] >= 1200 and len(x) < 210
    np.testing.assert_allclose(y, loss[int(x[0]) - 1:int(x[-1])])
    # A nan gap in a long curve (rows appended later): connect="finite", the gap stays.
    curves.follow()
    more = np.arange(n + 1, n + 40_001, dtype=np.float64)
    more_loss = 1.5 + 0.2 * np.sin(more / 700)
    more_loss[10_000:20_000] = np.nan
    curves.run.batches.extend(np.column_stack([more, more / 1000, more / 100, more_loss]))
    curves.flush()
    assert item.opts["connect"] == "finite"
    x, y = curves.series["batch_loss"].raw.getOriginalDataset()
    assert len(y) <= 2 * pixels + 4
    in_gap = (x > n + 10_500) & (x < n + 19_000)
    assert in_gap.any() and np.isnan(y[in_gap]).all()
    shot(curves, "long_curve")


def test_redraw_backs_off_when_painting_is_slow_and_recovers(curves, qtbot):
    sched = curves._scheduler
    sched.painted(400.0)  # one very slow frame
    assert sched.interval_ms == MAX_MS
    sched.painted(2.0)  # at once: the slow frame still counts
    assert sched.interval_ms > 200
    qtbot.wait(1500)  # forgotten within a second or so
    sched.painted(2.0)
    assert sched.interval_ms == BASE_MS
    # A frame that requests nothing new leaves the timer idle.
    curves.handle_events(run_events(FALLING, FALLING))
    qtbot.waitUntil(lambda: curves.redraw_count >= 1, timeout=2000)
    qtbot.waitUntil(lambda: not sched.timer.isActive(), timeout=2000)


def whole_frame(sched) -> None:
    """The scheduler's ticks of one frame (its parts come one tick each)."""
    sched._tick()
    while sched.mid_frame:
        sched._tick()


def test_a_live_frame_comes_one_panel_at_a_time(curves, qtbot):
    """A frame's work is split by panel, the loop painting in between, so no one piece holds
    the GUI thread for the whole frame (issue 8: timer lateness while a run trains)."""
    sched = curves._scheduler
    curves.handle_events(run_events(FALLING, FALLING))
    sched._tick()
    assert sched.mid_frame and sched.dirty and sched.timer.isActive()
    assert sched.timer.remainingTime() <= SUBFRAME_MS
    assert n_points(curves.series["train_loss"].curve) == len(FALLING)  # the loss panel first
    assert n_points(curves.series["train_metric"].curve) == 0  # the metric panel next
    qtbot.waitUntil(lambda: not sched.mid_frame, timeout=2000)
    assert n_points(curves.series["train_metric"].curve) == len(FALLING)
    assert curves.redraw_count == 1  # one frame, in parts


def test_batch_losses_epochs_apart_are_not_joined_by_a_line(curves):
    """Fast epochs report no batch loss; a line from one reported batch to the next, thousands of
    steps on, read as data in the walkthrough (a straight line far from the curve)."""
    curves.set_smoothing(0.0)
    curves.handle_events([started(epochs=40), batch(1, 5, 0.9), batch(1, 10, 0.8), batch(2, 5, 0.7),
                          batch(30, 5, 0.05), batch(30, 10, 0.04)])
    curves.flush()
    x, y = curves.series["batch_loss"].curve.getOriginalDataset()
    assert list(x[:3]) == [5, 10, 15] and list(y[:3]) == pytest.approx([0.9, 0.8, 0.7])
    assert 15 < x[3] < 295 and np.isnan(y[3])  # a gap: the line breaks there
    assert list(x[4:]) == [295, 300] and list(y[4:]) == pytest.approx([0.05, 0.04])
    assert curves.series["batch_loss"].curve.opts["connect"] == "finite"
    # a fast run that reports every few epochs, evenly, keeps its sampled line
    curves.handle_events([started(epochs=40)] + [batch(e, 5, 1.0 / e) for e in range(1, 40, 4)])
    curves.flush()
    _, y = curves.series["batch_loss"].curve.getOriginalDataset()
    assert len(y) == 10 and np.isfinite(y[1:]).all()


def test_what_comes_between_a_frames_parts_is_drawn_by_the_next_frame(curves, qtbot):
    """The last epoch and the end of the run arriving while a frame is half drawn were dropped:
    the loss panel kept 4 of 5 epochs for good (found in review)."""
    sched = curves._scheduler
    events = run_events(FALLING[:5], FALLING[:5])
    curves.handle_events(events[:-1])  # up to the 4th epoch's end... and the 5th's batches
    sched._tick()  # the loss panel's part of the frame
    assert sched.mid_frame
    curves.handle_event(events[-1])  # the 5th epoch
    curves.handle_event(RunFinished(epochs=5, metrics={}, duration=1.0))
    qtbot.waitUntil(lambda: not sched.mid_frame and not sched.dirty and not sched.timer.isActive(), timeout=5000)
    assert n_points(curves.series["train_loss"].curve) == 5
    last = curves.series["train_loss"].buffer.column("step")[-1]
    assert curves.lr_plot.vb.viewRange()[0][1] <= last * 1.03  # the finished run's x range, fitted


def test_new_live_points_wait_for_the_live_frame_a_persons_change_does_not(curves):
    """New points of a running training are drawn at most every LIVE_MS; a person's change
    (here the smoothing slider) is drawn at the next tick. A fake clock: no timing involved."""
    sched = curves._scheduler
    now = [100.0]
    sched.clock = lambda: now[0]
    curves.handle_events(run_events(FALLING, FALLING))
    whole_frame(sched)  # the first frame of the run: nothing drawn yet, so at once
    drawn = curves.redraw_count
    assert drawn >= 1
    curves.handle_event(epoch_end(9, 0.2, 0.25))
    now[0] += 0.5 * LIVE_MS / 1e3
    sched._tick()  # too soon for new points: re-armed for the rest of LIVE_MS
    assert curves.redraw_count == drawn and sched.dirty and sched.timer.isActive()
    assert sched.timer.remainingTime() <= LIVE_MS // 2 + 1
    now[0] += 0.6 * LIVE_MS / 1e3
    whole_frame(sched)
    assert curves.redraw_count == drawn + 1 and not sched.dirty
    n = n_points(curves.series["train_loss"].curve)
    curves.handle_event(epoch_end(10, 0.19, 0.24))
    curves.set_smoothing(0.3)  # a person's change: no wait, and the new point comes with it
    whole_frame(sched)
    assert curves.redraw_count == drawn + 2
    assert n_points(curves.series["train_loss"].curve) == n + 1


def test_dots_only_while_a_curve_is_short_every_point_kept(curves):
    curves.set_smoothing(0.0)  # the curve is the logged values
    curves.handle_event(started(epochs=200))
    for e in range(1, SYMBOLS_UP_TO + 1):
        curves.handle_event(epoch_end(e, 1 / e, 1.1 / e))
    curves.flush()
    series = curves.series["val_loss"]
    assert series.curve.opts["symbol"] == "o"
    curves.handle_event(epoch_end(SYMBOLS_UP_TO + 1, 0.01, 0.011))
    curves.flush()
    assert series.curve.opts["symbol"] is None  # a dense curve: the line alone
    x, y = series.curve.getOriginalDataset()
    assert len(x) == SYMBOLS_UP_TO + 1 and y[-1] == pytest.approx(0.011)


def test_a_frame_fits_the_y_range_before_its_paint_and_paints_once(curves, qtbot):
    """pyqtgraph auto-ranges inside the paint, which marks everything dirty again and costs a
    second full paint; the frame fits the ranges itself, so a new point is one paint."""
    paints = []
    curves._glw.on_paint = paints.append
    curves.handle_events(run_events(FALLING, FALLING))
    curves.flush()
    qtbot.wait(200)  # the first frame's paints
    paints.clear()
    curves.handle_event(epoch_end(9, 5.0, 6.0))  # far above the view: y must grow
    curves.flush()
    y0, y1 = curves.loss_plot.vb.viewRange()[1]
    assert y0 < min(FALLING) and y1 > 6.0  # fitted already, before any paint
    qtbot.waitUntil(lambda: len(paints) >= 1)
    n = len(paints)
    qtbot.wait(200)  # (a second paint, if any, is queued at once)
    assert len(paints) == n == 1  # (two before: the range changed inside the first)


def test_legend_lists_only_curves_with_data(curves, qtbot):
    curves.flush()
    assert curves.legend_texts() == [] and not curves.loss_legend.isVisible()
    curves.handle_events([started(), batch(1, 5, 0.9), batch(1, 10, 0.8)])
    curves.flush()
    assert curves.legend_texts() == ["train (batches)"]
    # no validation split: the validation loss is nan and stays out of the legend
    curves.handle_event(EpochEnd(epoch=1, step=STEPS, logs={"loss": 0.8, "val_loss": math.nan,
                                                             "accuracy": 0.5, "lr": 0.01},
                                 lr=0.01, samples_per_s=1.0, elapsed=0.1, epoch_seconds=0.1))
    curves.flush()
    assert curves.legend_texts() == ["train (batches)", "train"]
    curves.handle_event(epoch_end(2, 0.7, 0.75))
    curves.flush()
    assert curves.legend_texts() == ["train (batches)", "train", "validation"]
    # compact: small text, top right of the loss panel
    legend = curves.loss_legend
    assert all(label.opts["size"] == "8pt" for _, label in legend.items)
    box, panel = legend.sceneBoundingRect(), curves.loss_plot.vb.sceneBoundingRect()
    assert panel.right() - box.right() < 12 and box.top() - panel.top() < 12
    assert box.width() < panel.width() / 3 and box.height() < panel.height() / 3
    assert legend.brush().color().alpha() < 255  # curves show through
    curves.handle_event(started())  # a new run: nothing drawn, nothing listed
    curves.flush()
    assert curves.legend_texts() == []


def _overlay_rows(k: int) -> list[dict]:
    return [{"epoch": e, "loss": 1 / (e + k), "val_loss": 1.1 / (e + k), "accuracy": 0.5,
             "val_accuracy": 0.45, "lr": 0.01 * (k + 1)} for e in range(1, 5)]


def test_overlays_only_legend_explains_line_styles_and_is_capped(curves):
    curves.show_runs([(f"#{k}", _overlay_rows(k), None) for k in range(6)])
    curves.set_x_axis("epoch")
    curves.flush()
    assert curves.legend_texts() == ["train", "validation"] + [f"#{k}" for k in range(6)]
    styles = [sample.item.opts["pen"].style() for sample, _ in curves.loss_legend.items[:2]]
    assert styles == [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine]
    assert curves.loss_legend.columnCount == 2  # wide and short rather than a tall column
    shot(curves, "overlays_only")

    # 30 trials, two of them selected (drawn strongly, the rest faded): the selected come first
    faded = QColor("#9467bd")
    faded.setAlpha(45)
    runs = [(f"#{k}", _overlay_rows(k), faded) for k in range(30) if k not in (12, 20)]
    runs += [("#12", _overlay_rows(12), QColor("#d62728")), ("#20", _overlay_rows(20), QColor("#2ca02c"))]
    curves.show_runs(runs)
    curves.flush()
    texts = curves.legend_texts()
    assert texts[:4] == ["train", "validation", "#12", "#20"]
    assert len(texts) == 2 + 8 and texts[-1] == "… 23 more"
    shot(curves, "overlays_many")
    curves.clear_overlays()
    assert curves.legend_texts() == []


def test_epoch_axis_ticks_whole_epochs(curves):
    curves.handle_events(run_events(FALLING[:4], FALLING[:4]))
    curves.set_x_axis("epoch")
    curves.flush()
    axis = curves.lr_plot.getAxis("bottom")
    lo, hi = curves.lr_plot.vb.viewRange()[0]
    values = [v for _, level in axis.tickValues(lo, hi, axis.width()) for v in level]
    assert values and all(float(v).is_integer() for v in values)
    assert {1.0, 2.0, 3.0, 4.0} <= set(values)
    curves.set_x_axis("step")  # steps and time keep pyqtgraph's ticks
    assert not axis.integer


def test_lr_label_is_not_under_the_legend(curves, qtbot):
    events = run_events(FALLING, FALLING)
    events.insert(-6, LRChanged(epoch=7, step=6 * STEPS, lr=0.003, previous=0.01))
    curves.handle_events(events)
    curves.flush()
    (_, lines), = curves.lr_markers.items
    label = lines[-1].label
    # the label is placed when the view has its range (on a paint)
    qtbot.waitUntil(lambda: label.isVisible() and
                    curves.lr_plot.vb.sceneBoundingRect().contains(label.sceneBoundingRect().center()), timeout=5000)
    assert not label.sceneBoundingRect().intersects(curves.loss_legend.sceneBoundingRect())


def test_low_panels_use_short_labels_and_a_wider_legend(curves, qtbot):
    curves.handle_events(run_events(FALLING, FALLING))
    curves.flush()
    assert curves.lr_plot.getAxis("left").labelText == "learning rate"
    assert curves.loss_legend.columnCount == 1
    curves.resize(700, 330)  # a short plot area: the labels would overlap the next panel's
    qtbot.waitUntil(lambda: curves.lr_plot.getAxis("left").labelText == "lr", timeout=2000)
    curves.flush()
    for plot in curves.plots:
        axis = plot.getAxis("left")
        assert axis.label.boundingRect().width() <= plot.vb.height() + 1, axis.labelText
    legend, panel = curves.loss_legend.sceneBoundingRect(), curves.loss_plot.vb.sceneBoundingRect()
    assert curves.loss_legend.columnCount > 1 and legend.height() < panel.height() * 0.5
    shot(curves, "short")
    curves.resize(900, 640)
    qtbot.waitUntil(lambda: curves.lr_plot.getAxis("left").labelText == "learning rate", timeout=2000)


def test_alerts_are_numbered_tags_that_never_cover_each_other(curves):
    """Alerts close together (five within a few steps) each get one dotted line and a numbered
    tag; the tags never overlap, and the words (naming the app's controls, not spec fields) are
    the tooltip."""
    curves.handle_events(run_events(FALLING, FALLING))
    message = ("Exploding gradients: the gradient norm jumped to 40, 27× its recent median (1.5). Enable "
               "gradient clipping (train.grad_clip, e.g. 1.0), or lower the learning rate (now 0.01).")
    for k, step in enumerate((31, 32, 33, 34, 35, 60)):
        curves.handle_event(HealthAlert(kind="exploding" if k % 2 else "dead_units", epoch=4, step=step,
                                        message=message, layer="" if k % 2 else "2 ReLU"))
    curves.flush()
    curves.grab()  # paint: the tags take their places
    lines = [lines[0] for _, lines in curves.alert_markers.items]
    assert len(lines) == 6 and [line.label.toPlainText() for line in lines] == ["1", "2", "3", "4", "5", "6"]
    assert curves.alert_markers.texts()[:2] == ["1: dead units (2 ReLU)", "2: exploding gradients"]
    shown = [line.label for line in lines if line.label.isVisible()]
    assert len(shown) >= 4  # (stacked in rows; the one at step 60 has room of its own)
    assert lines[-1].label.isVisible()
    rects = [label.sceneBoundingRect() for label in shown]
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not a.intersects(b), (a, b)
    tip = lines[1].toolTip()
    assert tip.startswith("Alert 2: Exploding gradients") and "Gradient clip on the Train page" in tip
    assert "train.grad_clip" not in tip and lines[1].label.toolTip() == tip
    shot(curves, "alerts")


def test_overfitting_since_epoch_never_drifts_and_follows_the_runs_alert(curves):
    """Once found, "overfitting since epoch N" stays N as epochs come (re-judging drifted it to 15
    on this curve, then dropped it), and the run's overfitting alert (what the status bar says)
    is the one the mark shows."""
    train = [1.0 / e for e in range(1, 31)]
    val = [1.0, 0.85, 0.7, 0.62, 0.6, 0.63, 0.67, 0.72, 0.78, 0.84, 0.9, 0.97, 1.04, 1.1, 1.18]
    val += [1.18 + 0.3 * (-1) ** k for k in range(15)]
    events = run_events(train, val)
    first = next(i for i, e in enumerate(events) if isinstance(e, EpochEnd) and e.epoch == 10)
    curves.handle_events(events[:first + 1])
    assert curves.overfitting_epoch == 8
    curves.handle_events(events[first + 1:])
    curves.flush()
    assert curves.overfitting_epoch == 8
    assert curves.overfit_mark.line.label.toPlainText() == "best epoch 5 · overfitting since 8"
    curves.handle_event(HealthAlert(kind="overfitting", epoch=10, step=100, message="Overfitting: ... since epoch 9",
                                    value=9, best_epoch=5))
    curves.flush()
    assert curves.overfitting_epoch == 9
    assert curves.overfit_mark.line.label.toPlainText() == "best epoch 5 · overfitting since 9"


def test_readout_gives_the_logged_last_values_not_the_smoothed_ones(curves):
    """With smoothing on, the latest readout is the run's real last loss, not the EMA's lagging one."""
    curves.set_smoothing(0.9)
    curves.handle_events(run_events(FALLING, [v + 0.1 for v in FALLING]))
    curves.flush()
    text = curves.readout.text().replace("\u00a0", " ")
    assert f"train {FALLING[-1]:.4g}," in text and f"validation {FALLING[-1] + 0.1:.4g}," in text
    assert "not the smoothed" in curves.readout.toolTip()


def test_empty_plots_say_what_will_be_drawn_there(curves, qtbot):
    """Before any run (and with no run overlaid) the plots carry words, not bare 0-1 axes."""
    hint = curves.empty_hint
    assert hint.isVisibleTo(curves) and "Press Train" in hint.text()
    curves.handle_events(run_events([1.0, 0.5, 0.3], [1.1, 0.6, 0.4]))
    curves.flush()
    assert not hint.isVisibleTo(curves)
    curves.reset()
    curves.flush()
    assert hint.isVisibleTo(curves)
    curves.show_runs([("#1 spiral", [{"epoch": 1, "loss": 0.5, "val_loss": 0.6, "step": 10}], None)])
    curves.flush()
    assert not hint.isVisibleTo(curves)  # an overlaid run is something to look at
