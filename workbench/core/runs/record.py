"""What the run store holds about a run: RunRecord (one row of `runs`, parsed) and how values
are cleaned on their way in (NaN/inf are not JSON)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from workbench.core.processes import HOST, process_alive

from workbench.core.catalog import metric_direction

if TYPE_CHECKING:  # spec imports pydantic only; kept lazy so listing runs stays light
    from workbench.core.spec import ExperimentSpec

__all__ = ["RunRecord", "COLUMNS", "BEST_METRICS", "record_from_row", "json_or_empty", "finite",
           "clean_metrics", "model_summary_text"]

# Which validation metric a run's "best" is, in order of preference, and its direction.
BEST_METRICS: tuple[tuple[str, str], ...] = tuple(
    (key, metric_direction(key)) for key in ("val_accuracy", "val_r2", "val_loss", "loss"))


@dataclass
class RunRecord:
    id: int
    name: str
    created: float  # unix time
    status: str  # running | finished | stopped | failed | interrupted (derived)
    stored_status: str  # what the database holds
    spec_json: str
    dataset: str
    task: str
    model_summary: str
    optimizer: str
    lr: float | None
    device: str
    duration: float | None
    epochs: int  # epochs completed (logged)
    metrics: dict[str, float]
    best_val: float | None
    best_val_metric: str
    best_epoch: int | None
    message: str
    parent_id: int | None
    sweep_id: int | str | None
    tags: list[str]
    notes: str
    pid: int | None
    host: str
    run_dir: str
    total_params: int | None
    finished_at: float | None

    @cached_property
    def spec(self) -> "ExperimentSpec":
        from workbench.core.spec import parse_spec

        return parse_spec(self.spec_json, source=f"run {self.id}")

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created)

    @property
    def test_metric(self) -> tuple[str, float] | None:
        """The headline test metric: accuracy for classification, R² for regression."""
        for key in ("test_accuracy", "test_r2", "test_loss"):
            v = self.metrics.get(key)
            if v is not None:
                return key, v
        return None

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d.pop("spec_json")
        d["created_iso"] = self.created_at.isoformat(timespec="seconds")
        return d


COLUMNS = (
    "id, name, created, status, spec_json, dataset, task, model_summary, optimizer, lr, device, "
    "duration, epochs_done, metrics_json, best_val, best_val_metric, best_epoch, message, "
    "parent_id, sweep_id, tags, notes, pid, pid_token, host, run_dir, total_params, finished"
)


def json_or_empty(text: str | None, empty: Any) -> Any:
    """Parsed JSON text; an empty value of `empty`'s type for NULL, "", "[]" or "{}"."""
    if not text or text in ("[]", "{}"):
        return type(empty)()
    return json.loads(text)


def record_from_row(row: tuple) -> RunRecord:
    """A RunRecord from a row of `COLUMNS` (plain tuples: sqlite3.Row by name is 3x slower)."""
    (id_, name, created, status, spec_json, dataset, task, model_summary, optimizer, lr, device,
     duration, epochs_done, metrics_json, best_val, best_val_metric, best_epoch, message,
     parent_id, sweep_id, tags, notes, pid, pid_token, host, run_dir, total_params, finished) = row
    stored = status
    if status == "running" and host == HOST and pid is not None and not process_alive(pid, pid_token):
        status = "interrupted"
    return RunRecord(
        id_, name, created, status, stored, spec_json, dataset or "", task or "", model_summary or "",
        optimizer or "", lr, device or "", duration, epochs_done or 0, json_or_empty(metrics_json, {}), best_val,
        best_val_metric or "", best_epoch, message or "", parent_id, sweep_id, json_or_empty(tags, []), notes or "",
        pid, host or "", run_dir or "", total_params, finished,
    )


def finite(v: Any) -> float | None:
    """float(v) when it is a finite number, else None."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def clean_metrics(d: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe copy: NaN/inf become None (SQLite's JSON and ours reject them)."""
    out: dict[str, Any] = {}
    for k, v in (d or {}).items():
        if isinstance(v, bool) or v is None or isinstance(v, str):
            out[k] = v
        elif isinstance(v, (int, float)) or hasattr(v, "__float__"):
            f = float(v)
            out[k] = f if math.isfinite(f) else None
        else:
            out[k] = v
    return out


def model_summary_text(spec: "ExperimentSpec") -> str:
    """A one-line description of the layer stack, e.g. 'Linear(64) ReLU Linear(auto)'."""
    parts = []
    for layer in spec.model.layers:
        p = layer.params
        size = p.get("out_features", p.get("out_channels", p.get("hidden_size")))
        if layer.type == "Residual" and layer.layers:
            parts.append(f"Residual[{len(layer.layers)}]")
        elif size is not None:
            parts.append(f"{layer.type}({size})")
        else:
            parts.append(layer.type)
    return " ".join(parts)
