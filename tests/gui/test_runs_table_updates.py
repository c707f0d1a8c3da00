"""The runs table takes a reloaded history without a reset: runs added before or after the ones
shown are inserted, and only the rows whose run changed are announced (a reset made the filter
proxy ask every one of 10 000 rows again on the GUI thread at every run's start and end)."""

from __future__ import annotations

import dataclasses

from workbench.core.runs import RunRecord
from workbench.gui.runs.table_model import RunFilterProxy, RunTableModel, plan_update


def _record(run_id: int, status: str = "finished") -> RunRecord:
    fields = {f.name: None for f in dataclasses.fields(RunRecord)}
    fields.update(id=run_id, name=f"run {run_id}", created=1.0e9 + run_id, status=status, stored_status=status,
                  spec_json="{}", dataset="d.csv", task="classification", model_summary="MLP", optimizer="Adam",
                  device="cpu", epochs=1, metrics={}, best_val_metric="val_accuracy", message="", tags=[],
                  notes="", host="", run_dir="")
    return RunRecord(**fields)


def _watch(model: RunTableModel) -> list:
    seen: list = []
    model.modelReset.connect(lambda: seen.append(("reset",)))
    model.rowsInserted.connect(lambda _p, first, last: seen.append(("inserted", first, last)))
    model.dataChanged.connect(lambda a, b, _roles=(): seen.append(("changed", a.row(), b.row())))
    return seen


def test_a_new_run_is_inserted_and_only_changed_rows_are_announced(qtbot):
    model = RunTableModel()
    proxy = RunFilterProxy()
    proxy.setSourceModel(model)
    old = [_record(i) for i in range(3, 0, -1)]  # newest first, as the store lists them
    model.set_records(old)
    seen = _watch(model)
    new = [_record(4, "running"), _record(3), _record(2, "stopped"), _record(1)]
    version, shown = model.snapshot()
    plan = plan_update(shown, new)
    assert plan == ("grow", (1, 0, [1]))  # one run before, run 2's row changed
    model.set_records(new, plan=(version, plan))
    assert seen == [("inserted", 0, 0), ("changed", 2, 2)]
    assert [model.record_at(r).id for r in range(4)] == [4, 3, 2, 1] and model.row_of(2) == 2
    assert proxy.rowCount() == 4 and model.record(2).status == "stopped"


def test_a_stale_plan_or_a_different_list_is_handled(qtbot):
    model = RunTableModel()
    model.set_records([_record(1), _record(2)])
    version, shown = model.snapshot()
    plan = plan_update(shown, [_record(1), _record(2), _record(3)])
    model.set_records([_record(2), _record(1)])  # the rows changed meanwhile: the plan is stale
    seen = _watch(model)
    model.set_records([_record(1), _record(2), _record(3)], plan=(version, plan))
    assert seen == [("reset",)] and [model.record_at(r).id for r in range(3)] == [1, 2, 3]
    assert plan_update([_record(1), _record(2)], [_record(2), _record(3)]) == ("reset", None)  # one went
    assert plan_update([_record(1)], [_record(1)]) == ("grow", (0, 0, []))  # nothing to announce
