"""Main-window wiring for experiments: the Sweeps page, Run ▸ Sweep… / Run with K seeds… /
Branch… / Resume, and the runs panel's messages in the status bar. Kept here so main_window.py
only calls `install(window)` and `shutdown(window)`."""

from __future__ import annotations

from workbench.core.sweep import TrialFailed, TrialFinished, TrialStarted

_TRIAL_EVENTS = (TrialStarted, TrialFinished, TrialFailed)


def install(window) -> None:
    from workbench.gui.sweep import SweepPanel

    session, runs = window.session, window.runs_panel
    panel = SweepPanel(store_path=session.store_path)
    panel.spec_source = lambda: (session.spec, session.base_dir)
    panel.use_spec.connect(lambda spec: session.set_spec(spec, text="Use the sweep's best settings"))
    panel.running_changed.connect(lambda _running: runs.refresh())  # trials are ordinary runs (tag "sweep")
    panel.runner.events.connect(lambda events: any(isinstance(e, _TRIAL_EVENTS) for e in events) and runs.refresh())
    window.sweep_panel = panel
    window.add_page("sweeps", "Sweeps", panel,
                    tip="Search hyperparameters: trials, parallel coordinates, importance, use the best")

    def open_sweep() -> None:
        window.show_page("sweeps")
        panel.new_sweep(session.spec, session.base_dir)

    def selected_one():
        records = runs.selected_records()
        if len(records) != 1:
            runs.show_message("Select one run in the Runs table first")
            return None
        return records[0]

    window.sweep_action = window._action("S&weep…", open_sweep, "Ctrl+Shift+E", None,
                                         "Search hyperparameters: define a space and run trials in parallel")
    window.seeds_action = window._action("Run with K &seeds…", runs.ask_seeds, None, None,
                                         "Train the current settings K times with different seeds, as one group")
    window.branch_action = window._action(
        "&Branch from selected run…", lambda: (r := selected_one()) and runs.branching.branch(r.id), None, None,
        "Continue the selected run from its checkpoint with changed settings, as a child run")
    window.resume_action = window._action(
        "Res&ume selected run", lambda: (r := selected_one()) and runs.branching.resume(r.id), None, None,
        "Continue the selected stopped run from its last checkpoint, as a child run")
    run_menu = window.run_menu
    run_menu.addSeparator()
    run_menu.addActions([window.seeds_action, window.sweep_action])
    run_menu.addSeparator()
    run_menu.addActions([window.branch_action, window.resume_action])
    runs.status.connect(lambda text: text and window.statusBar().showMessage(text, 8000))


def shutdown(window, wait: bool = True) -> None:
    """Stop a running sweep; `wait`: give it up to 2 s to close its workers (else it closes
    them on its own thread)."""
    panel = getattr(window, "sweep_panel", None)
    if panel is not None:
        panel.shutdown(2.0 if wait else 0.0)
