"""Branch and resume: both start a child run from a checkpoint of a parent (core.runs lineage).

Branch… loads the parent's spec into the panels and makes the session's next Train continue from
the parent's last checkpoint (the person edits lr, epochs… first). Branching from the live run
(paused or running) first stops it, which leaves last.pt at its last completed epoch, then
branches from that. Resume trains a stopped run's own spec from its last checkpoint at once.

Reading the parent (the run store, and its checkpoint to learn the epoch) happens on a
background thread with its own store connection; the result is applied on the GUI thread."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal

from workbench.core.runs import ExperimentError, branch_plan, resume_plan
from workbench.gui.background import BackgroundCalls


class BranchController(QObject):
    message = Signal(str)  # what happened, or why not, in words
    branch_ready = Signal(object)  # the BranchPlan now pending in the session

    def __init__(self, session, get_store: Callable, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._get_store = get_store  # called on the background thread: that thread's store
        self._after_stop: int | None = None
        self._calls = BackgroundCalls("branch", self)
        session.run_state_changed.connect(self._on_state)

    def is_live(self, record) -> bool:
        live = self.session.current_run_dir
        return (record.status == "running" and live is not None and record.run_dir == str(live)
                and self.session.state != "idle")

    def branch(self, run_id: int, changes: dict | None = None) -> None:
        """Prepare a branch of run `run_id` (in the background); `branch_ready` when it is pending."""
        self.message.emit(f"Reading run #{run_id}…")
        self._calls.submit(self._read_branch, run_id, changes,
                           on_done=lambda found: self._branch_read(run_id, *found),
                           on_error=lambda err, _details: self._failed(err))

    def _read_branch(self, run_id: int, changes: dict | None):
        """Background thread: the parent's record, and the plan unless it is still running."""
        store = self._get_store()
        record = store.get_run(run_id)
        if record.status == "running":
            return record, None
        return record, branch_plan(store, run_id, changes)

    def _branch_read(self, run_id: int, record, plan) -> None:
        if plan is None:
            if self.is_live(record):
                self._after_stop = run_id  # branch once the run has stopped and saved its checkpoint
                self.message.emit(f"Stopping run #{run_id} to branch from its last completed epoch…")
                self.session.stop()
            else:
                self.message.emit(f"Run #{run_id} is still running: stop it (or pause and branch) first")
            return
        self.session.set_spec(plan.spec, text=f"Branch from run #{run_id}")
        self.session.set_next_run(plan)  # the runs panel says what the next Train does
        self.branch_ready.emit(plan)

    def resume(self, run_id: int) -> None:
        """Train a stopped run on from its last checkpoint, as a child (read in the background)."""
        self.message.emit(f"Reading run #{run_id}…")
        self._calls.submit(lambda: resume_plan(self._get_store(), run_id),
                           on_done=lambda plan: self._start_resume(run_id, plan),
                           on_error=lambda err, _details: self._failed(err))

    def _start_resume(self, run_id: int, plan) -> None:
        if not self.session.train(plan.spec, **plan.options()):
            self.message.emit("Cannot resume now: " + (self.session.validity[1] or "a run is going"))
            return
        self.message.emit(f"Resuming #{run_id} from epoch {plan.from_epoch} as a child run")

    def _failed(self, err: BaseException) -> None:
        if isinstance(err, (ExperimentError, KeyError)):
            self.message.emit(str(err).strip("'\""))
        else:
            self.message.emit(f"Could not read the run: {err}")

    def shutdown(self) -> None:
        self._calls.shutdown()

    def cancel_branch(self) -> None:
        if self.session.next_run is not None:
            self.session.set_next_run(None)
            self.message.emit("Branch cancelled: Train starts a fresh run")

    def _on_state(self, state: str) -> None:
        if state == "idle" and self._after_stop is not None:
            run_id, self._after_stop = self._after_stop, None
            self.branch(run_id)
