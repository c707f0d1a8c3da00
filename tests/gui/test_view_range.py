"""The live plots' ranges move in steps, not with every new point (issue 8: a range that follows
each point makes its axis regenerate ticks and labels and repaint, most of a live frame)."""

from __future__ import annotations

import numpy as np
import pytest

from test_live_curves import epoch_end, run_events, started
from workbench.core.training import RunFinished
from workbench.gui.plots.view_range import X_NICE, follow_x, nice_above, step_y


@pytest.fixture
def curves(make_curves):
    return make_curves()


@pytest.mark.parametrize("value, nice", [(1.0, 1.0), (1.01, 1.2), (7.0, 8.0), (8.5, 10.0), (0.031, 0.04),
                                         (123.0, 150.0), (2400.0, 2500.0)])
def test_nice_above_is_the_next_round_value(value, nice):
    assert nice_above(value) == pytest.approx(nice)


def test_the_x_range_grows_about_ten_times_a_decade_and_stops_at_the_runs_end():
    view, moves = (0.0, 1.0), 0
    for hi in range(2, 2001):
        new = follow_x(view, 1.0, float(hi))
        if new is not None:
            view, moves = new, moves + 1
        assert view[0] <= 1.0 and view[1] >= hi
    assert moves <= 40  # 3.3 decades; 10 % headroom moved it ~80 times
    assert max(b / a for a, b in zip(X_NICE, X_NICE[1:])) <= 4 / 3 + 1e-9  # the data fill >= 3/4 of the view
    # the planned end: the view reaches it, never past it
    assert follow_x((0.0, 1000.0), 1.0, 1010.0)[1] == pytest.approx(1201.0)  # the round span
    new = follow_x((0.0, 1000.0), 1.0, 1010.0, end=1100.0)
    assert new[1] == pytest.approx(1100.0 + 0.02 * 1009.0)  # the run's end (and a margin)
    assert follow_x(new, 1.0, 1100.0, end=1100.0) is None  # the last point: no more moves


def test_the_y_range_is_kept_while_the_data_fit_and_grows_with_room_on_their_side():
    assert step_y((0.0, 1.0), 0.1, 0.9, pad=0.02) is None
    lo, hi = step_y((0.2, 1.0), 0.1, 0.9, pad=0.02)  # a falling loss left the view at the bottom
    assert hi == 1.0 and lo == pytest.approx(0.1 - 0.02 - 0.15 * 0.8)  # the top edge stays
    lo, hi = step_y((0.2, 1.0), 0.3, 1.1)  # a rising accuracy: room above
    assert lo == 0.2 and hi == pytest.approx(1.1 + 0.15 * 0.8)
    assert step_y((0.0, 10.0), 0.1, 0.9) == (0.1, 0.9)  # far too loose: fitted
    lo, _ = step_y((0.05, 1.0), 0.01, 0.9, floor_zero=True)  # never-negative data: no room below 0
    assert lo == 0.0


def test_a_steady_run_moves_the_y_axes_a_few_times_not_every_frame(curves):
    curves.handle_event(started(epochs=400))
    moves = {"loss": 0, "metric": 0}
    ranges = {}
    rng = np.random.default_rng(0)
    for e in range(1, 401):
        loss = 2.0 * np.exp(-e / 80) + 0.05 + 0.02 * rng.standard_normal()
        curves.handle_event(epoch_end(e, loss, loss * 1.1, metric=1 - loss / 2.2))
        curves.flush()
        for name, plot in (("loss", curves.loss_plot), ("metric", curves.metric_plot)):
            now = tuple(plot.vb.viewRange()[1])
            moves[name] += ranges.get(name) not in (None, now)
            ranges[name] = now
            y = curves.series["train_loss" if name == "loss" else "train_metric"].buffer.column(
                "loss" if name == "loss" else "metric")
            assert now[0] <= y.min() and y.max() <= now[1]  # every point always in view
    assert moves["loss"] <= 25 and moves["metric"] <= 25, moves  # (~400 following every frame)


def test_follow_and_the_end_of_the_run_fit_y_tightly(curves, qtbot):
    events = run_events([1.0 - 0.08 * e for e in range(10)], [1.1 - 0.08 * e for e in range(10)])
    curves.handle_events(events)
    curves.flush()
    curves.loss_plot.vb.setYRange(-5, 5, padding=0)  # a person zoomed out
    curves.follow()
    curves.flush()
    lo, hi = curves.loss_plot.vb.viewRange()[1]
    assert -0.2 < lo < 0.35 and 1.0 < hi < 1.4  # fitted again, not kept at -5..5
    curves.handle_event(RunFinished(epochs=10, metrics={}, duration=1.0))
    curves.flush()
    lo2, hi2 = curves.loss_plot.vb.viewRange()[1]
    data = np.concatenate([curves.series[k].buffer.column(curves.series[k].column)
                           for k in ("batch_loss", "train_loss", "val_loss")])
    span = np.nanmax(data) - np.nanmin(data)
    assert lo2 >= np.nanmin(data) - 0.1 * span and hi2 <= np.nanmax(data) + 0.1 * span
    # and x ends at the last step, not at the round span it had grown to
    last = curves.series["train_loss"].buffer.column("step")[-1]
    assert last < curves.lr_plot.vb.viewRange()[0][1] <= last * 1.03


def test_the_live_x_range_reaches_the_planned_end_and_no_further(curves):
    curves.handle_event(started(epochs=97))
    for e in range(1, 98):
        curves.handle_event(epoch_end(e, 1.0 / e, 1.1 / e))
        curves.flush()
        assert curves.lr_plot.vb.viewRange()[0][1] <= 970 * 1.03  # 97 epochs of 10 steps


def test_a_constant_curve_gets_a_range_of_its_own_size(curves):
    """pyqtgraph widens a zero range by +-0.5 whatever the value (0.2 .. 1.2 here)."""
    curves.handle_events(run_events([0.7] * 6, [0.7] * 6, batches_per_epoch=1))
    curves.set_smoothing(0.0)
    curves.flush()
    lo, hi = curves.loss_plot.vb.viewRange()[1]  # train, validation and batch losses all 0.7
    assert lo < 0.7 < hi and 0.03 < hi - lo < 0.2
