"""RunStore: every run, its spec, its epochs, events and artifacts, in one SQLite file.

Written as the run goes: each `log_epoch` is its own short committed transaction, so a killed
process loses at most the epoch in progress. Several processes (sweep workers, the GUI, the
CLI) may write at once: the database is in WAL mode, every connection waits on a busy lock
(`busy_timeout`) and every write is one short `BEGIN IMMEDIATE` transaction.

POSIX advisory locks belong to the process: when anything else in this process opens and closes
one of the store's files (a file dialog guessing file types, say), SQLite's locks are silently
dropped, and another process closing its connection then checkpoints and deletes the WAL this
one still writes into (https://www.sqlite.org/howtocorrupt.html, 2.2). The GUI's file dialogs
never open files (gui/file_dialogs.py); as a second guard every store operation checks that the
-wal and -shm files are still the ones it opened, and reconnects (before writing anything into a
deleted file) when they are not.

A run still marked "running" whose process is gone (same host) reads as "interrupted".
The schema and its migrations are in schema.py (an older file is upgraded in place when
opened); RunRecord, the parsed row, is in record.py.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from workbench.core.locations import STORE_ENV, user_data_dir
from workbench.core.processes import HOST, proc_start_token
from workbench.core.runs.errors import StoreError
from workbench.core.runs.record import (
    BEST_METRICS,
    COLUMNS,
    RunRecord,
    clean_metrics,
    finite,
    json_or_empty,
    model_summary_text,
    record_from_row,
)
from workbench.core.runs.schema import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:  # spec imports pydantic only; kept lazy so listing runs stays light
    from workbench.core.spec import ExperimentSpec

STATUSES = ("running", "finished", "stopped", "failed")  # stored; "interrupted" is derived
ENV_VAR = STORE_ENV
BUSY_TIMEOUT_MS = 30_000
log = logging.getLogger(__name__)


def default_store_path() -> Path:
    """$WORKBENCH_STORE, else runs.db in the user data folder (see core.locations)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return user_data_dir() / "runs.db"


