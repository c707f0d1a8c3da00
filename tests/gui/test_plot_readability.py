"""What a person reads off the plots (issue 8, items 3, 4 and 11): tick labels that never pile
up (lr axis after a live LR change, log axes, the schedule preview), a readout that belongs to
the run being drawn and is never cut off, and a schedule preview that never shows a stale or
made-up line."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtTest import QTest

from workbench.core.training import LRChanged
from workbench.gui.plots.lr_preview import LrPreview
from workbench.gui.plots.readable_axis import linear_ticks, log_ticks, tick_text

from test_live_curves import FALLING, STEPS, batch, epoch_end, run_events, started


def drawn_labels(axis) -> list[tuple[str, object]]:
    """(text, rect) of every tick label the axis draws now, as pyqtgraph lays them out."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        axis.picture = None
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    _, _, texts = specs
    return [(text, rect) for rect, _flags, text in texts]


def assert_readable(axis, at_least: int = 2) -> list[str]:
    labels = drawn_labels(axis)
    texts = [t for t, _ in labels]
    assert len(texts) >= at_least, texts
    assert len(set(texts)) == len(texts), f"repeated labels: {texts}"
    rects = sorted((r for _, r in labels), key=lambda r: r.top())
    for a, b in zip(rects, rects[1:]):
        assert not a.intersects(b), f"labels overlap: {texts}"
    return texts


@pytest.fixture
def curves(make_curves):
    return make_curves(560, 420)  # the centre of the window at 1366x768


@pytest.fixture
def preview(qtbot):
    w = LrPreview()
    qtbot.addWidget(w)
    w.resize(300, 120)  # as wide as the training panel gives it
    w.show()
    qtbot.waitExposed(w)
    return w


# ---- item 3: tick labels ----------------------------------------------------------------------
def test_lr_axis_stays_readable_after_a_live_lr_change(curves, qtbot):
    events = [started(epochs=20)]
    for e in range(1, 5):
        events += [batch(e, b, 0.5) for b in range(1, STEPS + 1)] + [epoch_end(e, 0.5, 0.6)]
    curves.handle_events(events)
    curves.flush()
    axis = curves.lr_plot.getAxis("left")
    assert assert_readable(axis) and not axis.logMode
    # 0.01 -> 0.0003: more than a decade, so the lr panel turns logarithmic
    curves.handle_event(LRChanged(epoch=5, step=4 * STEPS, lr=0.0003, previous=0.01))
    later = [batch(5, b, 0.4, lr=0.0003) for b in range(1, STEPS + 1)] + [epoch_end(5, 0.4, 0.5, lr=0.0003)]
    curves.handle_events(later)
    curves.flush()
    qtbot.wait(20)
    assert axis.logMode
    texts = assert_readable(axis)
    assert "0.01" in texts and all(float(t) > 0 for t in texts)


def test_labels_of_stacked_panels_do_not_run_into_each_other(curves):
    curves.handle_events(run_events(FALLING, [v + 0.1 for v in FALLING]))
    curves.flush()
    rects = []
    for plot in curves.plots:
        axis = plot.getAxis("left")
        rects += [(text, axis.mapRectToScene(rect)) for text, rect in drawn_labels(axis)]
    for i, (a, ra) in enumerate(rects):
        for b, rb in rects[i + 1:]:
            assert not ra.intersects(rb), f"{a!r} and {b!r} overlap"


def test_log_loss_axis_is_readable(curves, qtbot):
    curves.handle_events(run_events([1.0 * 0.5 ** e for e in range(12)], [1.2 * 0.5 ** e for e in range(12)]))
    curves.set_log_y(True)
    curves.flush()
    qtbot.waitUntil(lambda: curves.loss_plot.vb.viewRange()[1][0] < -2, timeout=2000)  # 0.0005 .. 1.2
    texts = assert_readable(curves.loss_plot.getAxis("left"))
    assert texts[:2] == ["0.001", "0.01"]


@pytest.mark.parametrize("values", [
    [0.1 * 0.5 * (1 + math.cos(math.pi * e / 40)) + 1e-4 for e in range(40)],  # cosine to ~0
    [0.01 * 0.9 ** e for e in range(40)],  # exponential, 0.01 .. 0.00015
    [0.0005 + 0.0095 * e / 10 for e in range(10)] + [0.01] * 30,  # warmup from 0.0005
])
def test_schedule_preview_log_ticks_do_not_pile_up(preview, values):
    preview.set_curve(values)
    assert preview.log_y
    assert_readable(preview.plot.getAxis("left"))


def test_tick_choice_rules():
    assert linear_ticks(0.0, 0.0112, 2) == (0.01, [0.0, 0.01])
    assert [tick_text(10 ** v) for v in log_ticks(math.log10(1e-5), math.log10(0.1), 3)] == ["1e-5", "0.001", "0.1"]
    # a cosine to ~0 over 7 decades, room for 2 labels: the rate itself (0.01) is one of them
    assert [tick_text(10 ** v) for v in log_ticks(-8.2, -1.9, 2)] == ["1e-6", "0.01"]
    assert [tick_text(10 ** v) for v in log_ticks(math.log10(0.0003), math.log10(0.01), 4)] == ["0.001", "0.01"]
    within = [tick_text(10 ** v) for v in log_ticks(math.log10(0.0011), math.log10(0.009), 4)]
    assert within == ["0.002", "0.005"]
    assert tick_text(0.2 + 1e-12, 0.1) == "0.2" and tick_text(1e-18, 0.1) == "0"
    # steps on the Diagnose page's axes read as on the Train page's: "2000", not "2e3"
    assert [tick_text(v, 1000.0) for v in (1000.0, 2000.0, 15000.0)] == ["1000", "2000", "15000"]
    assert tick_text(2.5e6) == "2.5e6" and tick_text(1500.5) == "1.5e3"


