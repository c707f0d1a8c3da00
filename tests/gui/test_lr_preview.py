"""LrPreview: the schedule preview plot of the training panel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.gui.plots.lr_preview import LrPreview

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def preview(qtbot):
    w = LrPreview()
    qtbot.addWidget(w)
    w.resize(320, 120)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_curve_points_and_fixed_height(preview):
    values = [0.1 * 0.5 * (1 + np.cos(np.pi * e / 20)) for e in range(20)]
    preview.set_curve(values)
    x, y = preview.curve.getOriginalDataset()
    np.testing.assert_allclose(x, np.arange(1, 21))
    np.testing.assert_allclose(y, values)
    assert preview.height() == 120 and preview.maximumHeight() == 120
    assert preview.log_y  # cosine to ~0: spans more than a decade
    SHOTS.mkdir(exist_ok=True)
    preview.grab().save(str(SHOTS / "plots_lr_preview_cosine.png"))


def test_linear_when_within_a_decade(preview):
    preview.set_curve([0.01] * 5 + [0.005] * 5 + [0.0025] * 5)
    assert not preview.log_y
    preview.set_curve([0.01 * 0.1 ** (e / 10) for e in range(15)])  # 0.01 .. 0.0004
    assert preview.log_y
    SHOTS.mkdir(exist_ok=True)
    preview.grab().save(str(SHOTS / "plots_lr_preview_log.png"))


def test_empty_single_and_nan(preview):
    preview.set_curve([])
    assert preview.curve.getOriginalDataset() == (None, None)
    preview.set_curve([0.01])
    assert len(preview.curve.getOriginalDataset()[1]) == 1
    preview.set_curve([0.01, float("nan"), 0.005])
    assert not preview.grab().isNull()


def test_the_training_panel_previews_with_the_catalog_and_shows_its_errors(qtbot, make_window, monkeypatch):
    from helpers import choose
    from workbench.core import catalog

    window = make_window()
    window.show_page("train")
    panel = window.training_panel
    choose(qtbot, panel.schedule.combo, "StepLR")
    spec = window.session.spec
    qtbot.waitUntil(lambda: not panel.lr_preview.pending)
    expected = catalog.lr_curve(spec.schedule, spec.optimizer.params["lr"], spec.train.epochs, 11)
    np.testing.assert_allclose(panel.lr_preview.values[:5], expected[:5])  # the catalog's curve, not a copy

    def broken(*_args, **_kwargs):
        raise ValueError("step_size must be at least 1")

    monkeypatch.setattr(catalog, "lr_curve", broken)
    window.session.edit({"train.epochs": spec.train.epochs + 1})
    qtbot.waitUntil(lambda: "step_size must be at least 1" in panel.lr_preview.pending_text.toPlainText())
    assert panel.lr_preview.pending_text.isVisible() and len(panel.lr_preview.values) == 0


def test_a_chosen_schedule_never_shows_a_flat_stand_in(qtbot, make_window):
    """Issue 8, item 11: right after a schedule is chosen the preview says it is working the curve
    out (nothing drawn, no numbers on its axis) until the real curve is there; never a flat line."""
    from helpers import choose

    window = make_window()
    window.show_page("train")
    preview = window.training_panel.lr_preview
    seen = []

    def note(*_args):
        x, y = preview.curve.getData()
        seen.append((preview.pending, 0 if y is None else len(y), None if y is None or not len(y) else float(np.ptp(y))))

    preview.curve.sigPlotChanged.connect(note)
    choose(qtbot, window.training_panel.schedule.combo, "CosineAnnealingLR")
    assert preview.pending or len(preview.values) == window.session.spec.train.epochs
    qtbot.waitUntil(lambda: not preview.pending)
    assert len(preview.values) == window.session.spec.train.epochs and np.ptp(preview.values) > 0
    drawn = [s for s in seen if s[1] > 0]
    assert drawn and all(spread > 0 for _, _, spread in drawn)  # every curve drawn was the real one