# ---- the store -----------------------------------------------------------------------------
class RunStore:
    """The run history in one SQLite file. Thread-safe; one instance per process.

    Pickles as its path only, so a child process reopens the same file.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._wal_identity: tuple | None = None
        self.reconnects = 0  # times the store found its WAL replaced and reconnected
        self._open()

    # ---- connection ----------------------------------------------------------------------
    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the run store {self.path}: {exc}") from None
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        try:
            while True:
                try:
                    self._configure(db)
                    break
                except sqlite3.OperationalError as exc:
                    # Two processes making a new store at once: switching it to WAL (and the first
                    # migration) can report "locked" at once instead of waiting on the busy handler
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        except sqlite3.DatabaseError as exc:
            db.close()
            self._db = None
            raise StoreError(f"{self.path} is not a usable Workbench run store: {exc}") from None

    def _configure(self, db: sqlite3.Connection) -> None:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL survives a killed process
        db.execute("PRAGMA foreign_keys = ON")
        self._db = db
        self._migrate()
        self._wal_identity = self._wal_files()

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The run store {self.path} was written by a newer Workbench (schema {version}, "
                f"this one understands {SCHEMA_VERSION}); update Workbench or use another store."
            )
        if version == SCHEMA_VERSION:
            return
        with self._write() as db:
            # re-read inside the write lock: another process may have migrated meanwhile
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for target in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[target](db)
                db.execute(f"PRAGMA user_version = {target}")

    def _wal_files(self) -> tuple | None:
        """(device, inode) of the -wal and -shm files, or None when either is missing."""
        found = []
        for suffix in ("-wal", "-shm"):
            try:
                st = os.stat(f"{self.path}{suffix}")
            except OSError:
                return None
            found.append((st.st_dev, st.st_ino))
        return tuple(found)

    def _reconnect_if_wal_replaced(self) -> None:
        """While this connection is open no other can delete the WAL (closing needs the exclusive
        lock this one's shared lock blocks), so a missing or different WAL means our locks were
        lost: reopen before anything is written into the deleted file."""
        if self._wal_identity is None or self._wal_files() == self._wal_identity:
            return
        log.warning("The run store %s lost its file locks (something in this process opened and closed "
                    "its files, or another program removed its -wal/-shm files); reconnected. Every run "
                    "recorded so far is kept.", self.path)
        self.reconnects += 1
        self._db.close()
        self._db, self._wal_identity = None, None
        self._open()

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"The run store {self.path} is closed")
        self._reconnect_if_wal_replaced()
        return self._db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; BEGIN IMMEDIATE takes the write lock up front, so a busy
        database waits (busy_timeout) instead of failing on a lock upgrade."""
        with self._lock:
            db = self._conn
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            else:
                db.execute("COMMIT")

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only SQL query on this store (for readers that need one column of
        many runs, such as the runs table's spec values)."""
        return self._read(sql, args)

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        return {"path": str(self.path)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    # ---- writing a run -------------------------------------------------------------------
    def create_run(
        self,
        spec: "ExperimentSpec",
        *,
        name: str | None = None,
        device: str = "",
        parent_id: int | None = None,
        sweep_id: int | str | None = None,
        tags: Sequence[str] = (),
        task: str = "",
        run_dir: str | os.PathLike = "",
        total_params: int | None = None,
        model_summary: str | None = None,
        pid: int | None = None,
    ) -> int:
        """Record a new run as "running" owned by this process (or `pid`); returns its id."""
        pid = os.getpid() if pid is None else pid
        lr = finite(spec.optimizer.params.get("lr"))
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO runs (name, created, status, spec_json, dataset, task, model_summary, optimizer,"
                " lr, device, parent_id, sweep_id, tags, notes, pid, pid_token, host, run_dir, total_params)"
                " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)",
                (
                    name or spec.name,
                    time.time(),
                    spec.to_json(indent=None) if hasattr(spec, "to_json") else str(spec),
                    spec.data.source,
                    task,
                    model_summary if model_summary is not None else model_summary_text(spec),
                    spec.optimizer.type,
                    lr,
                    device,
                    parent_id,
                    sweep_id,
                    json.dumps(list(tags)),
                    pid,
                    proc_start_token(pid),
                    HOST,
                    str(run_dir) if run_dir else "",
                    total_params,
                ),
            )
            return int(cur.lastrowid)

    def update_run(self, run_id: int, **fields: Any) -> None:
        """Set descriptive columns learnt after creation (device, task, run_dir, total_params,
        model_summary, name)."""
        allowed = {"device", "task", "run_dir", "total_params", "model_summary", "name", "dataset"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"update_run cannot set {sorted(bad)}; allowed: {sorted(allowed)}")
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        values = [str(v) if k == "run_dir" else v for k, v in fields.items()]
        with self._write() as db:
            db.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*values, run_id))

    def log_epoch(self, run_id: int, epoch: int, logs: dict[str, float]) -> None:
        """Record one finished epoch (committed at once) and update the run's best value."""
        clean = clean_metrics(logs)
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, logs) VALUES (?, ?, ?)",
                (run_id, int(epoch), json.dumps(clean)),
            )
            row = db.execute("SELECT best_val, best_val_metric FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise KeyError(f"no run with id {run_id}")
            best, metric = row
            if not metric:
                metric = next((k for k, _ in BEST_METRICS if finite(clean.get(k)) is not None), "")
            value = finite(clean.get(metric)) if metric else None
            best_epoch = None
            if value is not None:
                mode = dict(BEST_METRICS)[metric]
                if best is None or (value > best if mode == "max" else value < best):
                    best, best_epoch = value, int(epoch)
            db.execute(
                "UPDATE runs SET epochs_done = MAX(epochs_done, ?), best_val_metric = ?, best_val = ?,"
                " best_epoch = COALESCE(?, best_epoch) WHERE id = ?",
                (int(epoch), metric, best, best_epoch, run_id),
            )

    def log_event(self, run_id: int, kind: str, epoch: int, step: int, data: dict | None = None) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO events (run_id, kind, epoch, step, data, created) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, kind, epoch, step, json.dumps(clean_metrics(data or {})), time.time()),
            )

    def log_events(self, run_id: int, rows: Sequence[tuple[str, int, int, dict]]) -> None:
        """Several events (kind, epoch, step, data) in one transaction; data must be JSON-safe
        (the health monitor's samples, written a batch at a time)."""
        if not rows:
            return
        now = time.time()
        with self._write() as db:
            db.executemany(
                "INSERT INTO events (run_id, kind, epoch, step, data, created) VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, kind, epoch, step, json.dumps(data), now) for kind, epoch, step, data in rows],
            )

    def finish_run(
        self, run_id: int, status: str, metrics: dict[str, float], duration: float, message: str = ""
    ) -> None:
        if status not in STATUSES or status == "running":
            raise ValueError(f"status must be one of finished, stopped, failed (got {status!r})")
        with self._write() as db:
            db.execute(
                "UPDATE runs SET status = ?, metrics_json = ?, duration = ?, message = ?, finished = ?"
                " WHERE id = ?",
                (status, json.dumps(clean_metrics(metrics)), finite(duration), message, time.time(), run_id),
            )

    def add_artifact(self, run_id: int, kind: str, path: str | os.PathLike) -> None:
        """Record a file of the run; re-adding the same kind and path is a no-op."""
        with self._write() as db:
            exists = db.execute(
                "SELECT 1 FROM artifacts WHERE run_id = ? AND kind = ? AND path = ?", (run_id, kind, str(path))
            ).fetchone()
            if not exists:
                db.execute(
                    "INSERT INTO artifacts (run_id, kind, path, created) VALUES (?, ?, ?, ?)",
                    (run_id, kind, str(path), time.time()),
                )

    # ---- editing -------------------------------------------------------------------------
    def rename(self, run_id: int, name: str) -> None:
        self._update_one(run_id, "name", name)

    def set_tags(self, run_id: int, tags: Sequence[str]) -> None:
        self._update_one(run_id, "tags", json.dumps([str(t) for t in tags]))

    def set_notes(self, run_id: int, notes: str) -> None:
        self._update_one(run_id, "notes", notes)

    def _update_one(self, run_id: int, column: str, value: Any) -> None:
        with self._write() as db:
            if db.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (value, run_id)).rowcount == 0:
                raise KeyError(f"no run with id {run_id}")

    def delete_run(self, run_id: int, *, delete_files: bool = False) -> None:
        """Delete a run with its epochs, events and artifact records (children keep living,
        detached). With delete_files, the run's files go too, but only those inside the run's own
        folder (see `own_files`): a path the store lists elsewhere (an edited or shared store) is
        left alone. The folder itself is removed once empty."""
        folder, files = self.own_files(run_id) if delete_files else (None, [])
        with self._write() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        for path in files:
            path.unlink(missing_ok=True)
        if folder is not None:
            try:
                folder.rmdir()
            except OSError:
                pass  # not empty (files the store does not list) or already gone

    def own_files(self, run_id: int) -> tuple[Path | None, list[Path]]:
        """The run's own folder and the artifact files the store lists inside it. A folder that
        holds the store itself (the store's folder or one above it) is nobody's own: None."""
        rows = self._read("SELECT run_dir FROM runs WHERE id = ?", (run_id,))
        if not rows or not rows[0][0]:
            return None, []
        folder = Path(rows[0][0]).expanduser().resolve()
        if self.path.resolve().parent.is_relative_to(folder):
            return None, []
        files = []
        for art in self.artifacts(run_id):
            path = Path(art["path"]).expanduser().resolve()
            if path != folder and path.is_relative_to(folder):
                files.append(path)
        return folder, files

    # ---- reading -------------------------------------------------------------------------
    def list_runs(
        self,
        limit: int | None = None,
        *,
        status: str | None = None,
        sweep_id: int | str | None = None,
        parent_id: int | None = None,
        dataset: str | None = None,
        tag: str | None = None,
        search: str | None = None,
        offset: int = 0,
    ) -> list[RunRecord]:
        """Newest first. `status` may be "interrupted" (derived) or a stored status."""
        where, args = [], []
        if status is not None:
            where.append("status = ?")
            args.append("running" if status == "interrupted" else status)
        if sweep_id is not None:
            where.append("sweep_id = ?")
            args.append(sweep_id)
        if parent_id is not None:
            where.append("parent_id = ?")
            args.append(parent_id)
        if dataset is not None:
            where.append("dataset = ?")
            args.append(dataset)
        if tag is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE value = ?)")
            args.append(tag)
        if search:
            where.append("(name LIKE ? OR notes LIKE ? OR dataset LIKE ?)")
            args.extend([f"%{search}%"] * 3)
        sql = f"SELECT {COLUMNS} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created DESC, id DESC"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            args.extend([-1 if limit is None else int(limit), int(offset)])
        records = [record_from_row(r) for r in self._read(sql, args)]
        if status in ("running", "interrupted"):
            records = [r for r in records if r.status == status]
        return records

    def count_runs(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM runs")[0][0])

    def get_run(self, run_id: int) -> RunRecord:
        rows = self._read(f"SELECT {COLUMNS} FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise KeyError(f"no run with id {run_id}")
        return record_from_row(rows[0])

    def runs_for_sweep(self, sweep_id: int | str) -> list[RunRecord]:
        rows = self._read(f"SELECT {COLUMNS} FROM runs WHERE sweep_id = ? ORDER BY id", (sweep_id,))
        return [record_from_row(r) for r in rows]

    def children(self, run_id: int) -> list[RunRecord]:
        rows = self._read(f"SELECT {COLUMNS} FROM runs WHERE parent_id = ? ORDER BY id", (run_id,))
        return [record_from_row(r) for r in rows]

    def epochs(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._read("SELECT epoch, logs FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,))
        return [{"epoch": epoch, **json.loads(logs)} for epoch, logs in rows]

    def events(self, run_id: int, kinds: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The run's events in order; only those of `kinds` when given."""
        where, args = "run_id = ?", [run_id]
        if kinds is not None:
            where += f" AND kind IN ({', '.join('?' * len(kinds))})"
            args += list(kinds)
        rows = self._read(f"SELECT kind, epoch, step, data, created FROM events WHERE {where} ORDER BY id", args)
        return [
            {"kind": kind, "epoch": epoch, "step": step, "data": json_or_empty(data, {}), "created": created}
            for kind, epoch, step, data, created in rows
        ]

    def target_scaler(self, run_id: int):
        """The standardisation of the regression target this run trained with (a data
        TargetScaler: `to_units(model_outputs)` gives predictions in the target's own units),
        or None (classification, data.standardize_target off, or a run recorded before targets
        were standardised)."""
        from workbench.core.data import TargetScaler

        rows = self._read("SELECT data FROM events WHERE run_id = ? AND kind = 'started' ORDER BY id DESC LIMIT 1",
                          (run_id,))
        return TargetScaler.from_dict(json_or_empty(rows[0][0], {}).get("target_scaler")) if rows else None

    def artifacts(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._read("SELECT kind, path, created FROM artifacts WHERE run_id = ? ORDER BY id", (run_id,))
        return [{"kind": kind, "path": path, "created": created} for kind, path, created in rows]
