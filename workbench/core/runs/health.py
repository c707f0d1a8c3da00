"""A run's health record in the store: the monitor's samples (events of kind "health", written a
batch at a time) and its alerts (kind "alert"), turned back into HealthSample / HealthAlert so a
past run's health view draws exactly like a live one."""

from __future__ import annotations

import math
from dataclasses import asdict, fields
from typing import Any

from workbench.core.runs.store import RunStore
from workbench.core.training import HealthAlert, HealthSample

__all__ = ["HEALTH_KIND", "ALERT_KIND", "sample_row", "alert_row", "stored_health"]

HEALTH_KIND = "health"
ALERT_KIND = "alert"
_SAMPLE_LISTS = ("grad_norm", "update_ratio", "act_mean", "act_std", "dead_fraction")


def _json_number(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _number(v: Any) -> float:
    return math.nan if v is None else float(v)


def sample_row(s: HealthSample) -> tuple[str, int, int, dict]:
    """(kind, epoch, step, data) for RunStore.log_events; NaN becomes null."""
    data = {k: [_json_number(float(x)) for x in getattr(s, k)] for k in _SAMPLE_LISTS}
    data.update(layers=list(s.layers), total_grad_norm=_json_number(s.total_grad_norm), lr=_json_number(s.lr))
    return HEALTH_KIND, s.epoch, s.step, data


def alert_row(a: HealthAlert) -> tuple[str, int, int, dict]:
    """(kind, epoch, step, data) of an alert for RunStore.log_events; NaN becomes null."""
    data = {k: v for k, v in asdict(a).items() if k not in ("epoch", "step")}
    data["value"] = _json_number(float(a.value))
    return ALERT_KIND, a.epoch, a.step, data


def stored_health(store: RunStore, run_id: int) -> tuple[list[HealthSample], list[HealthAlert]]:
    """The samples and alerts recorded with run `run_id`, in the order they happened."""
    samples: list[HealthSample] = []
    alerts: list[HealthAlert] = []
    alert_fields = {f.name for f in fields(HealthAlert)}
    for ev in store.events(run_id, kinds=(HEALTH_KIND, ALERT_KIND)):
        d, epoch, step = ev["data"], int(ev["epoch"] or 0), int(ev["step"] or 0)
        if ev["kind"] == HEALTH_KIND:
            samples.append(HealthSample(
                epoch=epoch, step=step, layers=list(d.get("layers", [])),
                **{k: [_number(x) for x in d.get(k, [])] for k in _SAMPLE_LISTS},
                total_grad_norm=_number(d.get("total_grad_norm")), lr=_number(d.get("lr")),
            ))
        else:
            kw = {k: v for k, v in d.items() if k in alert_fields}
            kw["value"] = _number(kw.get("value"))
            alerts.append(HealthAlert(epoch=epoch, step=step, **kw))
    return samples, alerts
