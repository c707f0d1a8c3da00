"""Overlaid runs never take a live curve's colour, and layers are numbered from 1 in the sweep
dialog as on the Model page (issue 8, item 12; "Use best" asking first is in test_sweep_panel)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

from workbench.core.spec import parse_spec
from workbench.core.sweep import sweepable_paths
from workbench.gui.plots.palette import PlotColors
from workbench.gui.sweep.panel import short_label


def _hue_distance(a: QColor, b: QColor) -> float:
    d = abs(a.hsvHueF() - b.hsvHueF())
    return min(d, 1 - d)


def test_overlay_colours_stay_clear_of_the_live_roles(qtbot):
    for dark in (False, True):
        palette = QPalette()
        palette.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e" if dark else "#ffffff"))
        colors = PlotColors(palette)
        roles = [colors.role(r) for r in ("train", "val", "lr")]  # the live curves
        for c in colors.overlay_colors(24):
            for role in roles:
                if c.hsvSaturationF() > 0.25:  # greys have no hue to confuse
                    assert _hue_distance(c, role) > 0.04, (c.name(), role.name())


def test_overlay_of_a_past_run_is_not_the_lr_green(qtbot):
    from workbench.gui.plots.live_curves import LiveCurves

    curves = LiveCurves()
    qtbot.addWidget(curves)
    rows = [{"epoch": e, "step": 10.0 * e, "elapsed": 0.1 * e, "loss": 1 / e, "val_loss": 1.1 / e, "lr": 0.01}
            for e in range(1, 6)]
    curves.show_runs([("#1", rows, None), ("#2", rows, None), ("#3", rows, None)])
    lr_green = PlotColors(curves.palette()).role("lr")
    for overlay in curves.overlays:
        assert _hue_distance(overlay.color, lr_green) > 0.04, overlay.color.name()


def test_sweep_dialog_numbers_layers_from_one():
    spec = parse_spec({"model": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                                            {"type": "Residual", "layers": [{"type": "Linear", "out_features": 8}]},
                                            {"type": "Linear", "out_features": "auto"}]}})
    labels = dict(sweepable_paths(spec))
    assert labels["model.layers.0.out_features"].startswith("Layer 1 (Linear)")
    assert labels["model.layers.2.layers.0.out_features"].startswith("Layer 3.1 (Linear)")
    assert not any(label.startswith("Layer 0") for label in labels.values())
    assert short_label("model.layers.0.out_features") == "L1 out_features"
    assert short_label("model.layers.2.layers.0.out_features") == "L3.1 out_features"
