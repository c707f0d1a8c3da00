"""Branch and resume: both start a child run from a checkpoint of a parent (core.experiments).

Branch… loads the parent's spec into the panels and makes the session's next Train continue from
the parent's last checkpoint (the person edits lr, epochs… first). Branching from the live run
(paused or running) first stops it, which leaves last.pt at its last completed epoch, then
branches from that. Resume trains a stopped run's own spec from its last checkpoint at once."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal

from workbench.core.runs import ExperimentError, branch_plan, resume_plan


class BranchController(QObject):
    message = Signal(str)  # what happened, or why not, in words
    branch_ready = Signal(object)  # the BranchPlan now pending in the session

    def __init__(self, session, get_store: Callable, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._get_store = get_store
        self._after_stop: int | None = None
        session.run_state_changed.connect(self._on_state)

    def is_live(self, record) -> bool:
        live = self.session.current_run_dir
        return (record.status == "running" and live is not None and record.run_dir == str(live)
                and self.session.state != "idle")

    def branch(self, run_id: int, changes: dict | None = None) -> None:
        store = self._get_store()
        record = store.get_run(run_id)
        if self.is_live(record):
            self._after_stop = run_id  # branch once the run has stopped and saved its checkpoint
            self.message.emit(f"Stopping run #{run_id} to branch from its last completed epoch…")
            self.session.stop()
            return
        try:
            plan = branch_plan(store, run_id, changes)
        except (ExperimentError, KeyError) as err:
            self.message.emit(str(err).strip("'\""))
            return
        self.session.set_spec(plan.spec, text=f"Branch from run #{run_id}")
        self.session.set_next_run(plan)  # the runs panel says what the next Train does
        self.branch_ready.emit(plan)

    def resume(self, run_id: int) -> bool:
        try:
            plan = resume_plan(self._get_store(), run_id)
        except (ExperimentError, KeyError) as err:
            self.message.emit(str(err).strip("'\""))
            return False
        if not self.session.train(plan.spec, **plan.options()):
            self.message.emit("Cannot resume now: " + (self.session.validity[1] or "a run is going"))
            return False
        self.message.emit(f"Resuming #{run_id} from epoch {plan.from_epoch} as a child run")
        return True

    def cancel_branch(self) -> None:
        if self.session.next_run is not None:
            self.session.set_next_run(None)
            self.message.emit("Branch cancelled: Train starts a fresh run")

    def _on_state(self, state: str) -> None:
        if state == "idle" and self._after_stop is not None:
            run_id, self._after_stop = self._after_stop, None
            self.branch(run_id)