# ---- item 4: the readout under the plots -------------------------------------------------------
def _text(curves) -> str:
    return curves.readout.text().replace("\u00a0", " ")


def test_readout_follows_the_new_run_not_the_last_one(curves, qtbot):
    curves.handle_events(run_events(FALLING, [v + 0.1 for v in FALLING]))
    curves.set_smoothing(0.0)
    curves.flush()
    old = f"{FALLING[-1]:.4g}"
    assert f"train {old}" in _text(curves)  # the latest values, without hovering
    curves.handle_event(started(epochs=5))  # a new run starts
    assert _text(curves).strip() == ""
    curves.handle_events([batch(1, b, 0.777) for b in range(1, STEPS + 1)] + [epoch_end(1, 0.7, 0.8, metric=0.61)])
    curves.flush()
    text = _text(curves)
    assert "train 0.7," in text and "validation 0.8" in text and old not in text
    # the mouse leaves after hovering: back to the latest values, not the hovered ones
    middle_y = sum(curves.loss_plot.vb.viewRange()[1]) / 2  # inside the loss panel, whatever its range
    pos = curves._glw.mapFromScene(curves.loss_plot.vb.mapViewToScene(QPointF(2, middle_y)))
    QTest.mouseMove(curves._glw.viewport(), pos)
    qtbot.waitUntil(lambda: curves.crosshair.active, timeout=2000)
    curves.crosshair.hide()
    assert _text(curves).startswith("step 10")


def test_readout_gives_no_stale_batch_loss(curves):
    # short epochs report no batches: the last batch loss (epoch 1) is not the batch loss at epoch 8
    events = [started(epochs=8), batch(1, 5, 0.9)]
    events += [epoch_end(e, 1.0 / (e + 1), 1.1 / (e + 1)) for e in range(1, 9)]
    curves.handle_events(events)
    curves.set_smoothing(0.0)
    curves.flush()
    text = _text(curves)
    assert text.startswith("step 80") and "batch" not in text and "0.9" not in text
    curves.show_crosshair(5.4)  # at the batch: its value; a step is whole wherever the pointer is
    assert _text(curves).startswith("step 5 ")
    assert "batch 0.9" in _text(curves)


def test_readout_is_never_cut_off(curves, qtbot):
    curves.handle_events(run_events([0.123456] * 3, [0.654321] * 3))
    curves.flush()
    for width in (560, 430):
        curves.resize(width, 420)
        qtbot.waitUntil(lambda w=width: curves.readout.width() <= w, timeout=2000)
        label = curves.readout
        needed = label.heightForWidth(label.width())
        assert needed <= label.height(), f"{width}px: the text needs {needed}px, has {label.height()}"
        assert label.width() <= curves.width()
    assert "lr 0.01" in _text(curves)


# ---- item 11: the schedule preview never shows a made-up line -----------------------------------
def test_constant_rate_is_drawn_from_zero(preview):
    preview.set_curve([0.01] * 30)
    y0, y1 = preview.plot.vb.viewRange()[1]
    assert y0 >= -1e-9 and 0.01 < y1 < 0.02  # not 0.01 ± 0.5
    assert all(float(t) >= 0 for t in assert_readable(preview.plot.getAxis("left")))


def test_pending_preview_hides_the_old_curve(preview):
    preview.set_curve([0.01] * 30)
    preview.show_pending(epochs=400)
    assert preview.pending and preview.pending_text.isVisible()
    x0, x1 = preview.plot.vb.viewRange()[0]
    assert x0 < 10 and 390 < x1 < 420  # the planned epochs, not the old curve's 30
    assert preview.curve.getOriginalDataset() == (None, None) or len(preview.curve.getOriginalDataset()[1]) == 0
    assert drawn_labels(preview.plot.getAxis("left")) == []  # no numbers for a curve not there yet
    preview.set_curve([0.01 * 0.9 ** e for e in range(30)])
    assert not preview.pending and not preview.pending_text.isVisible()
    assert len(preview.curve.getOriginalDataset()[1]) == 30


def test_choosing_a_schedule_never_shows_a_flat_stale_line(qtbot, make_window):
    from helpers import choose

    window = make_window()
    window.show_page("train")
    panel = window.training_panel
    preview = panel.lr_preview
    shown = []  # every curve the preview was given, as a person would have seen it drawn
    original = preview.set_curve
    preview.set_curve = lambda values: (shown.append(list(values)), original(values))[1]
    choose(qtbot, panel.schedule.combo, "CosineAnnealingLR")
    assert preview.isVisible()
    _, drawn = preview.curve.getOriginalDataset()  # what is drawn the moment the schedule shows
    assert drawn is None or len(drawn) == 0 or len(set(drawn)) > 1, "the old flat line is still drawn"
    qtbot.waitUntil(lambda: not preview.pending, timeout=8000)
    assert shown and all(len(set(v)) > 1 for v in shown), "a flat line was drawn for a cosine schedule"
    y0, y1 = preview.plot.vb.viewRange()[1]
    assert y0 > math.log10(1e-9) if preview.log_y else y0 >= -1e-9
