"""Sweep views fed synthetic trials: linked selection across parallel coordinates and scatters,
importance bars, spec diff and repeat bands, plus screenshots in light and dark themes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from workbench.core.runs import Group, group_stats
from workbench.gui.plots.band_curves import BandCurves
from workbench.gui.plots.importance import ImportanceChart
from workbench.gui.plots.parallel_coords import ParallelCoordinates
from workbench.gui.plots.param_scatter import ParamScatter
from workbench.gui.plots.trial_axes import AxisSpec
from workbench.gui.selection import TrialSelection
from workbench.gui.theme import dark_palette, light_palette
from workbench.gui.widgets.spec_diff import SpecDiffView

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
AXES = [AxisSpec("optimizer.lr", "log", "learning rate"), AxisSpec("model.layers.0.out_features", "linear", "width"),
        AxisSpec("optimizer.type", "categorical", "optimizer"), AxisSpec("model.layers.2.p", "linear", "dropout")]


def synthetic_trials(n=30, seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    for i in range(n):
        lr = float(10 ** rng.uniform(-4, -1))
        params = {"optimizer.lr": lr, "model.layers.0.out_features": int(rng.choice([8, 16, 32, 64])),
                  "optimizer.type": str(rng.choice(["Adam", "SGD", "AdamW"])),
                  "model.layers.2.p": round(float(rng.uniform(0, 0.5)), 3)}
        value = 0.2 + 0.3 * (math.log10(lr) + 2.5) ** 2 + 0.02 * rng.normal()
        status = "failed" if i in (4, 17) else "pruned" if i == 9 else "complete"
        trials.append({"id": 100 + i, "params": params, "value": None if status == "failed" else value,
                       "status": status})
    return trials


def shot(widget, name):
    SHOTS.mkdir(exist_ok=True)
    QApplication.processEvents()
    widget.grab().save(str(SHOTS / f"sweep_{name}.png"))


@pytest.fixture
def linked(qtbot):
    selection = TrialSelection()
    pc = ParallelCoordinates(selection)
    sc = ParamScatter(selection)
    for w in (pc, sc):
        qtbot.addWidget(w)
        w.resize(900, 480)
    pc.set_axes(AXES)
    sc.set_axes(AXES)
    trials = synthetic_trials()
    pc.set_data(trials, metric="val_loss", direction="minimize")
    sc.set_data(trials, metric="val_loss", direction="minimize")
    for w in (pc, sc):
        w.show()
        qtbot.waitExposed(w)
    QApplication.processEvents()
    return selection, pc, sc, trials


def n_points(item) -> int:
    xs = item.getData()[0]
    return 0 if xs is None else len(xs)


def luminance(c) -> float:
    return 0.2126 * c.redF() + 0.7152 * c.greenF() + 0.0722 * c.blueF()


def widget_pos(pc: ParallelCoordinates, view_point: QPointF) -> QPoint:
    scene = pc.plot.getViewBox().mapViewToScene(view_point)
    return pc.view.mapFromScene(scene)


def pickable_midpoint(pc, trials):
    """A trial and the midpoint of its first segment, where no other line is nearer."""
    for t in trials:
        a, b = pc.trial_point(t["id"], 0), pc.trial_point(t["id"], 1)
        mid = QPointF((a.x() + b.x()) / 2, (a.y() + b.y()) / 2)
        scene = pc.plot.getViewBox().mapViewToScene(mid)
        if pc.trial_at(scene) == t["id"]:
            return t, mid
    raise AssertionError("no line can be picked on its own")


def test_click_line_selects_trial_everywhere(linked, qtbot):
    selection, pc, sc, trials = linked
    trial, mid = pickable_midpoint(pc, [t for t in trials if t["status"] == "complete"])
    with qtbot.waitSignal(selection.selection_changed, timeout=2000) as blocker:
        qtbot.mouseClick(pc.view.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos(pc, mid))
    assert blocker.args == [{trial["id"]}]
    assert selection.selected_ids == {trial["id"]}
    # The scatter outlines exactly that trial's point in every cell.
    logs = [math.log10(t["params"]["optimizer.lr"]) for t in trials]
    x_lr = math.log10(trial["params"]["optimizer.lr"])
    (px, py), = sc.selected_points("optimizer.lr")
    assert py == pytest.approx(trial["value"])
    assert px == pytest.approx((x_lr - min(logs)) / (max(logs) - min(logs)))  # log axis
    assert all(len(sc.selected_points(name)) == 1 for name in sc.parameter_names)
    # Selected lines are drawn thick on top, in their own colour.
    xs, ys = pc._outline_item.getData()
    assert len(xs) == len(AXES) + 1
    # Clicking empty space clears the selection.
    far = widget_pos(pc, QPointF(-0.4, 1.04))
    qtbot.mouseClick(pc.view.viewport(), Qt.MouseButton.LeftButton, pos=far)
    assert selection.selected_ids == set()
    assert sc.selected_points("optimizer.lr") == []
    assert n_points(pc._outline_item) == 0


def test_ctrl_click_adds_and_scatter_click_selects(linked, qtbot):
    selection, pc, sc, trials = linked
    first, second = trials[0]["id"], trials[1]["id"]
    selection.select(first)
    cell = sc.cell("optimizer.lr")
    point = next(p for p in cell.points.points() if p.data() == second)
    scene = cell.points.mapToScene(point.pos())
    pos = sc.view.mapFromScene(scene)
    qtbot.mouseClick(sc.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, pos)
    assert selection.selected_ids == {first, second}
    assert len(pc._outline_item.getData()[0]) == 2 * (len(AXES) + 1)


def test_hover_highlights_line(linked, qtbot):
    selection, pc, sc, trials = linked
    trial, mid = pickable_midpoint(pc, trials[5:])
    qtbot.mouseMove(pc.view.viewport(), widget_pos(pc, mid))
    qtbot.waitUntil(lambda: selection.hovered_id == trial["id"], timeout=2000)
    xs, ys = pc._hover_item.getData()
    assert len(xs) == len(AXES) + 1 and ys[1] == pytest.approx(pc.trial_point(trial["id"], 1).y())
    assert len(sc.cell("optimizer.lr").hovered.getData()[0]) == 1
    selection.set_hovered(None)
    assert n_points(pc._hover_item) == 0


def test_categorical_and_log_axis_ticks(linked):
    _, pc, _, _ = linked
    assert pc.axis_names == [a.name for a in AXES] + ["__metric__"]
    cats = pc.axis_ticks("optimizer.type")
    assert [label for _, label in cats] == ["Adam", "AdamW", "SGD"]
    assert [pos for pos, _ in cats] == [0.0, 0.5, 1.0]
    log_labels = [label for _, label in pc.axis_ticks("optimizer.lr")]
    assert log_labels == ["0.001", "0.01"] or set(log_labels) >= {"0.001", "0.01"}
    bottom = [label for _, label in pc.plot.getAxis("bottom")._tickLevels[0]]
    assert bottom == ["learning rate", "width", "optimizer", "dropout", "val_loss"]


def test_colour_by_metric_is_monotone_and_failed_grey(linked):
    _, pc, sc, trials = linked
    ok = sorted((t for t in trials if t["status"] == "complete"), key=lambda t: t["value"])
    # Lower val_loss is better: the best is brightest, lightness never increases with the loss.
    light = [luminance(pc.line_color(t["id"])) for t in ok]
    assert all(a >= b - 1e-9 for a, b in zip(light, light[1:]))
    assert light[0] > light[-1] + 0.3
    scatter_light = [luminance(sc.point_color("optimizer.lr", t["id"])) for t in ok]
    assert all(a >= b - 0.02 for a, b in zip(scatter_light, scatter_light[1:]))
    failed = pc.line_color(104)
    assert failed.alpha() < 120 and failed.saturationF() < 0.1
    assert pc.line_color(109).alpha() < 120  # pruned: grey too


def test_thousand_trials_one_item_per_colour(qtbot):
    """How fast: benchmarks/scale.py (parallel_coords)."""
    selection = TrialSelection()
    pc = ParallelCoordinates(selection)
    qtbot.addWidget(pc)
    pc.set_data(synthetic_trials(1000, seed=3), metric="val_loss")
    pc.grab()
    assert len(pc.plot.items) < 60 + 6 * 5  # lines share items; text items are per tick


def test_importance_ranks_driver_first(qtbot):
    chart = ImportanceChart()
    qtbot.addWidget(chart)
    chart.set_trials(synthetic_trials()[:2])
    assert chart.showing_message and "needs at least 3 finished trials" in chart.message.text()
    chart.set_trials(synthetic_trials(6))  # one of them failed
    assert not chart.showing_message and chart.caption.text().startswith("Method: PED-ANOVA")
    assert "Rough estimate: only 5 finished trials" in chart.caption.text()
    chart.set_trials(synthetic_trials(60))
    assert not chart.showing_message and chart.note == ""
    assert list(chart.importances)[0] == "optimizer.lr"
    assert "Rough" not in chart.caption.text()
    ticks = chart.plot.getAxis("left")._tickLevels[0]
    assert max(ticks)[1] == "optimizer.lr"  # the top bar


def test_spec_diff_highlights_exactly_differing_rows(qtbot):
    view = SpecDiffView()
    qtbot.addWidget(view)
    left = {"optimizer": {"type": "Adam", "lr": 0.01}, "train": {"epochs": 10},
            "model": {"layers": [{"type": "Linear", "out_features": 16}, {"type": "ReLU"}]}}
    right = {"optimizer": {"type": "Adam", "lr": 0.003}, "train": {"epochs": 10, "seed": 1},
             "model": {"layers": [{"type": "Linear", "out_features": 32}]}}
    view.set_specs(left, right, "run 3", "run 7")
    expected = ["optimizer.lr", "train.seed", "model.layers.0.out_features", "model.layers.1.type"]
    assert view.highlighted_paths() == expected
    assert view.summary.text() == "4 fields differ"
    row = view.visible_paths().index("model.layers.1.type")
    assert view.table.item(row, 2).text() == "—" and view.table.item(row, 1).text() == "ReLU"
    assert view.table.horizontalHeaderItem(1).text() == "run 3"
    # every setting of both, left-out parameters at their defaults (Adam's betas, Linear's bias)
    assert {"optimizer.beta1", "model.layers.0.bias"} <= set(view.visible_paths())
    view.only_differences.setChecked(True)
    assert view.visible_paths() == expected


def repeat_groups(seed=0):
    rng = np.random.default_rng(seed)

    def runs(base, n, lengths):
        return [[{"epoch": e, "val_loss": base / e + 0.02 * rng.normal(), "val_accuracy": 1 - base / e}
                 for e in range(1, length + 1)] for length in lengths[:n]]

    return [Group("Adam", runs(1.0, 5, [12, 12, 10, 12, 11])), Group("SGD", runs(1.6, 4, [12, 12, 12, 9]))]


def test_band_curves_match_numpy(qtbot):
    bands = BandCurves()
    qtbot.addWidget(bands)
    groups = repeat_groups()
    bands.set_groups(groups)
    assert bands.key == "val_loss"
    epochs, mean, lower, upper = bands.band("Adam")
    values = np.full((5, 12), np.nan)
    for r, run in enumerate(groups[0].runs):
        for logs in run:
            values[r, logs["epoch"] - 1] = logs["val_loss"]
    np.testing.assert_allclose(mean, np.nanmean(values, axis=0))
    np.testing.assert_allclose(upper - mean, np.nanstd(values, axis=0, ddof=1))
    np.testing.assert_allclose(mean - lower, np.nanstd(values, axis=0, ddof=1))
    assert bands.comparison is not None and bands.comparison.significant
    assert "Adam is better than SGD" in bands.verdict.text()
    bands.set_key("val_accuracy")
    assert bands.band("SGD")[1][0] == pytest.approx(group_stats(groups[1].runs, "val_accuracy")[1][0])


def test_screenshots_light_and_dark(linked, qtbot):
    selection, pc, sc, trials = linked
    selection.set_selected({trials[2]["id"], trials[11]["id"]})
    selection.set_hovered(trials[20]["id"])
    imp = ImportanceChart()
    diff = SpecDiffView()
    bands = BandCurves()
    for w, size in ((imp, (520, 300)), (diff, (620, 360)), (bands, (760, 440))):
        qtbot.addWidget(w)
        w.resize(*size)
    imp.set_trials(trials)
    diff.set_specs({"optimizer": {"type": "Adam", "lr": 0.01}, "train": {"epochs": 10, "batch_size": 32},
                    "model": {"layers": [{"type": "Linear", "out_features": 16}, {"type": "ReLU"},
                                         {"type": "Dropout", "p": 0.1}]}},
                   {"optimizer": {"type": "SGD", "lr": 0.01, "momentum": 0.9}, "train": {"epochs": 10, "batch_size": 32},
                    "model": {"layers": [{"type": "Linear", "out_features": 64}, {"type": "ReLU"}]}},
                   "run 12 (Adam)", "run 15 (SGD)")
    bands.set_groups(repeat_groups())
    widgets = {"parallel": pc, "scatter": sc, "importance": imp, "diff": diff, "bands": bands}
    for theme, palette in (("light", light_palette()), ("dark", dark_palette())):
        for name, w in widgets.items():
            w.setPalette(palette)
            w.show()
            shot(w, f"{name}_{theme}")
    assert (SHOTS / "sweep_parallel_dark.png").exists()


def test_brush_an_axis_by_dragging(linked, qtbot):
    selection, pc, sc, trials = linked
    viewport = pc.view.viewport()
    j = pc.axis_names.index("model.layers.2.p")
    start, end = widget_pos(pc, QPointF(j, 0.05)), widget_pos(pc, QPointF(j, 0.45))
    with qtbot.waitSignal(pc.filter_changed, timeout=2000):
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
        for k in range(1, 6):
            qtbot.mouseMove(viewport, start + (end - start) * (k / 5))
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    lo, hi = pc.brushes["model.layers.2.p"]
    assert lo == pytest.approx(0.05, abs=0.02) and hi == pytest.approx(0.45, abs=0.02)
    inside = {t["id"] for t in trials if lo <= pc.trial_point(t["id"], j).y() <= hi}
    assert pc.visible_ids() == inside and 0 < len(inside) < len(trials)
    outside = next(t["id"] for t in trials if t["id"] not in inside and t["status"] == "complete")
    assert pc.line_color(outside).alpha() < 120  # filtered lines turn grey
    shot(pc, "parallel_brushed")
    # A click on the axis drops its brush.
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=widget_pos(pc, QPointF(j, 0.9)))
    assert pc.brushes == {} and pc.visible_ids() == {t["id"] for t in trials}


def test_close_metrics_running_trial_and_colour_bar_read_right(qtbot):
    """Three trials at val_loss 1.38636-1.38641 and one still running (as a walkthrough saw): the
    running one is not called failed, the metric axis and the colour bar say different numbers
    at different ticks, and the colour bar names its metric and which end is better."""
    selection = TrialSelection()
    pc = ParallelCoordinates(selection)
    qtbot.addWidget(pc)
    pc.resize(900, 480)
    values = [1.386362, 1.386382, 1.386414]
    trials = [{"id": i, "params": {"optimizer.lr": lr}, "value": v, "status": "complete"}
              for i, (lr, v) in enumerate(zip((0.0125, 0.016, 0.027), values))]
    trials.append({"id": 3, "params": {"optimizer.lr": 0.0123}, "value": None, "status": "running"})
    pc.set_axes([AxisSpec("optimizer.lr", "log", "lr")])
    pc.set_data(trials, metric="val_loss", direction="minimize")
    pc.show()
    qtbot.waitExposed(pc)
    status = pc.status.text()
    assert "failed" not in status and "1 running" in status
    labels = [label for _, label in pc.axis_ticks(pc.axis_names[-1])]  # the metric's axis
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
    bar_axis = pc.bar.getAxis("right")
    assert bar_axis.labelText == "colour: val_loss (lower is better)"
    bar_labels = [label for _, label in pc.colour_bar_ticks]
    assert len(bar_labels) >= 2 and len(set(bar_labels)) == len(bar_labels), bar_labels


def test_parallel_coordinates_without_trials_say_so(qtbot):
    """The empty Sweeps page showed one bare 'metric' axis from 0 to 1 and '0 trials'."""
    pc = ParallelCoordinates(TrialSelection())
    qtbot.addWidget(pc)
    pc.set_data([], metric="val_loss")
    assert pc.empty_hint.isVisibleTo(pc) and "Each trial" in pc.empty_hint.text()
    pc.set_data(synthetic_trials(5), metric="val_loss")
    assert not pc.empty_hint.isVisibleTo(pc)
