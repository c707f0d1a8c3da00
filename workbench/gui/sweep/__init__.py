"""The sweep GUI: a dialog that builds a search space by clicking, a runner that drives
`core.sweep.run_sweep` off the GUI thread, and a panel with the live trial table, curves and
the linked parallel-coordinates / scatter / importance views.

Wiring (main window):

    panel = SweepPanel(store_path=session.store_path)        # a dock or tab
    panel.use_spec.connect(session.set_spec)                 # "Use best"
    action "Run ▸ Sweep…": panel.new_sweep(session.spec, session.base_dir)
    on close: panel.shutdown()
"""

from .config import SweepConfig, metric_choices
from .dialog import SweepDialog
from .panel import SweepPanel
from .runner import SweepRunner

__all__ = ["SweepConfig", "SweepDialog", "SweepPanel", "SweepRunner", "metric_choices"]
